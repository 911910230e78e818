//! Runs every program of `tests/corpus/<section>/*.nut` under the reference
//! `sq` and under this engine, and compares stdout, stderr and the exit
//! status byte for byte. `sq` exits 0 after an uncaught runtime error and
//! 254 after a compile error; the engine's status for both is 1 (the
//! project's rule for an uncaught error), so those map to 1.

mod support;

use shield_engine::vfs::{DirReader, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_squirrel::SquirrelEngine;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("corpus directory") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "nut") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

struct Run {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: i32,
}

fn run_reference(sq: &Path, file: &Path) -> Run {
    let dir = file.parent().expect("dir");
    let name = file.file_name().expect("name");
    let out = Command::new(sq)
        .arg(name)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("running sq");
    let code = out.status.code().unwrap_or(-1);
    let runtime_error = String::from_utf8_lossy(&out.stderr).contains("AN ERROR HAS OCCURRED");
    let status = if runtime_error || code == 254 {
        1
    } else {
        code
    };
    Run {
        stdout: out.stdout,
        stderr: out.stderr,
        status,
    }
}

fn run_engine(file: &Path) -> Run {
    let dir = file.parent().expect("dir");
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let mut vfs = Overlay::new(DirReader::new(dir), MemoryWrites::new());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let outcome = SquirrelEngine::new().run(Job {
        entry: &name,
        args: &[],
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs: &mut vfs,
        clock: &SystemClock,
        limits: Limits {
            instructions: Some(200_000_000),
            memory_bytes: Some(512 << 20),
            output_bytes: Some(16 << 20),
        },
        heap_exceeded: shield_engine::no_heap_budget,
    });
    Run {
        stdout,
        stderr,
        status: outcome.exit_status(),
    }
}

#[test]
fn corpus_matches_reference() {
    let sq = match support::reference_sq(Path::new(env!("CARGO_TARGET_TMPDIR"))) {
        Ok(sq) => sq,
        Err(why) => {
            shield_testdata::skip(&format!("squirrel corpus: reference sq unavailable: {why}"));
            return;
        }
    };
    let files = corpus();
    let mut failures = Vec::new();
    for f in &files {
        let want = run_reference(&sq, f);
        let got = run_engine(f);
        let mut what = Vec::new();
        if got.stdout != want.stdout {
            what.push(format!(
                "stdout\n--- sq ---\n{}\n--- ours ---\n{}",
                String::from_utf8_lossy(&want.stdout),
                String::from_utf8_lossy(&got.stdout)
            ));
        }
        if got.stderr != want.stderr {
            what.push(format!(
                "stderr\n--- sq ---\n{}\n--- ours ---\n{}",
                String::from_utf8_lossy(&want.stderr),
                String::from_utf8_lossy(&got.stderr)
            ));
        }
        if got.status != want.status {
            what.push(format!("status: sq {} ours {}", want.status, got.status));
        }
        if !what.is_empty() {
            failures.push(format!("{}: {}", f.display(), what.join("\n")));
        }
    }
    eprintln!(
        "squirrel corpus: {} of {} programs match sq",
        files.len() - failures.len(),
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
