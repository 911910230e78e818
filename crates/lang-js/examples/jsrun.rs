//! Runs a script natively: `jsrun <dir> <entry> [args...]`, with `<dir>` as
//! the read-only VFS base (writes stay in memory) and the process's stdin,
//! on a thread with the enclave's 8 MiB stack. `JSRUN_INSTRUCTIONS` and
//! `JSRUN_MEMORY` (bytes) set limits; without them the run is unlimited.
//! With `JSRUN_MEMORY`, the heap backstop says the budget is exceeded once
//! the process's resident memory passes one and a half times the limit (as
//! the enclave's allocator does), on Linux.
#![forbid(unsafe_code)]

use shield_engine::vfs::{DirReader, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_js::JsEngine;

fn env_limit(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The resident-set budget for [`rss_exceeded`], in bytes.
static RSS_BUDGET: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Whether the process's resident memory is past [`RSS_BUDGET`].
fn rss_exceeded() -> bool {
    let Some(budget) = RSS_BUDGET.get() else {
        return false;
    };
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        });
    pages.is_some_and(|p| p * 4096 > *budget)
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
    if let Some(memory) = limits.memory_bytes {
        let _ = RSS_BUDGET.set(memory.saturating_add(memory / 2));
    }
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
                heap_exceeded: rss_exceeded,
            });
            outcome.exit_status()
        })
        .expect("spawn the engine thread")
        .join()
        .unwrap_or(101);
    std::process::exit(status);
}
