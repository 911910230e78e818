//! Where the external test data lives, for tests only.
//!
//! Real artifacts from outside the project (Intel's formats, real quotes) are
//! never committed: they are read from `$SHIELD_TESTDATA`, or else from
//! `shared/testdata` beside the repository's clone. A test whose data is
//! absent prints a loud `SKIPPED` line and returns, so a missing folder is
//! visible in the test output and never silently green.
//!
//! ```no_run
//! if let Some(path) = shield_testdata::file("sgx/sig1/sig1.sigstruct.bin") {
//!     let bytes = std::fs::read(path).unwrap();
//!     assert_eq!(bytes.len(), 1808);
//! }
//! ```
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;

pub mod test262;

/// The test data root, if it exists.
pub fn root() -> Option<PathBuf> {
    let root = match std::env::var_os("SHIELD_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"),
    };
    root.is_dir().then_some(root)
}

/// The path of `relative` under the test data root, or `None` after printing
/// a `SKIPPED` line naming what is missing.
pub fn file(relative: &str) -> Option<PathBuf> {
    match root().map(|root| root.join(relative)) {
        Some(path) if path.exists() => Some(path),
        _ => {
            skip(&format!(
                "test data {relative} not found (set SHIELD_TESTDATA or place shared/testdata beside the clone)"
            ));
            None
        }
    }
}

/// Prints `SKIPPED: reason` straight to the process's stderr. The test
/// harness captures `eprintln!` of passing tests; a skip must stay visible
/// in CI's log, so it bypasses the capture.
pub fn skip(reason: &str) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {reason}");
}

/// Reads `relative` under the test data root; `None` (with a `SKIPPED`
/// line) if it is absent. Panics on a read error: this is for tests.
pub fn read(relative: &str) -> Option<Vec<u8>> {
    let path = file(relative)?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
}
