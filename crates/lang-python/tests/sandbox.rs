//! The engine under the enclave's sandbox: the test binary re-executes
//! itself as a child process whose engine thread loads the Python enclave's
//! own seccomp filters (`shield_enclave::Sandbox`): the allow-list, the
//! file-system calls RustPython's start-up probes answered with ENOSYS from
//! the call number alone, and every other call ending the process. That thread then serves several runs of an in-memory job, the
//! way an enclave worker does, and the parent checks what they produced.
//! Under `strace`, the audit test also names the calls answered ENOSYS (and
//! the call that killed the child, if one did).

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::mpsc;

use shield_enclave::Sandbox;
use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_python::PythonEngine;

/// Set in the child's environment: the test then plays the sandboxed side.
const CHILD: &str = "SHIELD_PY_SANDBOX_CHILD";

/// The Python enclave's sandbox (enclaves/python/src/main.rs).
const SANDBOX: Sandbox = Sandbox::strict().file_system_unsupported();

const MAIN: &str = r#"
import sys, os, json, re, random, time, datetime, decimal, hashlib, collections, traceback
print(sys.prefix, sys.exec_prefix, sys.base_prefix, sys.path, repr(sys.executable))
print(repr(sys.version.partition("\n")[0]))
data = open("data/in.txt").read()
print(json.dumps({"words": re.findall(r"\w+", data)}))
with open("out/result.txt", "w") as f:
    f.write(data.upper())
with open("digest.bin", "wb") as f:
    f.write(hashlib.sha256(data.encode()).digest()[:4])
print(os.listdir("."), os.listdir("data"), os.path.exists("out/result.txt"))
print(decimal.Decimal(1) / decimal.Decimal(7), collections.Counter(data.split()).most_common(1))
print(datetime.datetime.fromtimestamp(0, datetime.timezone.utc).isoformat())
print(time.time() > 1e9, 0 <= random.random() < 1, random.Random(5).randint(1, 100))
print(os.environ.get("ANSWER"), os.getcwd())
try:
    {}["missing"]
except KeyError:
    traceback.print_exc()
print("to stderr", file=sys.stderr)
sys.exit(5)
"#;

const FAILS: &str = "def f():\n    raise ValueError('boom')\nf()\n";

const LOOPS: &str = "while True:\n    pass\n";

/// One run of `entry` among the job's files, as the enclave would: an
/// in-memory VFS, the host's clock. Returns a report, one line a field.
fn run(entry: &str, limits: Limits) -> String {
    let mut files = BTreeMap::new();
    files.insert("main.py".to_owned(), MAIN.as_bytes().to_vec());
    files.insert("fails.py".to_owned(), FAILS.as_bytes().to_vec());
    files.insert("loops.py".to_owned(), LOOPS.as_bytes().to_vec());
    files.insert("data/in.txt".to_owned(), b"to be or not to be".to_vec());
    let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let env = [("ANSWER".to_owned(), "42".to_owned())];
    let outcome = PythonEngine::new().run(Job {
        entry,
        args: &[],
        env: &env,
        stdin: &mut std::io::empty(),
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs: &mut vfs,
        clock: &SystemClock,
        limits,
        heap_exceeded: shield_engine::no_heap_budget,
    });
    let (_, writes) = vfs.into_parts();
    let mut report = format!(
        "{entry} status={}\n{entry} stdout={:?}\n{entry} stderr={:?}\n",
        outcome.exit_status(),
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    for (name, bytes) in writes.files() {
        report.push_str(&format!("{entry} wrote {name}={bytes:?}\n"));
    }
    report
}

/// The child's side: the runs on a thread that sandboxes itself first.
/// That thread never ends (a thread's exit makes calls outside the list):
/// the process exits from the unfiltered main thread.
fn child() -> ! {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            SANDBOX
                .apply_to_this_thread()
                .expect("seccomp filter installs");
            let mut report = run("main.py", Limits::default());
            report.push_str(&run("fails.py", Limits::default()));
            let budget = Limits {
                instructions: Some(100_000),
                ..Limits::default()
            };
            report.push_str(&run("loops.py", budget));
            tx.send(report).expect("the main thread waits");
            loop {
                std::thread::park();
            }
        })
        .expect("engine thread");
    let report = rx.recv().expect("the sandboxed runs report");
    print!("<<<REPORT\n{report}>>>REPORT\n");
    std::process::exit(0)
}

