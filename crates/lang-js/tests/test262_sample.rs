//! A fixed, seeded sample of test262 must keep its recorded pass rate.

#[path = "test262/harness.rs"]
mod harness;

/// The pass rate measured for this sample (of the tests not skipped):
/// 97.77% (1883 passed, 43 failed, 74 skipped) on 2026-11-29 in a release
/// build. A debug build guards nesting far tighter (Boa's parser needs
/// about five times the stack there, see `MAX_NESTING`) and refuses some
/// harness files and tests: 87.64% (1688 passed, 238 failed). Run it with
/// `--release` for the meaningful figure. About 90 s (release) to 135 s
/// (debug) on one core of this machine.
const RECORDED_PASS_RATE: f64 = if cfg!(debug_assertions) { 0.876 } else { 0.977 };

#[test]
fn test262_sample_keeps_its_pass_rate() {
    let Some(root) = harness::unpack() else {
        return;
    };
    let tests = harness::sample(&harness::all_tests(&root), harness::SAMPLE, harness::SEED);
    let failed = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut suite = harness::Suite::new(root);
            let (mut pass, mut fail, mut skip) = (0usize, 0usize, 0usize);
            let mut failures = Vec::new();
            for t in &tests {
                match suite.run(t) {
                    harness::Verdict::Pass => pass += 1,
                    harness::Verdict::Fail => {
                        fail += 1;
                        failures.push(t.clone());
                    }
                    harness::Verdict::Skip => skip += 1,
                }
            }
            (pass, fail, skip, failures)
        })
        .unwrap()
        .join()
        .expect("the runner thread must not die");
    let (pass, fail, skip, failures) = failed;
    let rate = pass as f64 / (pass + fail).max(1) as f64;
    eprintln!(
        "test262 sample: {pass} passed, {fail} failed, {skip} skipped: {:.2}%",
        rate * 100.0
    );
    if std::env::var_os("TEST262_SHOW_FAILURES").is_some() {
        for f in &failures {
            eprintln!("FAIL {f}");
        }
    }
    assert!(
        rate >= RECORDED_PASS_RATE,
        "pass rate {rate:.4} fell below the recorded {RECORDED_PASS_RATE}"
    );
}
