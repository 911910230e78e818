//! Runs test262 through the engine in this process, natively (CI runs its
//! sample inside the JavaScript enclave: `crates/shield`'s
//! `test262_tests`, which also writes `CONFORMANCE.md`).
//!
//! `cargo run --release -p shield-lang-js --example test262 -- PREFIX...`
//! runs the tests whose path starts with one of the prefixes (e.g.
//! `test/built-ins/JSON`), `-- --sample` the CI sample and `-- --all`
//! everything, printing the failures and the table CONFORMANCE.md has.
#![forbid(unsafe_code)]

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_js::JsEngine;
use shield_testdata::test262;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = args.iter().any(|a| a == "--all");
    let sampled = args.iter().any(|a| a == "--sample");
    let prefixes: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(root) = test262::unpack() else {
        std::process::exit(2);
    };
    let tests: Vec<String> = if sampled {
        test262::sample(&test262::all_tests(&root), test262::SAMPLE, test262::SEED)
    } else {
        test262::all_tests(&root)
            .into_iter()
            .filter(|t| all || prefixes.iter().any(|p| t.starts_with(p.as_str())))
            .collect()
    };
    // The enclave's script thread has an 8 MiB stack; so does this one.
    let runner = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut suite = test262::Suite::new(root.clone());
            let mut tally = test262::Tally::default();
            for t in &tests {
                let verdict = suite.run(t, &mut run_in_process);
                if verdict == test262::Verdict::Fail {
                    println!("FAIL {t}");
                }
                tally.record(&root, t, verdict);
            }
            tally
        })
        .expect("spawn");
    let tally = runner.join().expect("the runner thread must not die");
    println!(
        "{}",
        tally.markdown(
            "`cargo run --release -p shield-lang-js --example test262`",
            "the tests asked for, natively"
        )
    );
}

/// Runs `driver.js` among `files` with the engine, as the enclave would.
fn run_in_process(files: &test262::Files) -> test262::Ran {
    let mut vfs = Overlay::new(MemoryFiles::new(files.clone()), MemoryWrites::new());
    let mut stdout = Vec::new();
    let outcome = JsEngine::new().run(Job {
        entry: test262::ENTRY,
        args: &[],
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut stdout,
        stderr: &mut std::io::sink(),
        vfs: &mut vfs,
        clock: &SystemClock,
        limits: Limits {
            instructions: Some(test262::INSTRUCTIONS),
            memory_bytes: None,
            output_bytes: Some(test262::OUTPUT_BYTES),
        },
        heap_exceeded: shield_engine::no_heap_budget,
    });
    test262::Ran {
        status: outcome.exit_status(),
        stdout,
    }
}
