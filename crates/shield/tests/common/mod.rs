//! Reading what a `shield` process printed, for the integration tests.
// Each test crate uses its own subset.
#![allow(dead_code)]

use std::process::Output;

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails the test, with both streams, unless `shield` exited 0.
#[track_caller]
pub(crate) fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "shield failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// The rest of the first line of `text` starting with `prefix`.
#[track_caller]
pub(crate) fn line_value<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{text}"))
}

/// The status `shield open` reports on its last line of stderr.
#[track_caller]
pub(crate) fn script_status(output: &Output) -> i32 {
    let text = stderr(output);
    let last = text.lines().last().unwrap_or_default();
    last.strip_prefix("script exit status: ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exit status last in:\n{text}"))
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
