//! Runs a Lua file from a directory on this crate's VM, like `lua5.4 FILE`:
//! `cargo run -p shield-lang-lua --release --example lua -- DIR FILE [ARGS]`.
//! Files are read from and written to DIR; the environment is the host's.

use shield_engine::vfs::{DirReader, DirWriter, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: lua DIR FILE [ARGS...]");
        std::process::exit(2);
    }
    let env: Vec<(String, String)> = std::env::vars().collect();
    let mut vfs = Overlay::new(DirReader::new(&args[0]), DirWriter::new(&args[0]));
    let outcome = shield_lang_lua::LuaVm::new().run(Job {
        entry: &args[1],
        args: &args[2..],
        env: &env,
        stdin: &mut std::io::stdin(),
        stdout: &mut std::io::stdout(),
        stderr: &mut std::io::stderr(),
        vfs: &mut vfs,
        clock: &SystemClock,
        limits: Limits::default(),
        heap_exceeded: shield_engine::no_heap_budget,
    });
    std::process::exit(outcome.exit_status());
}
