//! CPU-bound Lua scripts through `shield exec` (in the script enclave),
//! `shield exec --native` (the same engine in the host process) and C Lua
//! (`lua5.4`), side by side in one run; the table gives ratios.
//!
//! Then the other languages' engines, in the enclave and natively: each
//! language's start-up (an empty script) and two of its engine's own
//! benchmark programs.
//!
//! Then the end-to-end cost of a shielded run: `shield run` of a bundle
//! holding `print("hello")` (launch, unseal, verify, decrypt, run, seal the
//! result), against `shield exec` of the same script.
//!
//! `cargo bench -p shield --bench scripts` (SHIELD_BENCH_RUNS=N for more
//! runs than 5; the median is reported). Wall time of whole processes, so
//! the `empty` row is the fixed cost of starting each.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPTS: [(&str, &str); 5] = [
    ("empty", ""),
    ("fib", "32"),
    ("spectral", "400"),
    ("strings", "200000"),
    ("sort", "200000"),
];

fn time(command: &mut Command) -> Option<Duration> {
    let start = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .ok()?;
    status.success().then(|| start.elapsed())
}

fn median(command: &mut Command, runs: usize) -> Option<Duration> {
    let mut times = (0..runs)
        .map(|_| time(command))
        .collect::<Option<Vec<_>>>()?;
    times.sort();
    Some(times[times.len() / 2])
}

fn main() {
    let runs: usize = std::env::var("SHIELD_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lua");
    let state = tempfile::tempdir().expect("a temporary state directory");
    // `shield exec [--native] DIR/SCRIPT`, from DIR.
    let shield_in = |dir: &Path, native: bool, script: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shield"));
        c.arg("exec");
        if native {
            c.arg("--native");
        }
        c.arg(dir.join(script))
            .args(["--state-dir", state.path().to_str().expect("UTF-8")])
            .current_dir(dir);
        c
    };
    let shield = |native: bool, script: &str, arg: &str| {
        let mut c = shield_in(&dir, native, script);
        c.args(["--", arg]);
        c
    };
    let have_lua = Command::new("lua5.4").arg("-v").output().is_ok();
    if !have_lua {
        eprintln!("lua5.4 is not installed: its column is empty (apt-get install lua5.4)");
    }
    // Unpacks the enclave binary into the state directory once.
    let _ = time(&mut shield(false, "empty.lua", ""));

    println!("{runs} runs each, median wall time of the whole process");
    println!("(\"minus start-up\": each column's `empty` time subtracted first)");
    println!();
    println!(
        "| script | lua5.4 | exec --native | exec (enclave) | enclave / native | \
         same, minus start-up | native / lua5.4 |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut startup = (None, None);
    for (name, arg) in SCRIPTS {
        let script = format!("{name}.lua");
        let lua = if have_lua {
            median(
                Command::new("lua5.4")
                    .arg(&script)
                    .arg(arg)
                    .current_dir(&dir),
                runs,
            )
        } else {
            None
        };
        let native = median(&mut shield(true, &script, arg), runs);
        let enclave = median(&mut shield(false, &script, arg), runs);
        if name == "empty" {
            startup = (native, enclave);
        }
        let minus = |t: Option<Duration>, s: Option<Duration>| t?.checked_sub(s?);
        let own = if name == "empty" {
            "—".into()
        } else {
            ratio(minus(enclave, startup.1), minus(native, startup.0))
        };
        println!(
            "| {name} {arg} | {} | {} | {} | {} | {own} | {} |",
            ms(lua),
            ms(native),
            ms(enclave),
            ratio(enclave, native),
            ratio(native, lua)
        );
    }
    other_languages(&shield_in, runs);
    shielded_run(state.path(), runs);
}

/// (language, directory of programs relative to this crate, an empty
/// script's name, programs) for the languages besides Lua.
const OTHER_LANGUAGES: [(&str, &str, &str, [&str; 2]); 3] = [
    (
        "JavaScript",
        "../lang-js/benches/programs",
        "empty.js",
        ["richards.js", "nbody.js"],
    ),
    (
        "Squirrel",
        "../lang-squirrel/benches/programs",
        "empty.nut",
        ["fib.nut", "sort.nut"],
    ),
    (
        "Python",
        "../lang-python/benches/programs",
        "empty.py",
        ["fib.py", "sort.py"],
    ),
];

/// Each other language's programs through `shield exec` and `exec --native`.
fn other_languages(shield_in: &dyn Fn(&Path, bool, &str) -> Command, runs: usize) {
    println!();
    println!(
        "| language | script | exec --native | exec (enclave) | enclave / native | \
         same, minus start-up |"
    );
    println!("|---|---|---|---|---|---|");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    for (language, programs, empty, scripts) in OTHER_LANGUAGES {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(programs);
        std::fs::write(scratch.path().join(empty), "").expect("writing an empty script");
        let startup = (
            median(&mut shield_in(scratch.path(), true, empty), runs),
            median(&mut shield_in(scratch.path(), false, empty), runs),
        );
        println!(
            "| {language} | empty | {} | {} | {} | — |",
            ms(startup.0),
            ms(startup.1),
            ratio(startup.1, startup.0)
        );
        for script in scripts {
            let native = median(&mut shield_in(&dir, true, script), runs);
            let enclave = median(&mut shield_in(&dir, false, script), runs);
            let minus = |t: Option<Duration>, s: Option<Duration>| t?.checked_sub(s?);
            println!(
                "| {language} | {script} | {} | {} | {} | {} |",
                ms(native),
                ms(enclave),
                ratio(enclave, native),
                ratio(minus(enclave, startup.1), minus(native, startup.0))
            );
        }
    }
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("—".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
}

fn ratio(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:.3}", a.as_secs_f64() / b.as_secs_f64()),
        _ => "—".into(),
    }
}

/// `shield run` of a hello bundle, end to end, beside `shield exec` of it.
fn shielded_run(state: &Path, runs: usize) {
    let shield = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shield"));
        c.args(args)
            .current_dir(state)
            .env("SHIELD_STATE_DIR", state);
        c
    };
    std::fs::write(state.join("hello.lua"), "print('hello')\n").expect("writing hello.lua");
    assert!(
        time(&mut shield(&["keygen", "-o", "owner"])).is_some(),
        "shield keygen failed"
    );
    let made = shield(&["enclave-key", "-o", "ak.json"])
        .output()
        .expect("enclave-key");
    let mrenclave = String::from_utf8_lossy(&made.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("enclave MRENCLAVE ").map(str::to_owned))
        .expect("an MRENCLAVE line");
    // The policy pins the enclave the key came from, and allows simulation.
    std::fs::write(
        state.join("policy.toml"),
        format!("mrenclave = [\"{mrenclave}\"]\nallow_simulation = true\n"),
    )
    .expect("writing the policy");
    let pack = [
        "pack",
        "hello.lua",
        "--to",
        "ak.json",
        "--policy",
        "policy.toml",
        "--owner",
        "owner",
        "-o",
        "hello.shield",
    ];
    assert!(time(&mut shield(&pack)).is_some(), "shield pack failed");
    let run = median(
        &mut shield(&["run", "hello.shield", "-o", "hello.result"]),
        runs,
    );
    let exec = median(&mut shield(&["exec", "hello.lua"]), runs);
    println!();
    println!("| end to end | shield exec hello.lua | shield run hello.shield | run / exec |");
    println!("|---|---|---|---|");
    println!(
        "| hello | {} | {} | {} |",
        ms(exec),
        ms(run),
        ratio(run, exec)
    );
}
