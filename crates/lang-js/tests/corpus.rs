//! The differential corpus: every `tests/corpus/NAME.js` (or `.mjs`), with
//! the bundle files under `NAME.files/` and stdin from `NAME.stdin`, runs
//! under the engine (in memory) and under `node` (in a temporary
//! directory); stdout and the exit status must match byte for byte.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use shield_engine::Limits;

const ARGS: [&str; 2] = ["alpha", "beta gamma"];

fn collect(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            collect(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
}

fn node_run(files: &BTreeMap<String, Vec<u8>>, entry: &str, stdin: &[u8]) -> (Vec<u8>, i32) {
    let dir = std::env::temp_dir().join(format!(
        "shield-js-corpus-{}-{}",
        std::process::id(),
        entry.replace('.', "_")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let stdin_path = dir.with_extension("stdin");
    std::fs::write(&stdin_path, stdin).unwrap();
    let out = Command::new("node")
        .arg(entry)
        .args(ARGS)
        .current_dir(&dir)
        .env("TZ", "UTC")
        .stdin(std::fs::File::open(&stdin_path).unwrap())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&stdin_path);
    (out.stdout, out.status.code().unwrap_or(-1))
}

#[test]
fn corpus_matches_node() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        shield_testdata::skip("node is not installed: the differential corpus did not run");
        return;
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("js" | "mjs"))
        })
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 40,
        "the corpus has {} programs",
        entries.len()
    );
    let mut failures = Vec::new();
    for path in &entries {
        let entry = path.file_name().unwrap().to_string_lossy().into_owned();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut files = BTreeMap::new();
        files.insert(entry.clone(), std::fs::read(path).unwrap());
        let extra = corpus.join(format!("{stem}.files"));
        if extra.is_dir() {
            collect(&extra, "", &mut files);
        }
        let stdin = std::fs::read(corpus.join(format!("{stem}.stdin"))).unwrap_or_default();
        let (node_out, node_status) = node_run(&files, &entry, &stdin);
        let limits = Limits {
            instructions: Some(2_000_000_000),
            memory_bytes: None,
            output_bytes: Some(1 << 24),
        };
        let ran = common::run(files, &entry, &ARGS, stdin, limits);
        let status = ran.outcome.exit_status();
        if ran.stdout != node_out || status != node_status {
            failures.push(format!(
                "── {entry}: status {status} (node {node_status})\n-- ours:\n{}\n-- node:\n{}\n-- our stderr:\n{}",
                String::from_utf8_lossy(&ran.stdout),
                String::from_utf8_lossy(&node_out),
                String::from_utf8_lossy(&ran.stderr)
            ));
        }
    }
    eprintln!(
        "corpus: {} of {} programs match node",
        entries.len() - failures.len(),
        entries.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
