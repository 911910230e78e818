//! Runs each program of `benches/programs/` under this engine (in process)
//! and under the reference `sq` (a process), five times each, interleaved,
//! and prints the fastest wall time of each (the least disturbed by other
//! load on the machine), their ratio and the geometric mean of the ratios.
//! `cargo bench -p shield-lang-squirrel --bench ratio`.

#[path = "../tests/support/mod.rs"]
mod support;

use shield_engine::vfs::{DirReader, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_squirrel::SquirrelEngine;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn fastest(v: Vec<Duration>) -> Duration {
    v.into_iter().min().unwrap_or_default()
}

fn ours(dir: &Path, name: &str) -> (Duration, Vec<u8>) {
    let mut vfs = Overlay::new(DirReader::new(dir), MemoryWrites::new());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let _ = SquirrelEngine::new().run(Job {
        entry: name,
        args: &[],
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut out,
        stderr: &mut err,
        vfs: &mut vfs,
        clock: &SystemClock,
        limits: Limits::default(),
        heap_exceeded: shield_engine::no_heap_budget,
    });
    (start.elapsed(), out)
}

fn reference(sq: &Path, dir: &Path, name: &str) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    let out = Command::new(sq)
        .arg(name)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("running sq");
    (start.elapsed(), out.stdout)
}

fn main() {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let sq = match support::reference_sq(&target) {
        Ok(sq) => sq,
        Err(why) => {
            println!("SKIPPED: reference sq unavailable: {why}");
            return;
        }
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/programs");
    let mut progs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("programs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "nut"))
        .collect();
    progs.sort();
    println!("| program | ours (ms) | sq (ms) | ours / sq |");
    println!("|---|---|---|---|");
    let mut logs = 0.0;
    for p in &progs {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut same = true;
        for _ in 0..5 {
            let (t1, o1) = ours(&dir, &name);
            let (t2, o2) = reference(&sq, &dir, &name);
            same &= o1 == o2;
            a.push(t1);
            b.push(t2);
        }
        let (a, b) = (fastest(a), fastest(b));
        let ratio = a.as_secs_f64() / b.as_secs_f64();
        logs += ratio.ln();
        let note = if same { "" } else { " (output differs!)" };
        println!(
            "| {} | {:.1} | {:.1} | {:.2}{} |",
            name.trim_end_matches(".nut"),
            a.as_secs_f64() * 1e3,
            b.as_secs_f64() * 1e3,
            ratio,
            note
        );
    }
    println!(
        "geometric mean ours/sq: {:.2}",
        (logs / progs.len() as f64).exp()
    );
}
