//! Classic programs under the engine (in-process, on an 8 MiB stack) and
//! under `mujs` and `node --jitless` (whole processes), one run each:
//! seconds, ratios and their geometric means. `cargo bench -p shield-lang-js`.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};
use shield_lang_js::JsEngine;

const PROGRAMS: [&str; 7] = [
    "richards",
    "deltablue",
    "nbody",
    "fannkuch",
    "binary_trees",
    "strings_regexp",
    "json",
];

fn ours(source: Vec<u8>) -> (f64, Vec<u8>) {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut files = BTreeMap::new();
            files.insert("main.js".to_owned(), source);
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let start = Instant::now();
            let outcome = JsEngine::new().run(Job {
                entry: "main.js",
                args: &[],
                env: &[],
                stdin: &mut std::io::empty(),
                stdout: &mut stdout,
                stderr: &mut stderr,
                vfs: &mut vfs,
                clock: &SystemClock,
                limits: Limits::default(),
                heap_exceeded: shield_engine::no_heap_budget,
            });
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(
                outcome,
                Outcome::Exited(0),
                "{}",
                String::from_utf8_lossy(&stderr)
            );
            (secs, stdout)
        })
        .unwrap()
        .join()
        .unwrap()
}

/// A reference interpreter's run, or `None` when it is missing, fails or
/// takes over [`REFERENCE_TIMEOUT`].
fn process(cmd: &str, args: &[&str], file: &PathBuf) -> Option<(f64, Vec<u8>)> {
    let start = Instant::now();
    let mut child = Command::new(cmd)
        .args(args)
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    loop {
        if let Some(status) = child.try_wait().ok()? {
            let secs = start.elapsed().as_secs_f64();
            let out = reader.join().ok()?;
            return status.success().then_some((secs, out));
        }
        if start.elapsed() > REFERENCE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            println!("{cmd} {}: timed out", file.display());
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How long a reference interpreter may take on one program.
const REFERENCE_TIMEOUT: Duration = Duration::from_secs(120);

fn geomean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len().max(1) as f64).exp()
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/programs");
    let (_, _) = ours(b"".to_vec());
    let (startup, _) = ours(b"".to_vec());
    println!(
        "engine start-up (empty script, in-process): {:.1} ms",
        startup * 1000.0
    );
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "program", "ours s", "mujs s", "node-jl s", "ours/mujs", "ours/node"
    );
    let (mut vs_mujs, mut vs_node) = (Vec::new(), Vec::new());
    for name in PROGRAMS {
        let file = dir.join(format!("{name}.js"));
        let source = std::fs::read(&file).unwrap();
        let (t, out) = ours(source);
        let mujs = process("mujs", &[], &file);
        let node = process("node", &["--jitless"], &file);
        if let Some((_, expected)) = &node {
            assert_eq!(&out, expected, "{name}: output differs from node's");
        }
        let fmt = |r: &Option<(f64, Vec<u8>)>| {
            r.as_ref()
                .map_or_else(|| "missing".to_owned(), |(s, _)| format!("{s:.3}"))
        };
        let ratio = |r: &Option<(f64, Vec<u8>)>, acc: &mut Vec<f64>| {
            r.as_ref().map_or_else(
                || "-".to_owned(),
                |(s, _)| {
                    acc.push(t / s);
                    format!("{:.2}", t / s)
                },
            )
        };
        let rm = ratio(&mujs, &mut vs_mujs);
        let rn = ratio(&node, &mut vs_node);
        println!(
            "{name:<16} {t:>9.3} {:>9} {:>9} {rm:>10} {rn:>10}",
            fmt(&mujs),
            fmt(&node)
        );
    }
    if vs_mujs.is_empty() {
        println!("SKIPPED: mujs is not installed (apt-get install mujs)");
    }
    if vs_node.is_empty() {
        println!("SKIPPED: node is not installed");
    }
    println!(
        "geometric mean: ours/mujs {:.2}, ours/node --jitless {:.2}",
        geomean(&vs_mujs),
        geomean(&vs_node)
    );
}
