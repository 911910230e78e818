//! A fuzz smoke test: corpus programs, mutated at random (deterministic
//! seed), through the compiler and VM under small limits. Every run must end
//! in an outcome: no panic, no hang, no stack overflow.

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};
use shield_lang_squirrel::SquirrelEngine;
use std::collections::BTreeMap;
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn run(src: Vec<u8>) {
    let shown = String::from_utf8_lossy(&src).into_owned();
    let mut files = BTreeMap::new();
    files.insert("main.nut".to_owned(), src);
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
        clock: &SystemClock,
        limits: Limits {
            instructions: Some(200_000),
            memory_bytes: Some(8 << 20),
            output_bytes: Some(64 << 10),
        },
        heap_exceeded: shield_engine::no_heap_budget,
    });
    // The engine turns a panic into an internal error: that is a VM bug.
    if let Outcome::Error(m) = &outcome {
        assert!(
            !m.starts_with("internal engine error"),
            "{m}\n--- input ---\n{shown}"
        );
    }
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "function",
    "class",
    "local",
    "=",
    "<-",
    "+",
    "-",
    "*",
    "/",
    "%",
    ";",
    "\n",
    "yield",
    "resume",
    "foreach",
    "in",
    "try",
    "catch",
    "throw",
    "\"",
    "'",
    "@",
    "::",
    ".",
    ",",
    "this",
    "base",
    "null",
    "0",
    "1e308",
    "-9223372036854775808",
    "while(1)",
    "clone",
    "delete",
    "typeof",
    "</",
    "/>",
    "...",
    "switch",
    "case",
    "default:",
    "break",
];

#[test]
fn mutated_corpus_never_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut seeds = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("corpus") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "nut") {
                seeds.push(std::fs::read(&p).expect("read"));
            }
        }
    }
    seeds.sort();
    // More rounds on demand: SHIELD_FUZZ_ROUNDS=100000 (a seed too:
    // SHIELD_FUZZ_SEED), for campaigns outside CI.
    let rounds = std::env::var("SHIELD_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600usize);
    let seed = std::env::var("SHIELD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15u64);
    let mut rng = Rng(seed | 1);
    for i in 0..rounds {
        let mut src = seeds[i % seeds.len()].clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(src.len() + 1);
            match rng.below(4) {
                // Crossover: a piece of another program.
                3 => {
                    let other = &seeds[rng.below(seeds.len())];
                    let from = rng.below(other.len());
                    let to = (from + 1 + rng.below(80)).min(other.len());
                    src.splice(at..at, other[from..to].iter().copied());
                }
                0 if !src.is_empty() => {
                    let end = (at + rng.below(8)).min(src.len());
                    src.drain(at.min(end)..end);
                }
                1 => {
                    let t = TOKENS[rng.below(TOKENS.len())];
                    src.splice(at..at, t.bytes());
                }
                _ => {
                    if !src.is_empty() {
                        let j = rng.below(src.len());
                        src[j] = rng.next() as u8;
                    }
                }
            }
        }
        run(src);
    }
    // Hostile shapes: deep nesting, deep recursion, huge allocations.
    run("(".repeat(100_000).into_bytes());
    run("{".repeat(100_000).into_bytes());
    run("local a = "
        .to_owned()
        .into_bytes()
        .into_iter()
        .chain("[".repeat(50_000).into_bytes())
        .collect());
    run(b"function f(n) { return f(n + 1); } f(0);".to_vec());
    run(b"class A { function _tostring() { return \"\" + this; } } print(A());".to_vec());
    run(b"local a = array(1 << 40);".to_vec());
    run(b"local a = array(1e3080, 1); a.resize(-1);".to_vec());
    run(b"local s = \"x\"; while (true) s += s;".to_vec());
    run(b"local t = {}; local i = 0; while (true) t[i++] <- i;".to_vec());
    run(b"while (true) print(\"spam\");".to_vec());
    run(b"function g() { yield 1; } local x = g(); resume x; resume x; resume x;".to_vec());
}
