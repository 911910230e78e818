//! The ten pyperformance programs under this engine (in-process, on an
//! 8 MiB stack, no limits), CPython 3.13 and PyPy, in one run: wall time of
//! one whole run each (start-up included for every interpreter), the
//! engine's ratio to each, and the geometric means. Also the engine's
//! start-up (`print('hi')`). `cargo bench -p shield-lang-python`.
//! Benchmarks as for tests/pyperformance.rs (`./fetch-pyperformance.sh`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};
use shield_lang_python::PythonEngine;

const PROGRAMS: &[&str] = &[
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

/// Runs `entry` among `files` under the engine; the wall time.
fn engine_run(files: BTreeMap<String, Vec<u8>>, entry: &'static str, limits: Limits) -> Duration {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let start = Instant::now();
            let outcome = PythonEngine::new().run(Job {
                entry,
                args: &[],
                env: &[],
                stdin: &mut std::io::empty(),
                stdout: &mut stdout,
                stderr: &mut stderr,
                vfs: &mut vfs,
                clock: &SystemClock,
                limits,
                heap_exceeded: shield_engine::no_heap_budget,
            });
            let took = start.elapsed();
            assert_eq!(
                outcome,
                Outcome::Exited(0),
                "{}",
                String::from_utf8_lossy(&stderr)
            );
            took
        })
        .expect("thread")
        .join()
        .expect("engine run")
}

/// Wall time of `interpreter run_benchmark.py` in `dir`, if it ran.
fn external(interpreter: &Path, dir: &Path) -> Option<Duration> {
    let start = Instant::now();
    let status = Command::new(interpreter)
        .arg("run_benchmark.py")
        .current_dir(dir)
        .output()
        .ok()?
        .status;
    status.success().then(|| start.elapsed())
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn geomean(ratios: &[f64]) -> f64 {
    if ratios.is_empty() {
        return f64::NAN;
    }
    (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp()
}

fn main() {
    // `cargo test --all-targets` runs bench targets too: only measure
    // under `cargo bench`, which passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("pyperformance bench: run with `cargo bench -p shield-lang-python`");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("SHIELD_PYPERFORMANCE").map_or_else(
        || root.join("../../target/pyperformance/wheel/pyperformance/data-files/benchmarks"),
        PathBuf::from,
    );
    if !dir.join("bm_richards/run_benchmark.py").is_file() {
        eprintln!(
            "SKIPPED: pyperformance benchmarks not found at {} (run crates/lang-python/fetch-pyperformance.sh)",
            dir.display()
        );
        return;
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let pyenv313 = format!("{home}/.pyenv/versions/3.13.0/bin/python3.13");
    let cpython = find(&["python3.13", &pyenv313]);
    let pypy = find(&["pypy3"]);
    if cpython.is_none() {
        eprintln!("SKIPPED: no CPython 3.13: no CPython column");
    }
    if pypy.is_none() {
        eprintln!("SKIPPED: no pypy3: no PyPy column");
    }
    let stand_in = std::fs::read(root.join("tests/pyperf/pyperf.py")).expect("stand-in");

    let mut hello = BTreeMap::new();
    hello.insert("main.py".to_owned(), b"print('hi')\n".to_vec());
    let startups: Vec<Duration> = (0..5)
        .map(|_| engine_run(hello.clone(), "main.py", Limits::default()))
        .collect();
    let mut sorted = startups.clone();
    sorted.sort();
    println!(
        "engine start-up, print('hi'): median {:.1} ms of 5",
        sorted[2].as_secs_f64() * 1e3
    );

    println!();
    println!(
        "| program | engine s | with limits s | CPython 3.13 s | PyPy s | engine / CPython | \
         engine / PyPy | limits cost |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let (mut vs_cpython, mut vs_pypy, mut hook) = (Vec::new(), Vec::new(), Vec::new());
    for name in PROGRAMS {
        let program =
            std::fs::read(dir.join(format!("bm_{name}/run_benchmark.py"))).expect("program");
        let mut files = BTreeMap::new();
        files.insert("run_benchmark.py".to_owned(), program.clone());
        files.insert("pyperf.py".to_owned(), stand_in.clone());
        let ours = engine_run(files.clone(), "run_benchmark.py", Limits::default()).as_secs_f64();
        // With an instruction budget the limit hook runs at every loop
        // iteration and call, as it always does in an enclave.
        let budget = Limits {
            instructions: Some(u64::MAX),
            ..Limits::default()
        };
        let hooked = engine_run(files, "run_benchmark.py", budget).as_secs_f64();
        let scratch = std::env::temp_dir().join(format!("shield-pybench-{name}"));
        std::fs::create_dir_all(&scratch).expect("scratch");
        std::fs::write(scratch.join("run_benchmark.py"), &program).expect("write");
        std::fs::write(scratch.join("pyperf.py"), &stand_in).expect("write");
        let cp = cpython
            .as_deref()
            .and_then(|p| external(p, &scratch))
            .map(|d| d.as_secs_f64());
        let pp = pypy
            .as_deref()
            .and_then(|p| external(p, &scratch))
            .map(|d| d.as_secs_f64());
        let _ = std::fs::remove_dir_all(&scratch);
        let fmt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
        let rc = cp.map(|c| ours / c);
        let rp = pp.map(|p| ours / p);
        rc.inspect(|r| vs_cpython.push(*r));
        rp.inspect(|r| vs_pypy.push(*r));
        hook.push(hooked / ours);
        println!(
            "| {} | {:.2} | {:.2} | {} | {} | {} | {} | {:.2} |",
            name,
            ours,
            hooked,
            fmt(cp),
            fmt(pp),
            fmt(rc),
            fmt(rp),
            hooked / ours
        );
    }
    println!();
    println!(
        "geometric mean: engine/CPython {:.2}, engine/PyPy {:.2}, with limits/without {:.2}",
        geomean(&vs_cpython),
        geomean(&vs_pypy),
        geomean(&hook)
    );
}
