//! test262 inside the JavaScript development enclave: one enclave, one
//! ECALL per run, each run's files in a host directory the enclave reads
//! through its OCALLs, as `shield exec` does.
//!
//! CI runs the fixed sample (`shield_testdata::test262::sample`) and fails
//! below its recorded pass rate. The whole suite, writing
//! `crates/lang-js/CONFORMANCE.md`:
//!
//! ```sh
//! SHIELD_TEST262=all cargo test -p shield --release test262 -- --nocapture
//! ```
//! (`SHIELD_TEST262=sample` writes the sample's table instead.)

use std::path::Path;

use shield_bundle::Language;
use shield_testdata::test262::{self, Ran, Suite, Tally, Verdict};

use super::test_support::{DevSession, ECALL_FAILED};

/// The sample's pass rate (of the tests not skipped) inside the enclave,
/// 2026-11-30: 97.77% in a release build (1883 passed, 43 failed, 74
/// skipped), the same verdicts as the engine in process. A debug build's
/// engine guards source nesting far tighter (Boa's parser needs about five
/// times the stack there) and refuses some harness files and tests: 87.64%
/// (1688 passed, 238 failed). About 100 s (debug) on this machine.
const RECORDED_PASS_RATE: f64 = if cfg!(debug_assertions) { 0.876 } else { 0.977 };

#[test]
fn test262_in_the_javascript_enclave() {
    let Some(root) = test262::unpack() else {
        return;
    };
    let what = std::env::var("SHIELD_TEST262").unwrap_or_default();
    let everything = what == "all";
    let all = test262::all_tests(&root);
    let tests = if everything {
        all
    } else {
        test262::sample(&all, test262::SAMPLE, test262::SEED)
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("run");
    let mut session = DevSession::launch(Language::Js);
    let (mut suite, mut tally) = (Suite::new(root.clone()), Tally::default());
    let (mut failures, mut lost) = (Vec::new(), 0usize);
    for (i, t) in tests.iter().enumerate() {
        let verdict = suite.run(t, &mut |files| {
            let ran = run_files(&session, &dir, files);
            if !session.alive() {
                // Counted as a failure of this test; the next one gets a
                // fresh enclave, as `shield run` would launch one.
                lost += 1;
                session = DevSession::launch(Language::Js);
            }
            ran
        });
        if verdict == Verdict::Fail {
            failures.push(t.clone());
        }
        tally.record(&root, t, verdict);
        if everything && (i + 1) % 1000 == 0 {
            eprintln!("test262: {} of {} run", i + 1, tests.len());
        }
    }
    let [pass, fail, skip] = tally.totals();
    let rate = tally.pass_rate();
    eprintln!(
        "test262 in the JavaScript enclave ({}): {pass} passed, {fail} failed, {skip} skipped: \
         {:.2}%; the enclave was lost {lost} times",
        if everything {
            "whole suite"
        } else {
            "CI sample"
        },
        rate * 100.0
    );
    if std::env::var_os("TEST262_SHOW_FAILURES").is_some() {
        for f in &failures {
            eprintln!("FAIL {f}");
        }
    }
    if everything || what == "sample" {
        let scope = if everything {
            "the whole suite (`SHIELD_TEST262=all`)".to_owned()
        } else {
            format!(
                "**the CI sample** ({} tests, seed {:#x}; `SHIELD_TEST262=sample`), not the whole suite",
                test262::SAMPLE,
                test262::SEED
            )
        };
        let md = tally.markdown(
            "`SHIELD_TEST262=all` (or `=sample`) `cargo test -p shield --release test262` (crates/shield/src/script/test262_tests.rs), inside the JavaScript development enclave,",
            &scope,
        );
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lang-js/CONFORMANCE.md");
        std::fs::write(&path, md).unwrap();
        eprintln!("wrote {}", path.display());
    } else {
        assert!(
            rate >= RECORDED_PASS_RATE,
            "pass rate {rate:.4} fell below the recorded {RECORDED_PASS_RATE}"
        );
    }
}

/// Writes `files` into a fresh `dir` and runs the driver there.
fn run_files(session: &DevSession, dir: &Path, files: &test262::Files) -> Ran {
    let _ = std::fs::remove_dir_all(dir);
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let run = session.run(
        dir,
        test262::ENTRY,
        &[],
        b"",
        shield_engine::Limits {
            instructions: Some(test262::INSTRUCTIONS),
            memory_bytes: None,
            output_bytes: Some(test262::OUTPUT_BYTES),
        },
    );
    Ran {
        status: if run.status == ECALL_FAILED {
            -1
        } else {
            run.status
        },
        stdout: run.stdout,
    }
}
