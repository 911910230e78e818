//! Behaviour of `LuaVm` on single scripts: limits, errors, sandboxing.

mod common;

use std::collections::BTreeMap;

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Clock, Engine, Job, LimitKind, Limits, Outcome};
use shield_lang_lua::LuaVm;

struct FixedClock;

impl Clock for FixedClock {
    fn unix_time(&self) -> i64 {
        1_700_000_000
    }
    fn cpu_seconds(&self) -> f64 {
        1.5
    }
}

struct Run {
    outcome: Outcome,
    stdout: String,
    stderr: String,
    files: BTreeMap<String, Vec<u8>>,
}

/// Runs `main.lua` among `files` on a thread with the enclave's stack.
fn run_with(files: &[(&str, &str)], stdin: &str, limits: Limits) -> Run {
    let base: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    let stdin = stdin.to_owned();
    std::thread::Builder::new()
        .stack_size(common::ENCLAVE_STACK)
        .spawn(move || run_on_this_thread(base, &stdin, limits))
        .expect("spawn")
        .join()
        .expect("the VM does not panic")
}

fn run_on_this_thread(base: BTreeMap<String, Vec<u8>>, stdin: &str, limits: Limits) -> Run {
    let writes = MemoryWrites::new();
    let mut vfs = Overlay::new(MemoryFiles::new(base), writes.clone());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let outcome = LuaVm::new().run(Job {
        entry: "main.lua",
        args: &["a1".to_owned(), "a2".to_owned()],
        env: &[],
        stdin: &mut stdin.as_bytes(),
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs: &mut vfs,
        clock: &FixedClock,
        limits,
        heap_exceeded: shield_engine::no_heap_budget,
    });
    Run {
        outcome,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        files: writes.files(),
    }
}

fn run(script: &str) -> Run {
    run_with(&[("main.lua", script)], "", Limits::default())
}

fn limited(script: &str, limits: Limits) -> Run {
    run_with(&[("main.lua", script)], "", limits)
}

