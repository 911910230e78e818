//! The engine's contract: the script's world (streams, argv, exit status,
//! VFS, clock), the limits, and failures that must stay outcomes.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Ran, run, run_env, run_with};
use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, LimitKind, Limits, Outcome};
use shield_lang_python::PythonEngine;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_limit(ran: &Ran, kind: LimitKind) {
    match &ran.outcome {
        Outcome::Limit { kind: k, .. } if *k == kind => {}
        other => panic!(
            "expected a {kind:?} limit, got {other:?}\nstdout: {}\nstderr: {}",
            text(&ran.stdout),
            text(&ran.stderr)
        ),
    }
}

fn budget(n: u64) -> Limits {
    Limits {
        instructions: Some(n),
        ..Limits::default()
    }
}

#[test]
fn language_is_python() {
    assert_eq!(PythonEngine::new().language(), "python");
}

#[test]
fn hello_argv_and_stdin() {
    let mut files = BTreeMap::new();
    files.insert(
        "app/main.py".to_owned(),
        b"import sys\nprint('hello', sys.argv)\nprint(sys.stdin.read().upper(), end='')\nprint(sys.path)\n"
            .to_vec(),
    );
    let ran = run_with(
        files,
        "app/main.py",
        &["x", "y"],
        b"in\n",
        Limits::default(),
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "hello ['app/main.py', 'x', 'y']\nIN\n['/app']\n"
    );
}

#[test]
fn time_comes_from_the_job_clock() {
    let ran = run(
        "import time, datetime\nprint(time.time())\nprint(time.strftime('%Y-%m-%d %H:%M:%S', time.localtime()))\nprint(datetime.datetime.now().isoformat())\nprint(time.perf_counter())\n",
        Limits::default(),
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "1700000000.0\n2023-11-14 22:13:20\n2023-11-14T22:13:20\n1.5\n"
    );
}

#[test]
fn environment_is_empty_and_host_is_closed() {
    let ran = run(
        r#"
import os, sys
print(dict(os.environ), os.getcwd())
for name in ("socket", "subprocess", "threading", "_posixsubprocess", "_signal", "select", "mmap"):
    try:
        __import__(name)
        print(name, "imported")
    except ImportError:
        print(name, "absent")
import _io
for attempt in (lambda: _io.FileIO("main.py"), lambda: _io.open_code("main.py"), lambda: os.system("ls"),
                lambda: os.remove("main.py"), lambda: open("../escape.txt")):
    try:
        attempt()
        print("allowed")
    except OSError as e:
        print(type(e).__name__)
print(hasattr(sys, "monitoring"))
"#,
        Limits::default(),
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "{} /\nsocket absent\nsubprocess absent\nthreading absent\n_posixsubprocess absent\n_signal absent\nselect absent\nmmap absent\nPermissionError\nPermissionError\nPermissionError\nPermissionError\nPermissionError\nFalse\n"
    );
}

