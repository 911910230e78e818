//! JavaScript for Shield's ScriptShield: [`JsEngine`] runs a Node-style
//! script on the pure-Rust Boa engine behind [`shield_engine::Engine`].
//!
//! The script's world is built by a JavaScript prelude (`prelude.js`) over a
//! handful of natives that reach the running [`Job`] and nothing else:
//! `console`, `print`, `process` (`argv`, `exit`, an empty `env`,
//! `stdout.write`), CommonJS `require` and ES modules resolved in the
//! job's VFS, `fs` over the VFS (`readFileSync(0)` is the job's stdin),
//! timers on a virtual clock, and `Date.now`/`performance.now` from
//! [`Job::clock`]. The job is reached through a scoped thread-local for the
//! duration of [`JsEngine::run`], so the engine itself holds no state.
//!
//! ```
//! use std::collections::BTreeMap;
//! use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
//! use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};
//! use shield_lang_js::JsEngine;
//!
//! let mut files = BTreeMap::new();
//! files.insert("main.js".to_owned(), b"console.log('hello', process.argv[2])".to_vec());
//! let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
//! let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
//! let outcome = JsEngine::new().run(Job {
//!     entry: "main.js",
//!     args: &["world".to_owned()],
//!     stdin: &mut std::io::empty(),
//!     stdout: &mut stdout,
//!     stderr: &mut stderr,
//!     vfs: &mut vfs,
//!     clock: &SystemClock,
//!     limits: Limits { instructions: Some(10_000_000), ..Limits::default() },
//!     heap_exceeded: shield_engine::no_heap_budget,
//! });
//! assert_eq!(outcome, Outcome::Exited(0));
//! assert_eq!(stdout, b"hello world\n");
//! ```
#![forbid(unsafe_code)]

mod depth;
mod host;
mod run;

use shield_engine::{Engine, Job, Outcome};

pub use depth::{MAX_NESTING, nesting};

/// The JavaScript engine. Holds no per-run state: one engine may serve any
/// number of runs, concurrently on different threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsEngine {
    _private: (),
}

impl JsEngine {
    /// A new engine.
    pub fn new() -> Self {
        JsEngine { _private: () }
    }
}

impl Engine for JsEngine {
    fn language(&self) -> &'static str {
        "js"
    }

    fn run(&self, job: Job<'_>) -> Outcome {
        run::run(job)
    }
}