#[test]
fn language_and_basic_output() {
    assert_eq!(LuaVm::new().language(), "lua");
    let r = run("print('hi', 1, 2.5) io.write('x', 3, '\\n')");
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(r.stdout, "hi\t1\t2.5\nx3\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn args_and_varargs() {
    let r = run("print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)");
    assert_eq!(r.stdout, "main.lua\ta1\ta2\t2\t2\ta1\ta2\n");
}

#[test]
fn clock_and_env() {
    let r = run("print(os.time(), os.clock(), os.getenv('HOME'), os.date('!%Y-%m-%d'))");
    assert_eq!(r.stdout, "1700000000\t1.5\tnil\t2023-11-14\n");
}

#[test]
fn os_exit_codes() {
    assert_eq!(run("os.exit(3)").outcome, Outcome::Exited(3));
    assert_eq!(run("os.exit(true)").outcome, Outcome::Exited(0));
    assert_eq!(run("os.exit(false)").outcome, Outcome::Exited(1));
    // Not catchable by pcall, and works from inside a coroutine.
    let r = run("pcall(os.exit, 4) print('after')");
    assert_eq!(r.outcome, Outcome::Exited(4));
    assert_eq!(r.stdout, "");
    let r = run("coroutine.wrap(function() print('in') os.exit(5) end)() print('after')");
    assert_eq!(r.outcome, Outcome::Exited(5));
    assert_eq!(r.stdout, "in\n");
    // Output written before the exit is kept.
    let r = run("print('bye') os.exit(0)");
    assert_eq!(
        (r.outcome, r.stdout.as_str()),
        (Outcome::Exited(0), "bye\n")
    );
}

#[test]
fn runtime_error() {
    let r = run("local x = 1\nerror('boom')");
    let Outcome::Error(message) = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(message.starts_with("main.lua:2: boom"), "{message}");
    assert!(
        r.stderr.starts_with("lua5.4: main.lua:2: boom\n"),
        "{}",
        r.stderr
    );
    assert_eq!(r.outcome.exit_status(), 1);
    let r = run("local t = nil\nprint(t.x)");
    let Outcome::Error(message) = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(
        message.contains("main.lua:2: attempt to index"),
        "{message}"
    );
}

#[test]
fn syntax_error() {
    let r = run("print('a'\nx = = 1");
    let Outcome::Error(message) = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(message.starts_with("main.lua:"), "{message}");
    assert!(r.stderr.starts_with("lua5.4: main.lua:"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
}

#[test]
fn missing_entry() {
    let r = run_with(&[], "", Limits::default());
    let Outcome::Error(message) = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(message.contains("cannot open main.lua"), "{message}");
}

#[test]
fn stdin_reading() {
    let r = run_with(
        &[(
            "main.lua",
            "local l = io.read('l') local n = io.read('n') local rest = io.read('a')
             print(l, n, math.type(n), #rest) for line in io.lines() do print('never') end",
        )],
        "first line\n42\nabc\ndef\n",
        Limits::default(),
    );
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(r.stdout, "first line\t42\tinteger\t9\n");
}

#[test]
fn files_through_the_vfs() {
    let r = run_with(
        &[
            ("main.lua", include_str!("scripts/files.lua")),
            ("data/in.txt", "one\ntwo\nthree\n"),
        ],
        "",
        Limits::default(),
    );
    assert_eq!(r.outcome, Outcome::Exited(0), "{}", r.stderr);
    assert_eq!(r.stdout, include_str!("scripts/files.expected"));
    assert_eq!(r.files["out/result.txt"], b"3 lines\nappended\n");
    assert_eq!(r.files["data/in.txt"], b"ONE\ntwo\nthree\nmore\n");
}

#[test]
fn require_from_the_vfs() {
    let r = run_with(
        &[
            (
                "main.lua",
                "local u = require 'util' local h = require 'lib.helpers' print(u.name, h.name, require('util') == u, require('pkg').name)",
            ),
            ("util.lua", "return { name = 'util:' .. ... }"),
            (
                "lib/helpers.lua",
                "return { name = 'helpers:' .. select(2, ...) }",
            ),
            ("pkg/init.lua", "return { name = 'pkg' }"),
        ],
        "",
        Limits::default(),
    );
    assert_eq!(r.outcome, Outcome::Exited(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "util:util\thelpers:./lib/helpers.lua\ttrue\tpkg\n"
    );
    let r = run("local ok, e = pcall(require, 'nope') print(ok) print(e)");
    assert!(
        r.stdout.starts_with("false\nmodule 'nope' not found"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no file './nope.lua'"), "{}", r.stdout);
}

#[test]
fn dofile_and_loadfile() {
    let r = run_with(
        &[
            (
                "main.lua",
                "print(dofile('m.lua')) print(loadfile('m.lua')()) print(loadfile('missing.lua'))",
            ),
            ("m.lua", "return 7"),
        ],
        "",
        Limits::default(),
    );
    assert_eq!(r.outcome, Outcome::Exited(0), "{}", r.stderr);
    assert!(
        r.stdout.starts_with("7\n7\nnil\tcannot open missing.lua"),
        "{}",
        r.stdout
    );
}

#[test]
fn sandbox_escapes_fail_cleanly() {
    let r = run(include_str!("scripts/escapes.lua"));
    eprintln!("{}", r.stdout);
    assert_eq!(r.outcome, Outcome::Exited(0), "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("ESCAPED"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("refused").count(), 14, "{}", r.stdout);
    assert_eq!(r.stdout.matches("contained").count(), 2, "{}", r.stdout);
    assert!(r.files.is_empty(), "{:?}", r.files.keys());
}

#[test]
fn instruction_limit() {
    let limits = Limits {
        instructions: Some(1_000_000),
        ..Limits::default()
    };
    for script in [
        "while true do end",
        "local function f() return f() end f()",
        "while true do pcall(function() while true do end end) end",
        "coroutine.wrap(function() while true do end end)()",
    ] {
        let r = limited(script, limits);
        assert!(
            matches!(
                r.outcome,
                Outcome::Limit {
                    kind: LimitKind::Instructions,
                    ..
                }
            ),
            "{script}: {:?}",
            r.outcome
        );
        assert_eq!(
            r.stderr,
            "shield: script stopped: instruction limit of 1000000 reached\n"
        );
        assert_eq!(r.outcome.exit_status(), 3);
    }
    // Below the limit nothing happens.
    let r = limited(
        "local n = 0 for i = 1, 1000 do n = n + i end print(n)",
        limits,
    );
    assert_eq!(r.outcome, Outcome::Exited(0));
}

#[test]
fn memory_limit() {
    let limits = Limits {
        memory_bytes: Some(64 << 20),
        ..Limits::default()
    };
    for script in [
        "local s = 'x' while true do s = s .. s end",
        "local t = {} local i = 0 while true do i = i + 1 t[i] = {i} end",
        "local t = {} while true do t[#t + 1] = string.rep('y', 1000) .. #t end",
        "local s = string.rep('z', 1 << 30)",
    ] {
        let r = limited(script, limits);
        assert!(
            matches!(
                r.outcome,
                Outcome::Limit {
                    kind: LimitKind::Memory,
                    ..
                }
            ),
            "{script}: {:?}",
            r.outcome
        );
        assert_eq!(
            r.stderr,
            format!(
                "shield: script stopped: memory limit of {} bytes reached\n",
                64 << 20
            )
        );
    }
}

/// The memory limit stops each script before it has taken much more than
/// the limit: `memory_limit` runs again, alone, in a child process that
/// cannot have more than 1 GiB of address space (an overshoot by gigabytes
/// would make an allocation fail and abort it). In this process other tests
/// allocate at the same time, so its memory use says nothing.
#[test]
fn memory_limit_holds_within_a_capped_address_space() {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -v 1048576 && exec \"$0\" --exact memory_limit --test-threads=1",
        ])
        .arg(std::env::current_exe().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
}

#[test]
fn output_limit() {
    let limits = Limits {
        output_bytes: Some(1000),
        ..Limits::default()
    };
    for script in [
        "while true do print('spam') end",
        "while true do io.write('spam') end",
        "while true do pcall(print, 'spam') end",
        "while true do io.stderr:write('spam') end",
        "local f = io.open('big.txt', 'w') while true do f:write('spam') end",
    ] {
        let r = limited(script, limits);
        assert!(
            matches!(
                r.outcome,
                Outcome::Limit {
                    kind: LimitKind::Output,
                    ..
                }
            ),
            "{script}: {:?}",
            r.outcome
        );
        let total = r.stdout.len() + r.stderr.len() + r.files.values().map(Vec::len).sum::<usize>();
        let report = "shield: script stopped: output limit of 1000 bytes reached\n";
        assert!(r.stderr.ends_with(report), "{}", r.stderr);
        assert_eq!(total, 1000 + report.len(), "{script}");
    }
    // File writes count: 600 bytes to a file + 600 to stdout exceed 1000.
    let r = limited(
        "local f = io.open('o.txt', 'w') f:write(string.rep('f', 600)) f:close() io.write(string.rep('s', 600))",
        limits,
    );
    assert!(matches!(
        r.outcome,
        Outcome::Limit {
            kind: LimitKind::Output,
            ..
        }
    ));
    assert_eq!(r.files["o.txt"].len(), 600);
    assert_eq!(r.stdout.len(), 400);
    // Exactly at the limit is fine.
    let r = limited("io.write(string.rep('s', 1000))", limits);
    assert_eq!(r.outcome, Outcome::Exited(0));
}

#[test]
fn concurrent_runs_on_threads() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let script = format!(
                    "local f = io.open('t.txt', 'w') f:write('{i}') f:close() for n = 1, 200 do print({i}, n) end print(io.open('t.txt'):read('a'))"
                );
                run(&script)
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let r = h.join().unwrap();
        assert_eq!(r.outcome, Outcome::Exited(0));
        assert_eq!(r.stdout.lines().count(), 201);
        assert!(r.stdout.lines().all(|l| l.starts_with(&i.to_string())));
        assert_eq!(r.files["t.txt"], i.to_string().as_bytes());
    }
}

#[test]
fn runs_after_exits_and_limits_are_clean() {
    // A panic-based stop must not leave per-thread state behind.
    let limits = Limits {
        output_bytes: Some(10),
        ..Limits::default()
    };
    let _ = limited("while true do print('x') end", limits);
    let _ = run("os.exit(2)");
    let r = run("print(string.rep('ok', 20))");
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(r.stdout.len(), 41);
}

#[test]
fn error_objects_are_reported_like_lua_c() {
    let r = run("error({code = 1})");
    assert_eq!(
        r.stderr.lines().next(),
        Some("lua5.4: (error object is a table value)")
    );
    let r = run("error(setmetatable({}, {__tostring = function() return 'custom' end}))");
    assert_eq!(r.outcome, Outcome::Error("custom".into()));
    assert_eq!(r.stderr, "lua5.4: custom\n");
    let r = run("error(42)");
    assert!(
        r.stderr.starts_with("lua5.4: 42\nstack traceback:\n"),
        "{}",
        r.stderr
    );
    // The traceback ends at the main chunk, not in the engine's runner.
    let r = run("local function f() error('deep') end\nf()");
    let Outcome::Error(message) = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(
        message.starts_with("main.lua:1: deep\nstack traceback:\n"),
        "{message}"
    );
    assert!(message.ends_with("main.lua:2: in main chunk"), "{message}");
    assert!(!message.contains("shield"), "{message}");
}

/// omnilua removed the debug library's setters to protect its instruction
/// limit; this VM enforces the budget itself (`limits.rs` shows hooks and
/// setters cannot disarm it), so the whole library is there, as in lua5.4.
#[test]
fn debug_library_is_complete() {
    let r = run(
        "print(type(debug.sethook), type(debug.setlocal), type(debug.setupvalue), type(debug.getregistry), type(debug.setmetatable), type(debug.upvaluejoin))
         print(type(debug.traceback), type(debug.getinfo), debug.getinfo(1, 'S').short_src)
         print(select(2, xpcall(function() error('x') end, debug.traceback)):match('^main.lua:3: x\\nstack traceback:') ~= nil)",
    );
    assert_eq!(r.outcome, Outcome::Exited(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "function\tfunction\tfunction\tfunction\tfunction\tfunction\nfunction\tfunction\tmain.lua\ntrue\n"
    );
}

#[test]
fn writes_format_floats_like_lua_c() {
    let r = run(
        "io.write(3.0, ' ', 1e100, ' ', -0.0, ' ', 2^63, ' ', 7, '\\n') io.stdout:write(0.5, ' ', 12.0, '\\n') print(3.0)",
    );
    assert_eq!(r.stdout, "3 1e+100 -0 9.2233720368548e+18 7\n0.5 12\n3.0\n");
}

/// (Deep nesting and backtracking patterns: `limits.rs`.)
#[test]
fn hostile_inputs_do_not_crash() {
    let limits = Limits {
        instructions: Some(50_000_000),
        memory_bytes: Some(256 << 20),
        output_bytes: Some(1 << 20),
    };
    for script in [
        "local function f(n) return 1 + f(n - 1) end f(1)",
        "print(load('return ' .. ('('):rep(100000) .. '1' .. (')'):rep(100000)))",
        "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) print(pcall(function() return t.x end))",
        "print(load(string.dump(function() return 1 end):sub(1, 20)))",
        "print(load('\\27Lua\\84\\0garbage'))",
    ] {
        let r = limited(script, limits);
        assert!(
            matches!(r.outcome, Outcome::Exited(0) | Outcome::Error(_)),
            "{script}: {:?}",
            r.outcome
        );
    }
    // C Lua stops this at 200 nested C calls; this VM's pcall costs no host
    // stack, so it recurses to the Lua stack's limit, and handing the
    // results (one more a level) back down is quadratic work the instruction
    // budget pays for: a clean limit instead of an exit.
    let r = limited("local function f() return pcall(f) end f()", limits);
    assert!(
        matches!(
            r.outcome,
            Outcome::Exited(0)
                | Outcome::Limit {
                    kind: LimitKind::Instructions,
                    ..
                }
        ),
        "{:?}",
        r.outcome
    );
}

#[test]
fn engines_are_usable_as_trait_objects() {
    let engine: Box<dyn Engine> = Box::new(LuaVm::new());
    assert_eq!(engine.language(), "lua");
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<LuaVm>();
}
