//! A skip must show in `cargo test` output. The test harness captures what a
//! passing test prints with `eprintln!` and throws it away, so this runs a
//! skipping test in a child harness, with capture on, and reads its stderr.

use std::process::Command;

/// Set in the child's environment: only then does `skips` run.
const CHILD: &str = "SHIELD_TESTDATA_SKIP_CHILD";

#[test]
fn skips() {
    if std::env::var_os(CHILD).is_some() {
        assert!(shield_testdata::file("no/such/file").is_none());
    }
}

#[test]
fn a_skip_shows_through_the_harness_capture() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "skips", "--test-threads=1"])
        .env(CHILD, "1")
        .env("SHIELD_TESTDATA", "/nonexistent")
        .env_remove("RUST_TEST_NOCAPTURE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        stderr.contains("SKIPPED: test data no/such/file not found"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
}
