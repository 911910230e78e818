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
        // A chain of comma operators is left-deep in the parser.
        "a,".repeat(n) + "a",
        "(".to_owned() + &"a,".repeat(n) + "a)",
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

/// Native recursion inside Boa's built-ins over deeply nested data: each
/// overflowed the 8 MiB stack (the process aborted) before the stack check.
#[test]
fn deep_data_in_recursive_builtins_is_a_range_error() {
    let deep_array = "let a = []; for (let i = 0; i < 200000; i++) a = [a];";
    let deep_object = "let o = {}; for (let i = 0; i < 200000; i++) o = { a: o };";
    for (setup, expr) in [
        (deep_array, "a.join()"),
        (deep_array, "String(a)"),
        (deep_array, "`${a}`"),
        (deep_array, "a == ''"),
        (deep_array, "a.toLocaleString()"),
        (deep_array, "JSON.stringify(a)"),
        (deep_object, "JSON.stringify(o)"),
        (deep_object, "JSON.stringify(o, ['a'])"),
        (deep_object, "JSON.stringify(o, (k, v) => v)"),
    ] {
        let src = format!(
            "{setup} try {{ {expr}; console.log('no error'); }} catch (e) {{ console.log(e.name); }}"
        );
        let ran = common::run_source(&src, limited(500_000_000));
        assert_eq!(ran.outcome, Outcome::Exited(0), "{expr}: {}", stderr(&ran));
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout),
            "RangeError\n",
            "{expr}"
        );
    }
    // Proxy chains: refused when made, past 1,000.
    let src = "let p = {}; try { for (let i = 0; i < 100000; i++) p = new Proxy(p, {}); } catch (e) { console.log(e.name); }\n\
               p.x = 1; console.log(Object.keys(p).length, Proxy.name, Proxy.length, 'prototype' in Proxy);\n\
               const r = Proxy.revocable({}, {}); r.revoke(); try { Proxy({}, {}); } catch (e) { console.log(e.name); }";
    let ran = common::run_source(src, limited(500_000_000));
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", stderr(&ran));
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout),
        "RangeError\n1 Proxy 2 false\nTypeError\n"
    );
    // Flattening any depth works, in bounded chunks.
    let src = format!("{deep_array} console.log(a.flat(Infinity).length)");
    let ran = common::run_source(&src, limited(500_000_000));
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", stderr(&ran));
    assert_eq!(ran.stdout, b"0\n");
}

/// One built-in call that would build a result past the memory limit stops
/// the run before it allocates (an allocation that large would end the
/// enclave before the next poll of the heap backstop), whatever catches.
#[test]
fn one_call_past_the_memory_limit_is_the_memory_limit() {
    for src in [
        "'x'.repeat(2 ** 31)",
        "'xy'.repeat({ valueOf() { return 2 ** 30; } })",
        "String.prototype.repeat.call({ toString() { return 'ab'; } }, 2 ** 30)",
        "'abc'.padStart(2 ** 31)",
        "'abc'.padEnd(2 ** 31, 'xyz')",
        "new Array(2 ** 31).join('x')",
        "new Array(2 ** 28).join()",
        "new Array(2 ** 31).fill(0)",
        "[].concat(new Array(2 ** 25)).fill(1)",
    ] {
        let src = format!("try {{ {src}; }} catch (e) {{ console.log('caught', e); }}");
        let ran = common::run_source(
            &src,
            Limits {
                instructions: Some(100_000_000),
                memory_bytes: Some(64 << 20),
                output_bytes: Some(1 << 20),
            },
        );
        assert!(
            matches!(
                ran.outcome,
                Outcome::Limit {
                    kind: LimitKind::Memory,
                    ..
                }
            ),
            "{src}: {:?} {}",
            ran.outcome,
            stderr(&ran)
        );
    }
    // Under the limit, and the built-ins' own errors, are unchanged.
    let ran = common::run_source(
        "console.log('ab'.repeat(3), 'x'.padStart(3, '-'), [1, [2, 3]].join(';'), new Array(3).fill(7).join());\n\
         try { 'x'.repeat(-1); } catch (e) { console.log(e.name); }\n\
         try { 'x'.repeat(Infinity); } catch (e) { console.log(e.name); }",
        Limits {
            instructions: Some(100_000_000),
            memory_bytes: Some(64 << 20),
            output_bytes: Some(1 << 20),
        },
    );
    assert_eq!(ran.outcome, Outcome::Exited(0), "{}", stderr(&ran));
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout),
        "ababab --x 1;2,3 7,7,7\nRangeError\nRangeError\n"
    );
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
        "x,".repeat(d * 10) + "1",
        format!("x = [{}1]", "1,".repeat(100_000)),
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
fn an_import_chain_past_the_module_limit_is_an_error() {
    // 20,000 modules importing each other in a chain overflowed the stack.
    let n = 20_000;
    let mut files = std::collections::BTreeMap::new();
    for i in 0..n {
        let text = if i + 1 < n {
            format!("import './m{}.mjs';\n", i + 1)
        } else {
            "console.log('leaf');\n".to_owned()
        };
        files.insert(format!("m{i}.mjs"), text.into_bytes());
    }
    let ran = common::run(files, "m0.mjs", &[], Vec::new(), limited(500_000_000));
    assert_eq!(ran.outcome.exit_status(), 1, "{:?}", ran.outcome);
    assert!(stderr(&ran).contains("RangeError"), "{}", stderr(&ran));
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
fn stack_columns_on_a_commonjs_first_line_are_nodes() {
    // Node: `at f (main.js:1:22)`; the module wrapper's text before the
    // first line must not shift it.
    let ran = common::run_source(
        "function f() { throw new TypeError('boom'); }\nf();",
        limited(1_000_000),
    );
    let err = stderr(&ran);
    assert!(err.contains("main.js:1:22)"), "{err}");
    assert!(!err.contains("shield:"), "{err}");
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
        // Promise reactions run under the same polled evaluation.
        "Promise.resolve().then(() => { let a = []; for (;;) a = [a]; });",
        "Promise.resolve(1).then(function () { let a = []; for (;;) { try { a = [a]; } catch (e) {} } });",
        // Built-ins that allocate poll it as they start.
        "[0].map(() => { let s = ''; for (;;) s += 'x'.repeat(10); });",
        "[0].forEach(() => { const a = []; for (;;) a.push([0, 0].join()); });",
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
