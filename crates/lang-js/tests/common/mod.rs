//! Running the engine in tests: in memory, on a thread with the enclave's
//! 8 MiB stack.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};
use shield_lang_js::JsEngine;

/// The enclave's stack.
pub const STACK: usize = 8 << 20;

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Ran {
    pub outcome: Outcome,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `entry` over `files` with `args`, `stdin` and `limits`, on a fresh
/// thread with an 8 MiB stack.
pub fn run(
    files: BTreeMap<String, Vec<u8>>,
    entry: &str,
    args: &[&str],
    stdin: Vec<u8>,
    limits: Limits,
) -> Ran {
    run_with_heap(
        files,
        entry,
        args,
        stdin,
        limits,
        shield_engine::no_heap_budget,
    )
}

/// [`run`] with a heap backstop.
pub fn run_with_heap(
    files: BTreeMap<String, Vec<u8>>,
    entry: &str,
    args: &[&str],
    stdin: Vec<u8>,
    limits: Limits,
    heap_exceeded: fn() -> bool,
) -> Ran {
    let entry = entry.to_owned();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let outcome = JsEngine::new().run(Job {
                entry: &entry,
                args: &args,
                env: &[],
                stdin: &mut stdin.as_slice(),
                stdout: &mut stdout,
                stderr: &mut stderr,
                vfs: &mut vfs,
                clock: &SystemClock,
                limits,
                heap_exceeded,
            });
            Ran {
                outcome,
                stdout,
                stderr,
            }
        })
        .expect("spawn")
        .join()
        .expect("the engine thread must not die")
}

/// Runs one source as `main.js` with generous limits.
pub fn run_source(source: &str, limits: Limits) -> Ran {
    let mut files = BTreeMap::new();
    files.insert("main.js".to_owned(), source.as_bytes().to_vec());
    run(files, "main.js", &[], Vec::new(), limits)
}
