//! Running scripts under the engine the way an enclave does: an in-memory
//! VFS, on a thread with the enclave's 8 MiB stack.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::Path;

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Clock, Engine, Job, Limits, Outcome};
use shield_lang_python::PythonEngine;

/// The enclave's stack.
pub const STACK: usize = 8 << 20;

/// What a run produced.
#[derive(Debug)]
pub struct Ran {
    pub outcome: Outcome,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Files the script wrote.
    pub written: BTreeMap<String, Vec<u8>>,
}

/// A clock that never moves: 2023-11-14 22:13:20 UTC, 1.5 CPU seconds.
#[derive(Debug)]
pub struct FakeClock;

impl Clock for FakeClock {
    fn unix_time(&self) -> i64 {
        1_700_000_000
    }
    fn cpu_seconds(&self) -> f64 {
        1.5
    }
}

/// Every file under `dir`, keyed by its path relative to `dir`.
pub fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Runs `entry` among `files` with `stdin`, `args` and `limits`, on a
/// fresh thread with an 8 MiB stack.
pub fn run_with(
    files: BTreeMap<String, Vec<u8>>,
    entry: &str,
    args: &[&str],
    stdin: &[u8],
    limits: Limits,
) -> Ran {
    run_env(files, entry, args, stdin, &[], limits)
}

/// [`run_with`], with environment variables.
pub fn run_env(
    files: BTreeMap<String, Vec<u8>>,
    entry: &str,
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
    limits: Limits,
) -> Ran {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let entry = entry.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.to_vec();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let outcome = PythonEngine::new().run(Job {
                entry: &entry,
                args: &args,
                env: &env,
                stdin: &mut stdin.as_slice(),
                stdout: &mut stdout,
                stderr: &mut stderr,
                vfs: &mut vfs,
                clock: &FakeClock,
                limits,
                heap_exceeded: shield_engine::no_heap_budget,
            });
            let (_, writes) = vfs.into_parts();
            let written = writes.files();
            Ran {
                outcome,
                stdout,
                stderr,
                written,
            }
        })
        .unwrap()
        .join()
        .unwrap()
}

/// Runs a one-file script `source` as `main.py`.
pub fn run(source: &str, limits: Limits) -> Ran {
    let mut files = BTreeMap::new();
    files.insert("main.py".to_owned(), source.as_bytes().to_vec());
    run_with(files, "main.py", &[], b"", limits)
}
