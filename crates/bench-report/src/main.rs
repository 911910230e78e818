//! Regenerates every table in BENCHMARKS.md and the plots in `docs/bench/`.
//!
//! ```sh
//! cargo run -p bench-report --release            # run the benchmarks, then report
//! cargo run -p bench-report --release -- --reuse # report from the last run's results
//! ```
//!
//! It runs the channel, transition, services and scripts benchmarks and each
//! script engine's own benchmark against its reference interpreters, one
//! after the other (never in parallel: they measure the machine), reads
//! criterion's estimates and the other benchmarks' tables, rewrites the
//! blocks of BENCHMARKS.md between `<!-- report:NAME -->` and
//! `<!-- /report:NAME -->` and writes one SVG per charted section. Nothing
//! here runs in the test suite.
#![forbid(unsafe_code)]

mod criterion;
mod markdown;
mod plot;
mod sections;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// The benchmarks, in the order they run.
const BENCHES: [(&str, &str); 8] = [
    ("shield-channel", "channel"),
    ("runtime-tests", "transitions"),
    ("shield-services", "services"),
    ("shield", "scripts"),
    ("shield-lang-squirrel", "ratio"),
    ("shield-lang-js", "vs"),
    ("shield-lang-lua", "compare"),
    ("shield-lang-python", "pyperformance"),
];

/// The engine benchmarks whose tables go into BENCHMARKS.md as they print
/// them: (bench, block name).
const ENGINE_TABLES: [(&str, &str); 4] = [
    ("ratio", "squirrel-vs-sq"),
    ("vs", "js-vs-references"),
    ("compare", "lua-vm-vs-references"),
    ("pyperformance", "python-vs-references"),
];

fn main() -> ExitCode {
    let reuse = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--reuse") => true,
        Some(other) => {
            eprintln!("unknown argument {other}; usage: bench-report [--reuse]");
            return ExitCode::FAILURE;
        }
    };
    match run(reuse) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(reuse: bool) -> Result<(), String> {
    let root = workspace_root();
    let target = root.join("target");
    let criterion_home = target.join("criterion");
    let saved = |bench: &str| target.join("bench-report").join(format!("{bench}.md"));
    if !reuse {
        for (package, bench) in BENCHES {
            let stdout = cargo_bench(&root, &criterion_home, package, bench)?;
            if bench == "scripts" || ENGINE_TABLES.iter().any(|(b, _)| *b == bench) {
                write(&saved(bench), &stdout)?;
            }
        }
    }
    let read_saved = |bench: &str| {
        let path = saved(bench);
        std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e} (run without --reuse first)", path.display()))
    };
    let estimates = criterion::read_all(&criterion_home)?;
    let scripts = read_saved("scripts")?;
    let date = today()?;
    let plots = root.join("docs").join("bench");
    std::fs::create_dir_all(&plots).map_err(|e| format!("{}: {e}", plots.display()))?;

    let mut blocks = Vec::new();
    for section in [
        sections::transitions(&estimates, &date)?,
        sections::services(&estimates, &date)?,
        sections::scripts(&scripts, &date)?,
    ] {
        let path = plots.join(format!("{}.svg", section.name));
        plot::bars(&path, &section.chart)?;
        println!("wrote {}", path.display());
        blocks.extend(section.blocks);
    }
    for (bench, block) in ENGINE_TABLES {
        blocks.push(sections::verbatim(block, &read_saved(bench)?, &date)?);
    }
    let doc = root.join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    write(&doc, &markdown::replace_blocks(&text, &blocks)?)?;
    println!("rewrote {}", doc.display());
    Ok(())
}

/// The workspace this crate is built in (its manifest is `crates/bench-report/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Runs one benchmark, its progress shown as it goes; returns its stdout.
fn cargo_bench(
    root: &Path,
    criterion_home: &Path,
    package: &str,
    bench: &str,
) -> Result<String, String> {
    eprintln!("== cargo bench -p {package} --bench {bench}");
    let runs = std::env::var("SHIELD_BENCH_RUNS").unwrap_or_else(|_| "7".into());
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["bench", "--locked", "-p", package, "--bench", bench])
        .current_dir(root)
        .env("CRITERION_HOME", criterion_home)
        .env("SHIELD_BENCH_RUNS", runs)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo bench: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprint!("{stdout}");
    if !output.status.success() {
        return Err(format!(
            "cargo bench -p {package} failed: {}",
            output.status
        ));
    }
    Ok(stdout)
}

fn today() -> Result<String, String> {
    let out = Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .map_err(|e| format!("date: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
