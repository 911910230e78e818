//! Runs a script natively: `jsrun <dir> <entry> [args...]`, with `<dir>` as
//! the read-only VFS base (writes stay in memory) and the process's stdin.
#![forbid(unsafe_code)]

use shield_engine::vfs::{DirReader, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_js::JsEngine;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, entry, rest @ ..] = args.as_slice() else {
        eprintln!("usage: jsrun <dir> <entry> [args...]");
        std::process::exit(2);
    };
    let mut vfs = Overlay::new(DirReader::new(dir), MemoryWrites::new());
    let outcome = JsEngine::new().run(Job {
        entry,
        args: rest,
        env: &[],
        stdin: &mut std::io::stdin().lock(),
        stdout: &mut std::io::stdout().lock(),
        stderr: &mut std::io::stderr().lock(),
        vfs: &mut vfs,
        clock: &SystemClock,
        limits: Limits::default(),
        heap_exceeded: shield_engine::no_heap_budget,
    });
    std::process::exit(outcome.exit_status());
}
