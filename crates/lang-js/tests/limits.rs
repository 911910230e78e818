//! Limits a script cannot disarm, and source or recursion deep enough to
//! overflow a native stack, all on the enclave's 8 MiB stack.

mod common;

use shield_engine::{LimitKind, Limits, Outcome};

fn limited(instructions: u64) -> Limits {
    Limits {
        instructions: Some(instructions),
        memory_bytes: None,
        output_bytes: Some(1 << 20),
    }
}

fn stderr(ran: &common::Ran) -> String {
    String::from_utf8_lossy(&ran.stderr).into_owned()
}

#[test]
fn instruction_budget_stops_loops_even_when_caught() {
    let src = "for (;;) { try { while (true) {} } catch (e) {} finally { continue; } }";
    let ran = common::run_source(src, limited(5_000_000));
    assert!(
        matches!(
            ran.outcome,
            Outcome::Limit {
                kind: LimitKind::Instructions,
                ..
            }
        ),
        "{:?}",
        ran.outcome
    );
    assert_eq!(ran.outcome.exit_status(), 3);
}

#[test]
fn instruction_budget_covers_promise_jobs_and_timers() {
    let src = "const spin = () => Promise.resolve().then(spin); spin(); setInterval(() => {}, 1);";
    let ran = common::run_source(src, limited(1_000_000));
    assert!(matches!(
        ran.outcome,
        Outcome::Limit {
            kind: LimitKind::Instructions,
            ..
        }
    ));
}

#[test]
fn output_limit_counts_stdout_stderr_and_files() {
    let src = "const fs = require('fs'); try { for (;;) { console.log('x'.repeat(100)); console.error('y'); fs.appendFileSync('f', 'z'.repeat(100)); } } catch (e) { console.log('caught'); }";
    let ran = common::run_source(
        src,
        Limits {
            instructions: Some(100_000_000),
            memory_bytes: None,
            output_bytes: Some(10_000),
        },
    );
    assert!(
        matches!(
            ran.outcome,
            Outcome::Limit {
                kind: LimitKind::Output,
                ..
            }
        ),
        "{:?}",
        ran.outcome
    );
    assert!(ran.stdout.len() + ran.stderr.len() <= 10_000 + 200);
}

#[test]
fn process_exit_is_not_catchable() {
    let ran = common::run_source(
        "try { process.exit(4) } catch (e) { console.log('caught') } finally { console.log('finally') }",
        limited(1_000_000),
    );
    assert_eq!(ran.outcome, Outcome::Exited(4));
    assert!(ran.stdout.is_empty());
}

#[test]
fn deep_recursion_is_a_range_error() {
    for src in [
        "function f(n) { return f(n + 1) + 1; } f(0);",
        "const o = { get x() { return this.x; } }; o.x;",
        "function g() { return [0].map(g); } g();",
    ] {
        let ran = common::run_source(src, limited(500_000_000));
        assert!(
            matches!(ran.outcome, Outcome::Error(_) | Outcome::Limit { .. }),
            "{src}: {:?}",
            ran.outcome
        );
    }
}

#[test]
fn deeply_nested_source_is_a_syntax_error() {
    let n = 100_000;
    let sources = [
        "(".repeat(n) + &")".repeat(n),
        "[".repeat(n) + &"]".repeat(n),
        "{".repeat(n) + &"}".repeat(n),
        "!".repeat(n) + "1",
        "a=".repeat(n) + "1",
        "1+".repeat(n) + "1",
        "x?".repeat(n) + "1" + &":1".repeat(n),
        "()=>".repeat(n) + "1",
        "if(1)".repeat(n) + ";",
        "`${".repeat(n) + &"}`".repeat(n),
        "function f(){".repeat(n) + &"}".repeat(n),
        "new ".repeat(n) + "Object",
    ];
    for src in &sources {
        let ran = common::run_source(src, limited(1_000_000));
        assert_eq!(
            ran.outcome.exit_status(),
            1,
            "{}: {:?}",
            &src[..20],
            ran.outcome
        );
        assert!(stderr(&ran).contains("SyntaxError"), "{}", stderr(&ran));
        // The same through eval and new Function.
        let via_eval = format!("eval({:?})", src);
        let ran = common::run_source(&via_eval, limited(10_000_000));
        assert_eq!(ran.outcome.exit_status(), 1);
    }
}

#[test]
fn nesting_just_under_the_guard_runs() {
    let d = shield_lang_js::MAX_NESTING - 10;
    for src in [
        "(".repeat(d) + "1" + &")".repeat(d),
        "[".repeat(d) + &"]".repeat(d),
        "!".repeat(d) + "1",
        "x=".repeat(d / 4) + "1",
        "1+".repeat(d) + "1",
        "if(1)".repeat(d / 4) + ";",
        "function f(){".repeat(d / 6) + &"}".repeat(d / 6),
    ] {
        let ran = common::run_source(&format!("var x; {src}"), limited(10_000_000));
        assert_eq!(
            ran.outcome,
            Outcome::Exited(0),
            "{}: {}",
            &src[..10],
            stderr(&ran)
        );
    }
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let ran = common::run_source("let a = 1;\nlet b = ;\n", limited(1_000_000));
    assert_eq!(ran.outcome.exit_status(), 1);
    let err = stderr(&ran);
    assert!(
        err.contains("SyntaxError") && err.contains("main.js:2:"),
        "{err}"
    );
}

#[test]
fn uncaught_errors_print_name_message_and_stack() {
    let ran = common::run_source(
        "function f() { throw new TypeError('boom'); }\nf();",
        limited(1_000_000),
    );
    assert_eq!(ran.outcome.exit_status(), 1);
    let err = stderr(&ran);
    assert!(err.starts_with("Uncaught TypeError: boom\n"), "{err}");
    assert!(err.contains("main.js:1:"), "{err}");
}

static HEAP_POLLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A heap backstop that reports the budget exceeded from its 50th poll on.
fn exceeded_after_50() -> bool {
    HEAP_POLLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 50
}

#[test]
fn heap_backstop_ends_the_run_with_the_memory_limit() {
    // Polled at calls into the script's world and at every promise job,
    // and not catchable.
    for src in [
        "const a = []; for (;;) { try { a.push('x'.repeat(1000)); require('fs').existsSync('x'); } catch (e) {} }",
        "const a = []; const grow = () => { a.push(new Array(100).fill(0)); return Promise.resolve().then(grow); }; grow();",
        // Script code that never calls out: polled during its evaluation,
        // in the main script, in the functions it calls and in timers.
        "let a = []; for (;;) { a = [a]; }",
        "function grow(a) { for (;;) { try { a = [a]; } catch (e) {} } } grow([]);",
        "setTimeout(() => { let a = []; for (;;) a = [a]; }, 1);",
    ] {
        HEAP_POLLS.store(0, std::sync::atomic::Ordering::Relaxed);
        let mut files = std::collections::BTreeMap::new();
        files.insert("main.js".to_owned(), src.as_bytes().to_vec());
        let ran = common::run_with_heap(
            files,
            "main.js",
            &[],
            Vec::new(),
            limited(100_000_000),
            exceeded_after_50,
        );
        assert!(
            matches!(
                ran.outcome,
                Outcome::Limit {
                    kind: LimitKind::Memory,
                    ..
                }
            ),
            "{src}: {:?}",
            ran.outcome
        );
    }
}
