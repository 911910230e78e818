//! The pyperformance programs run unmodified under the engine, with only
//! the `pyperf` stand-in (tests/pyperf/pyperf.py) beside them; their stdout
//! and exit status must equal CPython's when a CPython is present.
//! Benchmarks come from `$SHIELD_PYPERFORMANCE` or target/pyperformance
//! (`./fetch-pyperformance.sh`); absent, the test skips loudly.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use shield_engine::{Limits, Outcome};

/// The ten programs the issue names.
pub const PROGRAMS: &[&str] = &[
    "richards",
    "nbody",
    "chaos",
    "fannkuch",
    "spectral_norm",
    "float",
    "deltablue",
    "raytrace",
    "go",
    "hexiom",
];

fn benchmarks_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SHIELD_PYPERFORMANCE") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/pyperformance/wheel/pyperformance/data-files/benchmarks"),
    };
    if dir.join("bm_richards/run_benchmark.py").is_file() {
        Some(dir)
    } else {
        shield_testdata::skip(&format!(
            "pyperformance benchmarks not found at {} (run crates/lang-python/fetch-pyperformance.sh or set SHIELD_PYPERFORMANCE)",
            dir.display()
        ));
        None
    }
}

#[test]
fn pyperformance_programs_run_unmodified() {
    let Some(dir) = benchmarks_dir() else { return };
    let stand_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyperf/pyperf.py");
    let python = ["python3.13", "python3"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    for name in PROGRAMS {
        let program = dir.join(format!("bm_{name}/run_benchmark.py"));
        let mut files = BTreeMap::new();
        files.insert(
            "run_benchmark.py".to_owned(),
            std::fs::read(&program).unwrap(),
        );
        files.insert("pyperf.py".to_owned(), std::fs::read(&stand_in).unwrap());
        let ran = common::run_with(files, "run_benchmark.py", &[], b"", Limits::default());
        assert_eq!(
            ran.outcome,
            Outcome::Exited(0),
            "{name}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
        if let Some(python) = python {
            let scratch =
                std::env::temp_dir().join(format!("shield-pyperf-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&scratch).unwrap();
            std::fs::copy(&program, scratch.join("run_benchmark.py")).unwrap();
            std::fs::copy(&stand_in, scratch.join("pyperf.py")).unwrap();
            let expected = Command::new(python)
                .arg("run_benchmark.py")
                .current_dir(&scratch)
                .output()
                .unwrap();
            let _ = std::fs::remove_dir_all(&scratch);
            assert!(expected.status.success(), "{name} under {python}");
            assert_eq!(
                ran.stdout, expected.stdout,
                "{name}: stdout differs from {python}"
            );
        }
        println!("{name}: ok");
    }
}
