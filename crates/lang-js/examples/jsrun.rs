//! Runs a script natively: `jsrun <dir> <entry> [args...]`, with `<dir>` as
//! the read-only VFS base (writes stay in memory) and the process's stdin,
//! on a thread with the enclave's 8 MiB stack. `JSRUN_INSTRUCTIONS` and
//! `JSRUN_MEMORY` (bytes) set limits; without them the run is unlimited.
#![forbid(unsafe_code)]

use shield_engine::vfs::{DirReader, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_js::JsEngine;

fn env_limit(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, entry, rest @ ..] = args.as_slice() else {
        eprintln!("usage: jsrun <dir> <entry> [args...]");
        std::process::exit(2);
    };
    let (dir, entry, rest) = (dir.clone(), entry.clone(), rest.to_vec());
    let limits = Limits {
        instructions: env_limit("JSRUN_INSTRUCTIONS"),
        memory_bytes: env_limit("JSRUN_MEMORY"),
        ..Limits::default()
    };
    let status = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut vfs = Overlay::new(DirReader::new(dir), MemoryWrites::new());
            let outcome = JsEngine::new().run(Job {
                entry: &entry,
                args: &rest,
                env: &[],
                stdin: &mut std::io::stdin().lock(),
                stdout: &mut std::io::stdout().lock(),
                stderr: &mut std::io::stderr().lock(),
                vfs: &mut vfs,
                clock: &SystemClock,
                limits,
                heap_exceeded: shield_engine::no_heap_budget,
            });
            outcome.exit_status()
        })
        .expect("spawn the engine thread")
        .join()
        .unwrap_or(101);
    std::process::exit(status);
}
