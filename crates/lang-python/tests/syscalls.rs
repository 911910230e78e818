//! What the engine asks of the OS, under `strace`: a script touching the
//! VFS, the clock, random numbers, imports and output runs through the
//! `pyrun` example (in-memory VFS), and every system call of the engine's
//! thread must be one the enclave's seccomp filter allows, except the
//! file-system probes RustPython 0.5 makes while creating any interpreter
//! (`rustpython_vm::getpath`, unconditional in `Interpreter::builder`, and
//! `sys.version`'s build date formatted in local time through chrono, which
//! reads /etc/localtime), which are listed loudly: under the enclave's
//! filter they are fatal.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// What the enclave's filter allows (crates/enclave), plus the thread
/// start-up Rust's std does before the engine runs (done before the filter
/// in an enclave, whose workers start first).
const ALLOWED: &[&str] = &[
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "brk",
    "mremap",
    "futex",
    "clock_gettime",
    "getrandom",
    "exit",
    "sched_yield",
    "sched_getaffinity",
    "rt_sigprocmask",
    "sigaltstack",
    "set_robust_list",
    "rseq",
    "gettid",
];

/// RustPython's getpath: probes for a venv, a build folder and a stdlib.
const GETPATH_PROBES: &[&str] = &["statx", "newfstatat", "access", "getcwd", "readlink"];

const SCRIPT: &str = r#"
import json, re, random, time, datetime, os, collections, decimal, hashlib
print(json.dumps({"a": [1, 2]}), re.sub("a", "b", "aaa"), random.random() < 1)
print(time.time() > 0, datetime.datetime.now().year > 2000, os.listdir("."))
with open("out.txt", "w") as f:
    f.write("x")
print(open("out.txt").read(), hashlib.sha256(b"").hexdigest()[:8], decimal.Decimal(1) / 3)
"#;

#[test]
fn engine_thread_system_calls() {
    let Ok(version) = Command::new("strace").arg("-V").output() else {
        shield_testdata::skip("strace not installed: system calls not checked");
        return;
    };
    if !version.status.success() {
        shield_testdata::skip("strace does not run here: system calls not checked");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let pyrun: PathBuf = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/pyrun");
    if !pyrun.is_file() {
        shield_testdata::skip("the pyrun example is not built: system calls not checked");
        return;
    }
    let dir = std::env::temp_dir().join(format!("shield-py-syscalls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.py"), SCRIPT).unwrap();
    // Beside the script's folder, not in it: pyrun loads the whole folder.
    let log = dir.with_extension("strace");
    let out = Command::new("strace")
        .arg("-f")
        .arg("-qq")
        .arg("-o")
        .arg(&log)
        .arg(&pyrun)
        .arg(&dir)
        .arg("main.py")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&log);
    // The engine's thread: the one the example spawns.
    let thread = trace
        .lines()
        .find(|l| l.contains("clone3(") || l.contains("clone("))
        .and_then(|l| l.rsplit("= ").next())
        .map(|t| t.trim().to_owned())
        .expect("the engine thread");
    let mut probes = Vec::new();
    let mut forbidden = Vec::new();
    for line in trace.lines() {
        let Some(rest) = line.strip_prefix(&format!("{thread} ")) else {
            continue;
        };
        if rest.starts_with("<...") || rest.starts_with("+++") {
            continue;
        }
        let name = rest.split('(').next().unwrap_or("");
        // The example's own stdout and stdin: the job's streams.
        if (name == "write" && rest.starts_with("write(1,")) || rest.starts_with("read(0,") {
            continue;
        }
        if ALLOWED.contains(&name) {
            continue;
        }
        let localtime = (name == "openat" && rest.contains("\"/etc/localtime\""))
            || rest.starts_with("read(3,")
            || rest.starts_with("close(3)");
        if GETPATH_PROBES.contains(&name) || localtime {
            probes.push(rest.to_owned());
        } else {
            forbidden.push(rest.to_owned());
        }
    }
    assert!(
        forbidden.is_empty(),
        "system calls outside the enclave's filter:\n{}",
        forbidden.join("\n")
    );
    if !probes.is_empty() {
        let _ = writeln!(
            std::io::stderr().lock(),
            "KNOWN BLOCKER: creating the RustPython interpreter made {} host file-system calls (getpath probes, /etc/localtime), fatal under the enclave's seccomp filter, e.g. {}",
            probes.len(),
            probes[0]
        );
    }
}
