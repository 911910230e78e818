//! Runs a Python script under the engine, the way an enclave does (the
//! folder's files in an in-memory VFS, an 8 MiB stack): `pyrun DIR ENTRY
//! [ARGS...]`. Prints the outcome to stderr; exits with its status.
//! `PYRUN_RECURSION` sets the engine's recursion limit, `PYRUN_INSTRUCTIONS`
//! an instruction budget (which installs the limit hook).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_python::PythonEngine;

fn collect(dir: &Path, root: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).expect("readable folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, files);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let rel = path.strip_prefix(root).expect("under root");
            files.insert(rel.to_string_lossy().into_owned(), bytes);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, entry, rest @ ..] = args.as_slice() else {
        eprintln!("usage: pyrun DIR ENTRY [ARGS...]");
        std::process::exit(2);
    };
    let mut files = BTreeMap::new();
    collect(Path::new(dir), Path::new(dir), &mut files);
    let (entry, rest) = (entry.clone(), rest.to_vec());
    let status = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let mut stdout = std::io::stdout().lock();
            let mut stderr = std::io::stderr();
            let mut engine = PythonEngine::new();
            if let Some(limit) = std::env::var("PYRUN_RECURSION")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                engine = engine.with_recursion_limit(limit);
            }
            let outcome = engine.run(Job {
                entry: &entry,
                args: &rest,
                env: &[],
                stdin: &mut std::io::stdin().lock(),
                stdout: &mut stdout,
                stderr: &mut stderr,
                vfs: &mut vfs,
                clock: &SystemClock,
                limits: Limits {
                    instructions: std::env::var("PYRUN_INSTRUCTIONS")
                        .ok()
                        .and_then(|v| v.parse().ok()),
                    ..Limits::default()
                },
                heap_exceeded: shield_engine::no_heap_budget,
            });
            let _ = stdout.flush();
            if !matches!(outcome, shield_engine::Outcome::Exited(_)) {
                eprintln!("[{outcome:?}]");
            }
            outcome.exit_status()
        })
        .expect("thread")
        .join()
        .expect("run");
    std::process::exit(status);
}
