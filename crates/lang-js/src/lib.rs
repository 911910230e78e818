//! JavaScript for Shield's ScriptShield: [`JsEngine`] runs a Node-style
//! script on the pure-Rust Boa engine behind [`shield_engine::Engine`].
//!
//! The script's world is built by a JavaScript prelude (`prelude.js`) over a
//! handful of natives that reach the running [`Job`] and nothing else:
//! `console`, `print`, `process` (`argv`, `exit`, `env` from the job,
//! `stdout.write`), CommonJS `require` and ES modules resolved in the
//! job's VFS, `fs` over the VFS (`readFileSync(0)` is the job's stdin),
//! timers on a virtual clock, and `Date.now`/`performance.now` from
//! [`Job::clock`]. The job is reached through a scoped thread-local for the
//! duration of [`JsEngine::run`], so the engine itself holds no state.
//!
//! Modules: `.mjs` files are ES modules, `.cjs` files CommonJS, and a `.js`
//! file is CommonJS unless it only parses as a module (Node's syntax
//! detection). `require` resolves `./x`, `./x.js`, `./x.json`,
//! `./dir/index.js` in the VFS; `fs`, `path`, `util` and `vm`
//! (`runInThisContext`) are built in, also as `node:` specifiers.
//!
//! Limits: the instruction budget is Boa's own per-instruction counter (the
//! `fuzz` feature), an error no `catch` or `finally` sees, and it covers
//! promise jobs, timers and module code. Output is counted across stdout,
//! stderr and written files. Memory has no counter in Boa: the heap
//! backstop ([`Job::heap_exceeded`](shield_engine::Job)) is polled every
//! few instructions of the main script, the CommonJS modules it requires,
//! timer callbacks and promise reactions (all run under Boa's budgeted
//! evaluation), and at every call into the engine's world (console, fs,
//! timers, each promise job, module loads, every `ArrayBuffer`, and the
//! allocating built-ins `repeat`, `padStart`, `padEnd`, `join`, `fill`,
//! which also stop the run before building a result past the memory
//! limit). Code that built-ins call back (a `forEach` callback, a getter),
//! code after an `await` and ES module bodies run outside the budgeted
//! evaluation: a loop there that allocates without calling any of those is
//! not stopped by the backstop.
//!
//! The native stack (the enclave's thread has 8 MiB): source nested deeper
//! than the parser can take is refused before parsing (see [`nesting`]);
//! JavaScript recursion ends with a `RangeError` at 3,000 frames (native
//! re-entries included); the built-ins that recurse natively into nested
//! data (`join`, `toString`, `toLocaleString`, `JSON.stringify`, `flat`)
//! check the stack's depth at every level and throw a `RangeError` past
//! 6 MiB; proxy chains are refused past 1,000 proxies, and a run loads at
//! most 4,000 ES modules (Boa links a module graph recursively). Deep
//! prototype chains (over about 30,000 objects in a debug build, 100,000
//! in a release build) still overflow the stack on a missing property's
//! lookup: Boa walks them recursively and offers no hook to bound them.
//!
//! Time: `Date.now()` is the job clock's whole seconds at the start of the
//! run plus the run's elapsed time (from `Clock::cpu_seconds`), the local
//! time zone is UTC, and timers run in deadline order on a virtual clock
//! (a `setTimeout` of an hour does not wait an hour).
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
//!     env: &[],
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
