//! The differential corpus: every `tests/corpus/p_*.py` runs under the
//! engine (in-memory VFS of the corpus folder, 8 MiB stack) and under
//! CPython (3.13 when present, else loudly whatever `python3` is), and
//! their stdout and exit status must be equal byte for byte.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use shield_engine::Limits;

const STDIN: &[u8] = b"first line\nsecond line\n";
const ARGS: &[&str] = &["alpha", "beta"];

/// A CPython 3.13 (`$SHIELD_CPYTHON`, `python3.13`, pyenv's), else
/// `python3` with a loud note; `None` (skip) when there is none.
fn cpython() -> Option<PathBuf> {
    let works = |p: &Path| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("SHIELD_CPYTHON") {
        candidates.push(p.into());
    }
    candidates.push("python3.13".into());
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(root) = pyenv
        && let Ok(versions) = std::fs::read_dir(root.join("versions"))
    {
        let mut found: Vec<PathBuf> = versions
            .flatten()
            .filter(|v| v.file_name().to_string_lossy().starts_with("3.13"))
            .map(|v| v.path().join("bin/python3.13"))
            .collect();
        found.sort();
        candidates.extend(found);
    }
    if let Some(p) = candidates.into_iter().find(|p| works(p)) {
        return Some(p);
    }
    let fallback = PathBuf::from("python3");
    if works(&fallback) {
        let version = Command::new(&fallback).arg("--version").output().unwrap();
        shield_testdata::skip(&format!(
            "CPython 3.13 not found: comparing against {} instead",
            String::from_utf8_lossy(&version.stdout).trim()
        ));
        return Some(fallback);
    }
    shield_testdata::skip("no CPython found: the differential corpus did not run");
    None
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Copies the corpus to a fresh temporary folder (CPython writes files).
fn scratch_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shield-py-corpus-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, bytes) in common::files_under(&corpus_dir()) {
        let path = dir.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    std::fs::create_dir_all(dir.join("out")).unwrap();
    dir
}

#[test]
fn corpus_matches_cpython() {
    let Some(python) = cpython() else { return };
    let files = common::files_under(&corpus_dir());
    let programs: Vec<String> = files
        .keys()
        .filter(|k| k.starts_with("p_") && k.ends_with(".py") && !k.contains('/'))
        .cloned()
        .collect();
    assert!(programs.len() >= 60, "only {} programs", programs.len());
    let mut failures = Vec::new();
    for program in &programs {
        let dir = scratch_copy(program);
        let mut child = Command::new(&python)
            .arg(program)
            .args(ARGS)
            .current_dir(&dir)
            .env("PYTHONHASHSEED", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(STDIN).unwrap();
        let expected = child.wait_with_output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        // A memory limit, as an enclave always sets: the guards (src/guard.rs)
        // are then on, and their ordinary results compared too.
        let limits = Limits {
            memory_bytes: Some(256 << 20),
            ..Limits::default()
        };
        let ran = common::run_with(files.clone(), program, ARGS, STDIN, limits);
        let want_status = expected.status.code().unwrap_or(-1);
        let got_status = ran.outcome.exit_status();
        if ran.stdout != expected.stdout || got_status != want_status {
            failures.push(format!(
                "{program}: status {got_status} (CPython {want_status})\n--- engine stdout\n{}\n--- CPython stdout\n{}\n--- engine stderr\n{}",
                String::from_utf8_lossy(&ran.stdout),
                String::from_utf8_lossy(&expected.stdout),
                String::from_utf8_lossy(&ran.stderr),
            ));
        }
    }
    let passed = programs.len() - failures.len();
    println!("corpus: {passed}/{} programs match CPython", programs.len());
    assert!(
        failures.is_empty(),
        "{passed}/{} match; failures:\n{}",
        programs.len(),
        failures.join("\n\n")
    );
}
