//! The engine boundary: limits end runs with `Outcome::Limit`, the script's
//! world is the `Job` (arguments, VFS, streams), errors are outcomes.

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Clock, Engine, Job, LimitKind, Limits, Outcome};
use shield_lang_squirrel::SquirrelEngine;
use std::collections::BTreeMap;

struct FixedClock;

impl Clock for FixedClock {
    fn unix_time(&self) -> i64 {
        86_400 * 365 + 3_661
    }

    fn cpu_seconds(&self) -> f64 {
        1.5
    }
}

struct Run {
    outcome: Outcome,
    stdout: String,
    stderr: String,
    written: BTreeMap<String, Vec<u8>>,
}

fn run_with(src: &str, args: &[&str], limits: Limits) -> Run {
    let mut files = BTreeMap::new();
    files.insert("main.nut".to_owned(), src.as_bytes().to_vec());
    files.insert("lib.nut".to_owned(), b"return 7;".to_vec());
    let writes = MemoryWrites::new();
    let mut vfs = Overlay::new(MemoryFiles::new(files), writes.clone());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let outcome = SquirrelEngine::new().run(Job {
        entry: "main.nut",
        args: &args,
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut out,
        stderr: &mut err,
        vfs: &mut vfs,
        clock: &FixedClock,
        limits,
        heap_exceeded: shield_engine::no_heap_budget,
    });
    Run {
        outcome,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        written: writes.files(),
    }
}

fn run(src: &str) -> Run {
    run_with(src, &[], Limits::default())
}

fn limit_kind(o: &Outcome) -> Option<LimitKind> {
    match o {
        Outcome::Limit { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn language_name() {
    assert_eq!(SquirrelEngine::new().language(), "squirrel");
}

#[test]
fn args_arrive_in_vargv() {
    let r = run_with(
        "foreach (a in vargv) print(a + \";\");",
        &["x", "y z"],
        Limits::default(),
    );
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(r.stdout, "x;y z;");
}

#[test]
fn instruction_limit_stops_an_endless_loop() {
    let limits = Limits {
        instructions: Some(10_000),
        ..Limits::default()
    };
    let r = run_with("while (true) {}", &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Instructions));
    assert_eq!(r.outcome.exit_status(), 3);
    // A script cannot catch it.
    let r = run_with(
        "try { while (true) {} } catch (e) { print(\"caught\"); }",
        &[],
        limits,
    );
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Instructions));
    assert_eq!(r.stdout, "");
}

#[test]
fn instruction_limit_covers_regexp_backtracking() {
    let limits = Limits {
        instructions: Some(100_000),
        ..Limits::default()
    };
    let src =
        "local s = \"\"; for (local i = 0; i < 30; i++) s += \"a\"; regexp(\"(a*)*b\").match(s);";
    let r = run_with(src, &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Instructions));
}

#[test]
fn memory_limit_stops_growth() {
    let limits = Limits {
        memory_bytes: Some(4 << 20),
        ..Limits::default()
    };
    let r = run_with(
        "local a = []; while (true) a.append([1, 2, 3]);",
        &[],
        limits,
    );
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Memory));
    let r = run_with("local a = array(1 << 40);", &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Memory));
    let r = run_with("local s = \"x\"; while (true) s += s;", &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Memory));
}

fn always_exceeded() -> bool {
    true
}

#[test]
fn heap_backstop_is_polled() {
    let mut files = BTreeMap::new();
    files.insert(
        "main.nut".to_owned(),
        b"local i = 0; while (true) i++;".to_vec(),
    );
    let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let outcome = SquirrelEngine::new().run(Job {
        entry: "main.nut",
        args: &[],
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut out,
        stderr: &mut err,
        vfs: &mut vfs,
        clock: &FixedClock,
        limits: Limits::default(),
        heap_exceeded: always_exceeded,
    });
    assert_eq!(limit_kind(&outcome), Some(LimitKind::Memory));
}

#[test]
fn garbage_is_collected_under_the_memory_limit() {
    let limits = Limits {
        memory_bytes: Some(8 << 20),
        ..Limits::default()
    };
    let src = "for (local i = 0; i < 200000; i++) { local t = {a = [i, i], b = \"s\" + i}; } print(\"ok\");";
    let r = run_with(src, &[], limits);
    assert_eq!(r.outcome, Outcome::Exited(0), "{}", r.stderr);
    assert_eq!(r.stdout, "ok");
}

