//! The official Lua 5.4.4 test suite through the product: each file of
//! `shared/testdata/lua-5.4.4-tests` but all.lua, main.lua and heavy.lua,
//! with `_soft=true _port=true _nomsg=true; ` prepended to its first line,
//! run from a scratch copy by `shield exec` in the Lua development enclave
//! (the VM, the script-enclave runtime, the VFS over the host directory, the
//! enclave's memory limit). Prints PASS or FAIL per file and asserts at least
//! the recorded count. `crates/lang-lua/tests/official.rs` runs the same
//! files on the VM in process.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use common::stderr;

/// Files passing in the enclave when this was last recorded; raise it as
/// the VM improves.
const RECORDED_PASSES: usize = 30;

/// The instruction budget of one file, as the in-process run gives it: far
/// above what any file needs, so a runaway file ends instead of hanging.
const MAX_INSTRUCTIONS: &str = "500000000";

/// Files run at once: CI has two cores.
const WORKERS: usize = 2;

fn exec(dir: &Path, state: &Path, name: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(["exec", "--max-instructions", MAX_INSTRUCTIONS, name])
        .current_dir(dir)
        .env("SHIELD_STATE_DIR", state)
        .stdin(Stdio::null())
        .output()
        .expect("running shield exec")
}

#[test]
fn official_suite_in_the_lua_enclave() {
    let Some(src) = shield_testdata::file("lua-5.4.4-tests") else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("tests");
    let state = scratch.path().join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut bytes = std::fs::read(&path).unwrap();
        if name.ends_with(".lua") && !matches!(name.as_str(), "all.lua" | "main.lua" | "heavy.lua")
        {
            let mut prefixed = b"_soft=true _port=true _nomsg=true; ".to_vec();
            prefixed.append(&mut bytes);
            bytes = prefixed;
            names.push(name.clone());
        }
        std::fs::write(dir.join(&name), bytes).unwrap();
    }
    names.sort();
    let total = names.len();
    let queue = Mutex::new(names.into_iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some(name) = next else { break };
                    let out = exec(&dir, &state, &name);
                    results.lock().unwrap().push((name, out));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut passed = Vec::new();
    for (name, out) in &results {
        if out.status.success() {
            println!("PASS {name}");
            passed.push(name.as_str());
        } else {
            let text = stderr(out);
            let first = text.lines().next().unwrap_or_default();
            println!("FAIL {name} ({:?}) {first}", out.status.code());
        }
    }
    println!(
        "official files passing in the Lua enclave: {} of {total}: {}",
        passed.len(),
        passed.join(" ")
    );
    assert!(
        passed.len() >= RECORDED_PASSES,
        "{} passing, {RECORDED_PASSES} recorded",
        passed.len()
    );
}