/// Runs this test binary's `test` as the sandboxed child, under `wrapper`
/// (e.g. strace) if given.
fn spawn_child(test: &str, wrapper: &[&str]) -> Output {
    let exe = std::env::current_exe().expect("test binary");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the child runs")
}

/// The child's report, checked.
fn check(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the sandboxed child failed ({}; killed by SIGSYS = a call outside the allow-list, \
         see the strace audit test)\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let report = stdout
        .split_once("<<<REPORT\n")
        .and_then(|(_, rest)| rest.split_once(">>>REPORT"))
        .map(|(report, _)| report)
        .unwrap_or_else(|| panic!("no report from the child:\n{stdout}\n{stderr}"));
    let field = |key: &str| -> String {
        report
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} missing from:\n{report}"))
            .to_owned()
    };
    assert_eq!(field("main.py status="), "5");
    assert_eq!(
        field("main.py stdout="),
        format!(
            "{:?}",
            format!(
                "/ / / ['/'] ''\n{}\n{{\"words\": [\"to\", \"be\", \"or\", \"not\", \"to\", \"be\"]}}\n\
                 ['data', 'digest.bin', 'fails.py', 'loops.py', 'main.py', 'out'] ['in.txt'] True\n\
                 0.1428571428571428571428571429 [('to', 2)]\n1970-01-01T00:00:00+00:00\n\
                 True True 80\n42 /\n",
                "'3.14.0alpha (default, Jan  1 1970, 00:00:00) '"
            )
        )
    );
    let err = field("main.py stderr=");
    assert!(
        err.starts_with("\"Traceback (most recent call last):\\n")
            && err.contains("KeyError: 'missing'\\n")
            && err.ends_with("to stderr\\n\""),
        "{err}"
    );
    assert_eq!(
        field("main.py wrote out/result.txt="),
        "[84, 79, 32, 66, 69, 32, 79, 82, 32, 78, 79, 84, 32, 84, 79, 32, 66, 69]"
    );
    assert_eq!(field("main.py wrote digest.bin=").matches(',').count(), 3);
    assert_eq!(field("fails.py status="), "1");
    let err = field("fails.py stderr=");
    assert!(
        err.contains("File \\\"fails.py\\\", line 3, in <module>")
            && err.ends_with("ValueError: boom\\n\""),
        "{err}"
    );
    assert_eq!(field("loops.py status="), "3");
    assert!(field("loops.py stderr=").contains("instruction limit"));
}

#[test]
fn engine_runs_under_the_enclave_sandbox() {
    if std::env::var_os(CHILD).is_some() {
        child();
    }
    check(&spawn_child("engine_runs_under_the_enclave_sandbox", &[]));
}

/// The same child under `strace -f`: names the calls the filter answered
/// ENOSYS (RustPython's probes) and, on failure, the call that killed it.
#[test]
fn strace_audit_of_the_sandboxed_engine() {
    if std::env::var_os(CHILD).is_some() {
        child();
    }
    match Command::new("strace").arg("-V").output() {
        Ok(v) if v.status.success() => {}
        _ => {
            shield_testdata::skip("strace does not run here: the ENOSYS calls are not listed");
            return;
        }
    }
    let log = std::env::temp_dir().join(format!("shield-py-sandbox-{}.strace", std::process::id()));
    let log_arg = log.to_string_lossy().into_owned();
    let out = spawn_child(
        "strace_audit_of_the_sandboxed_engine",
        &["strace", "-f", "-qq", "-o", &log_arg],
    );
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    if !out.status.success() {
        let last: Vec<&str> = trace.lines().rev().take(5).collect();
        panic!(
            "the sandboxed child failed under strace ({}); last calls:\n{}",
            out.status,
            last.join("\n")
        );
    }
    check(&out);
    // Only the sandboxed thread gets ENOSYS for these calls.
    let unsupported = SANDBOX.unsupported_call_names();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for line in trace.lines().filter(|l| l.contains("= -1 ENOSYS")) {
        let call = line
            .split_whitespace()
            .nth(1)
            .and_then(|rest| rest.split('(').next())
            .unwrap_or("");
        assert!(
            unsupported.contains(&call),
            "ENOSYS from a call outside the list: {line}"
        );
        *seen.entry(call).or_default() += 1;
    }
    eprintln!("calls answered ENOSYS in the sandboxed runs: {seen:?}");
}