#[test]
fn output_limit_counts_stdout_stderr_and_files() {
    let limits = Limits {
        output_bytes: Some(100),
        ..Limits::default()
    };
    let r = run_with("while (true) print(\"0123456789\");", &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Output));
    let r = run_with("while (true) error(\"0123456789\");", &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Output));
    let src = "local f = file(\"out.bin\", \"w\"); while (true) f.writen(1, 'l');";
    let r = run_with(src, &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Output));
    // A gap left by seeking past the end is output as well.
    let src = "local f = file(\"gap.bin\", \"w\"); f.seek(1000); f.writen(1, 'b');";
    let r = run_with(src, &[], limits);
    assert_eq!(limit_kind(&r.outcome), Some(LimitKind::Output));
    let r = run("local f = file(\"gap.bin\", \"w\"); f.seek(1 << 40); f.writen(1, 'b');");
    assert!(matches!(r.outcome, Outcome::Error(_)), "{:?}", r.outcome);
}

#[test]
fn files_are_the_vfs() {
    let src = "local f = file(\"out.txt\", \"w\"); f.writen(72, 'b'); f.writen(105, 'b'); f.close(); print(dofile(\"lib.nut\"));";
    let r = run(src);
    assert_eq!(r.outcome, Outcome::Exited(0), "{}", r.stderr);
    assert_eq!(r.stdout, "7");
    assert_eq!(
        r.written.get("out.txt").map(Vec::as_slice),
        Some(&b"Hi"[..])
    );
    // Nothing outside the VFS root.
    let r = run("file(\"../etc/passwd\", \"r\");");
    assert!(matches!(r.outcome, Outcome::Error(_)));
    let r = run("print(getenv(\"PATH\"));");
    assert_eq!(r.stdout, "null");
}

#[test]
fn stdin_is_the_jobs() {
    let mut files = BTreeMap::new();
    files.insert(
        "main.nut".to_owned(),
        b"local b = stdin.readblob(2); print(b.len() + \" \" + b[0] + \" \" + b[1]); local c = stdin.readblob(10); print(\" \" + c.len() + \" \" + stdin.eos());".to_vec(),
    );
    let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let outcome = SquirrelEngine::new().run(Job {
        entry: "main.nut",
        args: &[],
        env: &[],
        stdin: &mut &b"AB!"[..],
        stdout: &mut out,
        stderr: &mut err,
        vfs: &mut vfs,
        clock: &FixedClock,
        limits: Limits::default(),
        heap_exceeded: shield_engine::no_heap_budget,
    });
    assert_eq!(
        outcome,
        Outcome::Exited(0),
        "{}",
        String::from_utf8_lossy(&err)
    );
    assert_eq!(out, b"2 65 66 1 1");
}

#[test]
fn clock_comes_from_the_job() {
    let r = run(
        "print(time() + \" \" + clock()); local d = date(); print(\" \" + d.year + \"-\" + d.month + \"-\" + d.day + \" \" + d.hour + \":\" + d.min);",
    );
    assert_eq!(r.stdout, "31539661 1.5 1971-0-1 1:1");
}

#[test]
fn uncaught_error_reports_and_exits_1() {
    let r = run("function f(x) { throw \"bad \" + x; }\nf(1);");
    assert!(matches!(&r.outcome, Outcome::Error(m) if m.contains("AN ERROR HAS OCCURRED [bad 1]")));
    assert_eq!(r.outcome.exit_status(), 1);
    assert!(r.stderr.starts_with(
        "\nAN ERROR HAS OCCURRED [bad 1]\n\nCALLSTACK\n*FUNCTION [f()] main.nut line [1]\n"
    ));
}

#[test]
fn compile_error_reports_position() {
    let r = run("local x = 1;\nlocal = 2;");
    assert_eq!(r.outcome.exit_status(), 1);
    assert_eq!(
        r.stderr,
        "main.nut line = (2) column = (8) : error expected 'IDENTIFIER'\n"
    );
}

#[test]
fn deep_recursion_is_a_script_error() {
    let r = run("function f(n) { return 1 + f(n + 1); } try { f(0); } catch (e) { print(e); }");
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(r.stdout, "stack overflow");
    // Tail calls do not grow the call stack.
    let r =
        run("function g(n) { if (n == 0) return \"done\"; return g(n - 1); } print(g(100000));");
    assert_eq!(r.stdout, "done");
}

#[test]
fn missing_entry_is_an_error() {
    let mut vfs = Overlay::new(MemoryFiles::new(BTreeMap::new()), MemoryWrites::new());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let outcome = SquirrelEngine::new().run(Job {
        entry: "absent.nut",
        args: &[],
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut out,
        stderr: &mut err,
        vfs: &mut vfs,
        clock: &FixedClock,
        limits: Limits::default(),
        heap_exceeded: shield_engine::no_heap_budget,
    });
    assert_eq!(outcome.exit_status(), 1);
}
