//! Shared helpers of the integration tests: run a script on this VM over a
//! directory or in memory, and run the reference `lua5.4`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use shield_engine::vfs::{DirReader, DirWriter, MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};

/// The enclave thread's stack: every test runs the VM on a thread this size,
/// so host re-entry (metamethods, callbacks, nested resumes) must fit it.
pub(crate) const ENCLAVE_STACK: usize = 8 << 20;

/// Runs `entry` from directory `dir` on this crate's VM in a thread with the
/// enclave's stack (so a host recursion bug shows as a failure, not a hang),
/// with the host's environment as development mode passes it.
pub(crate) fn run_dir(dir: &Path, entry: &str, limits: Limits) -> (Outcome, Vec<u8>, Vec<u8>) {
    let dir = dir.to_path_buf();
    let entry = entry.to_owned();
    let env: Vec<(String, String)> = std::env::vars().collect();
    std::thread::Builder::new()
        .stack_size(ENCLAVE_STACK)
        .spawn(move || {
            let mut vfs = Overlay::new(DirReader::new(&dir), DirWriter::new(&dir));
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let o = shield_lang_lua::LuaVm::new().run(Job {
                entry: &entry,
                args: &[],
                env: &env,
                stdin: &mut std::io::empty(),
                stdout: &mut out,
                stderr: &mut err,
                vfs: &mut vfs,
                clock: &SystemClock,
                limits,
                heap_exceeded: shield_engine::no_heap_budget,
            });
            (o, out, err)
        })
        .expect("spawn")
        .join()
        .unwrap_or_else(|_| (Outcome::Error("panic".into()), Vec::new(), Vec::new()))
}

/// Runs `src` as `main.lua` in memory; `None` when the VM panicked.
pub(crate) fn run_mem(src: &[u8], limits: Limits) -> Option<(Outcome, Vec<u8>, Vec<u8>)> {
    let src = src.to_vec();
    std::thread::Builder::new()
        .stack_size(ENCLAVE_STACK)
        .spawn(move || {
            let mut files = BTreeMap::new();
            files.insert("main.lua".to_owned(), src);
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let o = shield_lang_lua::LuaVm::new().run(Job {
                entry: "main.lua",
                args: &[],
                env: &[],
                stdin: &mut std::io::empty(),
                stdout: &mut out,
                stderr: &mut err,
                vfs: &mut vfs,
                clock: &SystemClock,
                limits,
                heap_exceeded: shield_engine::no_heap_budget,
            });
            (o, out, err)
        })
        .expect("spawn")
        .join()
        .ok()
}

/// Whether `lua5.4` is installed.
pub(crate) fn have_lua() -> bool {
    std::process::Command::new("lua5.4")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A fresh scratch directory for this test process.
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("shield-lang-lua-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}
