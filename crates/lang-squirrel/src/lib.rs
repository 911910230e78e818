//! Squirrel 3.2 for Shield: a lexer, a single-pass compiler to stack-machine
//! bytecode and a VM written in safe Rust, behind [`shield_engine::Engine`].
//! The script's whole world comes from the [`Job`]: standard streams, the
//! VFS (`file`, `dofile`, `loadfile`), the clock (`clock`, `time`, `date`)
//! and `vargv`; limits on instructions, memory (the VM's own count of its
//! heap) and output end the run with [`Outcome::Limit`].
//!
//! ```
//! use std::collections::BTreeMap;
//! use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
//! use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};
//! use shield_lang_squirrel::SquirrelEngine;
//!
//! let mut files = BTreeMap::new();
//! files.insert("main.nut".to_owned(), b"print(\"hello \" + vargv[0] + \"\\n\")".to_vec());
//! let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
//! let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
//! let outcome = SquirrelEngine::new().run(Job {
//!     entry: "main.nut",
//!     args: &["world".to_owned()],
//!     env: &[],
//!     stdin: &mut std::io::empty(),
//!     stdout: &mut stdout,
//!     stderr: &mut stderr,
//!     vfs: &mut vfs,
//!     clock: &SystemClock,
//!     limits: Limits { instructions: Some(1_000_000), ..Limits::default() },
//!     heap_exceeded: shield_engine::no_heap_budget,
//! });
//! assert_eq!(outcome, Outcome::Exited(0));
//! assert_eq!(stdout, b"hello world\n");
//! ```
#![forbid(unsafe_code)]

mod compiler;
mod heap;
mod lexer;
mod regex;
mod stdlib;
mod table;
mod vm;

use shield_engine::vfs::{self, OpenMode};
use shield_engine::{Engine, Job, LimitKind, Limits, Outcome};
use std::io::Read;

/// The Squirrel engine.
#[derive(Debug, Default, Clone, Copy)]
pub struct SquirrelEngine;

impl SquirrelEngine {
    /// A new engine.
    pub fn new() -> Self {
        SquirrelEngine
    }
}

impl Engine for SquirrelEngine {
    fn language(&self) -> &'static str {
        "squirrel"
    }

    fn run(&self, job: Job<'_>) -> Outcome {
        let Job {
            entry,
            args,
            env,
            stdin,
            stdout,
            stderr,
            vfs,
            clock,
            limits,
            heap_exceeded,
        } = job;
        let source = match read_entry(vfs, entry) {
            Ok(s) => s,
            Err(()) => {
                let _ = stdout.write_all(b"Error [cannot open the file]\n");
                let _ = stdout.flush();
                return Outcome::Error(format!("cannot open the file {entry}"));
            }
        };
        let world = vm::World {
            stdin,
            stdout,
            stderr,
            vfs,
            clock,
            env,
            heap_exceeded,
        };
        let mut vm = vm::Vm::new(world, limits);
        // Last-resort boundary: a VM bug must end the run as an outcome,
        // never unwind into the host.
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            execute(&mut vm, &source, entry, args, limits)
        }));
        let (outcome, out, err) = done.unwrap_or_else(|_| {
            let m = "internal engine error: panic in the Squirrel VM".to_owned();
            (
                Outcome::Error(m.clone()),
                None,
                Some(format!("shield: {m}\n")),
            )
        });
        if let Some(o) = out {
            let _ = vm.world.stdout.write_all(o.as_bytes());
        }
        let _ = vm.world.stdout.flush();
        if let Some(e) = err {
            let _ = vm.world.stderr.write_all(e.as_bytes());
        }
        let _ = vm.world.stderr.flush();
        outcome
    }
}

fn read_entry(v: &mut dyn vfs::Vfs, entry: &str) -> Result<Vec<u8>, ()> {
    let path = vfs::normalize(entry).map_err(|_| ())?;
    let mode = OpenMode::parse("r").ok_or(())?;
    let mut f = v.open(&path, mode).map_err(|_| ())?;
    let mut b = Vec::new();
    f.read_to_end(&mut b).map_err(|_| ())?;
    // A leading `#!` line is a comment to the lexer already.
    Ok(b)
}

/// Outcome, text for stdout, text for stderr.
type Done = (Outcome, Option<String>, Option<String>);

fn limit(kind: LimitKind, limits: Limits) -> Done {
    let fmt = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let message = match kind {
        LimitKind::Instructions => {
            format!("instruction limit of {} reached", fmt(limits.instructions))
        }
        LimitKind::Memory => format!("memory limit of {} bytes reached", fmt(limits.memory_bytes)),
        LimitKind::Output => format!("output limit of {} bytes reached", fmt(limits.output_bytes)),
    };
    let report = format!("shield: script stopped: {message}\n");
    (Outcome::Limit { kind, message }, None, Some(report))
}

fn execute(vm: &mut vm::Vm<'_>, src: &[u8], entry: &str, args: &[String], limits: Limits) -> Done {
    let proto = match compiler::compile(src, entry, &mut vm.heap, &mut vm.consts) {
        Ok(p) => p,
        Err(e) => {
            let report = format!(
                "{entry} line = ({}) column = ({}) : error {}\n",
                e.line,
                e.reported_col(),
                e.msg
            );
            return (
                Outcome::Error(report.clone()),
                Some(format!("Error [{}]\n", e.msg)),
                Some(report),
            );
        }
    };
    let argv: Vec<heap::Value> = args.iter().map(|a| vm.heap.intern(a.as_bytes())).collect();
    match vm.run_main(proto, &argv) {
        // As `sq` does, an integer the main script returns is the exit
        // status (outside 0..=255 it reads as 255: Outcome::exit_status).
        Ok(heap::Value::Int(n)) => (Outcome::Exited(i32::try_from(n).unwrap_or(-1)), None, None),
        Ok(_) => (Outcome::Exited(0), None, None),
        Err(vm::Error::Limit(k)) => limit(k, limits),
        Err(vm::Error::Suspend(_)) => {
            let m = "internal engine error: suspend escaped its thread".to_owned();
            (
                Outcome::Error(m.clone()),
                None,
                Some(format!("shield: {m}\n")),
            )
        }
        Err(vm::Error::Throw(v)) => {
            let msg = match v {
                heap::Value::Str(s) => String::from_utf8_lossy(vm.heap.str_bytes(s)).into_owned(),
                _ => "unknown".to_owned(),
            };
            let mut report = format!("\nAN ERROR HAS OCCURRED [{msg}]\n\nCALLSTACK\n");
            let trace = vm.trace.take().unwrap_or_default();
            for f in &trace {
                report.push_str(&format!(
                    "*FUNCTION [{}()] {} line [{}]\n",
                    f.func, f.source, f.line
                ));
            }
            report.push_str("\nLOCALS\n");
            for f in &trace {
                for (n, v) in &f.locals {
                    report.push_str(&format!("[{n}] {v}\n"));
                }
            }
            (Outcome::Error(report.clone()), None, Some(report))
        }
    }
}