#[test]
fn environment_comes_from_the_job() {
    let mut files = BTreeMap::new();
    files.insert(
        "main.py".to_owned(),
        b"import os\nprint(os.environ['GREETING'], os.getenv('EMPTY'), os.getenv('NOPE', 'dflt'), sorted(os.environ))\n"
            .to_vec(),
    );
    let ran = run_env(
        files,
        "main.py",
        &[],
        b"",
        &[("GREETING", "hi there"), ("EMPTY", "")],
        Limits::default(),
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", text(&ran.stderr));
    assert_eq!(text(&ran.stdout), "hi there  dflt ['EMPTY', 'GREETING']\n");
}

#[test]
fn written_files_reach_the_write_layer() {
    let ran = run(
        "with open('out/r.txt', 'w') as f:\n    f.write('done\\n')\nwith open('b.bin', 'wb') as f:\n    f.write(b'\\x00\\x01')\n",
        Limits::default(),
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", text(&ran.stderr));
    assert_eq!(
        ran.written.get("out/r.txt").map(Vec::as_slice),
        Some(&b"done\n"[..])
    );
    assert_eq!(
        ran.written.get("b.bin").map(Vec::as_slice),
        Some(&b"\x00\x01"[..])
    );
}

#[test]
fn uncaught_exception_is_a_cpython_traceback() {
    let ran = run(
        "def f():\n    raise ValueError('bad')\nf()\n",
        Limits::default(),
    );
    assert_eq!(ran.outcome.exit_status(), 1);
    let err = text(&ran.stderr);
    assert!(
        err.starts_with("Traceback (most recent call last):\n"),
        "{err}"
    );
    assert!(
        err.contains("  File \"main.py\", line 3, in <module>\n"),
        "{err}"
    );
    assert!(err.contains("    raise ValueError('bad')\n"), "{err}");
    assert!(err.ends_with("ValueError: bad\n"), "{err}");
    match ran.outcome {
        Outcome::Error(message) => assert!(message.ends_with("ValueError: bad"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn exit_status_from_sys_exit() {
    assert_eq!(
        run("import sys\nsys.exit(7)\n", Limits::default()).outcome,
        Outcome::Exited(7)
    );
    assert_eq!(
        run("raise SystemExit\n", Limits::default()).outcome,
        Outcome::Exited(0)
    );
    let ran = run("import sys\nsys.exit('msg')\n", Limits::default());
    assert_eq!(ran.outcome, Outcome::Exited(1));
    assert_eq!(text(&ran.stderr), "msg\n");
}

#[test]
fn instruction_budget_stops_a_loop() {
    assert_limit(
        &run("while True:\n    pass\n", budget(100_000)),
        LimitKind::Instructions,
    );
    assert_limit(
        &run("x = 0\nwhile x >= 0:\n    x += 1\n", budget(100_000)),
        LimitKind::Instructions,
    );
    assert_limit(
        &run(
            "def f():\n    return 1\nwhile True:\n    f()\n",
            budget(100_000),
        ),
        LimitKind::Instructions,
    );
    let done = run(
        "for i in range(1000):\n    pass\nprint('ok')\n",
        budget(100_000),
    );
    assert_eq!(done.outcome, Outcome::Exited(0));
}

#[test]
fn the_budget_cannot_be_caught() {
    let script = r#"
import sys
while True:
    try:
        while True:
            pass
    except BaseException:
        pass
    finally:
        pass
"#;
    assert_limit(&run(script, budget(50_000)), LimitKind::Instructions);
    // Loops whose back edge RustPython compiles without a JUMP event.
    for script in [
        "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n",
        "while True:\n    try:\n        x = 1\n    finally:\n        pass\n",
        "def f():\n    while 1:\n        with open('main.py') as g:\n            pass\nf()\n",
        "exec('while True:\\n    try:\\n        pass\\n    except Exception:\\n        pass\\n')\n",
        "for i in range(10**12):\n    try:\n        pass\n    except Exception:\n        pass\n",
        "while True:\n    try:\n        for x in ():\n            pass\n    except Exception:\n        pass\n",
        "for i in range(10**12):\n    try:\n        x = 1\n    except Exception:\n        pass\n    y = 2\n",
        "while True:\n    try:\n        raise ValueError\n    except ValueError:\n        pass\n    x = 1\n",
    ] {
        assert_limit(&run(script, budget(50_000)), LimitKind::Instructions);
    }
    let script = "try:\n    while True: pass\nexcept BaseException:\n    print('caught')\n";
    let ran = run(script, budget(50_000));
    assert_limit(&ran, LimitKind::Instructions);
    assert_eq!(text(&ran.stdout), "");
}

#[test]
fn output_limit() {
    let limits = Limits {
        output_bytes: Some(10_000),
        ..Limits::default()
    };
    assert_limit(
        &run("while True:\n    print('x' * 100)\n", limits),
        LimitKind::Output,
    );
    let script = "while True:\n    try:\n        print('y' * 100, flush=True)\n    except BaseException:\n        pass\n";
    let ran = run(script, limits);
    assert_limit(&ran, LimitKind::Output);
    assert!(ran.stdout.len() <= 10_000);
    let files = "f = open('big.txt', 'w')\nwhile True:\n    f.write('z' * 1000)\n    f.flush()\n";
    assert_limit(&run(files, limits), LimitKind::Output);
}

static OVER_BUDGET: AtomicBool = AtomicBool::new(false);

fn heap_flag() -> bool {
    OVER_BUDGET.load(Ordering::Relaxed)
}

#[test]
fn memory_limit_from_the_heap_backstop() {
    OVER_BUDGET.store(true, Ordering::Relaxed);
    let source = b"x = []\nwhile True:\n    x.append('a' * 1000)\n".to_vec();
    let outcome = std::thread::Builder::new()
        .stack_size(common::STACK)
        .spawn(move || {
            let mut files = BTreeMap::new();
            files.insert("main.py".to_owned(), source);
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            PythonEngine::new().run(Job {
                entry: "main.py",
                args: &[],
                env: &[],
                stdin: &mut std::io::empty(),
                stdout: &mut stdout,
                stderr: &mut stderr,
                vfs: &mut vfs,
                clock: &common::FakeClock,
                // The allocator's verdict is polled where a memory limit is.
                limits: Limits {
                    memory_bytes: Some(1 << 30),
                    ..Limits::default()
                },
                heap_exceeded: heap_flag,
            })
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::Limit {
                kind: LimitKind::Memory,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[test]
fn deep_recursion_is_a_recursion_error() {
    let ran = run("def f():\n    f()\nf()\n", Limits::default());
    assert_eq!(ran.outcome.exit_status(), 1);
    assert!(
        text(&ran.stderr).contains("RecursionError"),
        "{}",
        text(&ran.stderr)
    );
    // Raising the limit is capped where the stack holds.
    let ran = run(
        "import sys\nsys.setrecursionlimit(10**9)\ndef f(n):\n    return f(n + 1)\ntry:\n    f(0)\nexcept RecursionError:\n    print('held')\n",
        Limits::default(),
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", text(&ran.stderr));
    assert_eq!(text(&ran.stdout), "held\n");
    // Recursion through dunder methods and builtins.
    let ran = run(
        "class A:\n    def __repr__(self):\n        return repr(self)\ntry:\n    repr(A())\nexcept RecursionError:\n    print('held')\n",
        Limits::default(),
    );
    assert_eq!(text(&ran.stdout), "held\n", "{}", text(&ran.stderr));
}

#[test]
fn deeply_nested_source_is_an_error() {
    for source in [
        format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000)),
        format!("x = {}\n", "[".repeat(100_000)),
        format!("x = {}1\n", "-".repeat(100_000)),
        format!("x = {}1\n", "not ".repeat(100_000)),
        format!("x = 1{}\n", " + 1".repeat(100_000)),
        format!("x = a{}\n", ".b".repeat(100_000)),
        format!("eval('{}1{}')\n", "(".repeat(100_000), ")".repeat(100_000)),
    ] {
        let ran = run(&source, Limits::default());
        assert!(
            matches!(ran.outcome, Outcome::Error(_) | Outcome::Limit { .. }),
            "{:?} for {}...",
            ran.outcome,
            &source[..20]
        );
    }
}

/// The checked `compile`/`eval`/`exec` are native: no `__globals__` that
/// would lead to the unchecked originals, and they behave as the builtins.
#[test]
fn checked_builtins_keep_their_originals_out_of_reach() {
    let ran = run(
        r#"
import _shield
print(hasattr(compile, "__globals__"), hasattr(exec, "__globals__"))
_shield.keep_builtins(print, print, print)
try:
    exec("x = " + "[" * 100000)
except SyntaxError as e:
    print(e.msg)
print(eval(" 1 + 2"), eval(compile("3*3", "f", "eval")))
exec("y = 5")
def f():
    a = 7
    return eval("a + 1")
print(y, f())
"#,
        Limits::default(),
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "False False\ntoo many nested parentheses or operators\n3 9\n5 8\n"
    );
}

/// The limit hook must not disturb the standard library: formatting a
/// traceback runs generators that import modules.
#[test]
fn tracebacks_under_a_budget() {
    let ran = run(
        "import traceback\ntry:\n    raise ValueError('x')\nexcept ValueError:\n    print(traceback.format_exc().splitlines()[-1])\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n",
        budget(100_000_000),
    );
    assert_eq!(text(&ran.stdout), "ValueError: x\n");
    assert_eq!(ran.outcome.exit_status(), 1);
    assert!(
        text(&ran.stderr).contains("\nRecursionError: maximum recursion depth exceeded"),
        "{}",
        text(&ran.stderr)
    );
}

#[test]
fn runs_are_independent() {
    let first = run(
        "import sys\nsys.shared = 1\nimport json\njson.x = 2\n",
        Limits::default(),
    );
    assert_eq!(first.outcome, Outcome::Exited(0));
    let second = run(
        "import sys, json\nprint(hasattr(sys, 'shared'), hasattr(json, 'x'))\n",
        Limits::default(),
    );
    assert_eq!(text(&second.stdout), "False False\n");
}

/// An enclave's worker serves run after run on one thread: a run stopped
/// by unwinding must leave the next one whole, limits included.
#[test]
fn a_stopped_run_leaves_the_thread_usable() {
    let outcomes = std::thread::Builder::new()
        .stack_size(common::STACK)
        .spawn(|| {
            let one = |source: &str, limits: Limits| {
                let mut files = BTreeMap::new();
                files.insert("main.py".to_owned(), source.as_bytes().to_vec());
                let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
                let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
                let outcome = PythonEngine::new().run(Job {
                    entry: "main.py",
                    args: &[],
                    env: &[],
                    stdin: &mut std::io::empty(),
                    stdout: &mut stdout,
                    stderr: &mut stderr,
                    vfs: &mut vfs,
                    clock: &common::FakeClock,
                    limits,
                    heap_exceeded: shield_engine::no_heap_budget,
                });
                (outcome, stdout)
            };
            let output = Limits {
                output_bytes: Some(100),
                ..Limits::default()
            };
            vec![
                one("while True:\n    pass\n", budget(10_000)),
                one("while True:\n    print('x' * 50)\n", output),
                one("while True:\n    pass\n", budget(10_000)),
                one("print(sum(range(10)))\n", budget(10_000)),
            ]
        })
        .unwrap()
        .join()
        .unwrap();
    let kinds: Vec<Option<LimitKind>> = outcomes
        .iter()
        .map(|(o, _)| match o {
            Outcome::Limit { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            Some(LimitKind::Instructions),
            Some(LimitKind::Output),
            Some(LimitKind::Instructions),
            None
        ]
    );
    assert_eq!(outcomes[3], (Outcome::Exited(0), b"45\n".to_vec()));
}
