//! Runs a `.nut` file from a directory with the Squirrel engine, as `sq`
//! would: `sqrun <dir> <entry> [args...]`. For corpus work by hand.

use shield_engine::vfs::{DirReader, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_squirrel::SquirrelEngine;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(entry)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: sqrun <dir> <entry> [args...]");
        std::process::exit(2);
    };
    let mut vfs = Overlay::new(DirReader::new(dir), MemoryWrites::new());
    let rest: Vec<String> = args[3..].to_vec();
    let outcome = SquirrelEngine::new().run(Job {
        entry,
        args: &rest,
        env: &[],
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
