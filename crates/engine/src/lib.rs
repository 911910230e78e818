//! Script engines for Shield: an [`Engine`] runs one unmodified script to
//! completion against a [`Job`] that supplies everything the script may touch
//! (standard streams, a [`vfs::Vfs`], a [`Clock`]) under [`Limits`], and
//! reports an [`Outcome`]; nothing else of the host (real files, processes,
//! environment) is reachable, so the same engine runs inside an enclave under
//! seccomp and natively on the host. The languages live in their own crates
//! (`shield-lang-lua`, `shield-lang-js`, `shield-lang-squirrel`,
//! `shield-lang-python`); this one holds what they share.
//!
//! A toy engine whose "script" is a file it copies to stdout, run over files
//! in memory:
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::io::{Read, Write};
//! use shield_engine::vfs::{MemoryFiles, MemoryWrites, OpenMode, Overlay};
//! use shield_engine::{Engine, Job, LimitKind, Limits, Outcome, SystemClock};
//!
//! struct Cat;
//!
//! impl Engine for Cat {
//!     fn language(&self) -> &'static str {
//!         "cat"
//!     }
//!     fn run(&self, job: Job<'_>) -> Outcome {
//!         let mut text = Vec::new();
//!         let read = OpenMode::parse("r")
//!             .ok_or_else(|| std::io::Error::other("mode"))
//!             .and_then(|mode| job.vfs.open(job.entry, mode))
//!             .and_then(|mut f| f.read_to_end(&mut text));
//!         if let Err(e) = read {
//!             return Outcome::Error(format!("cannot open {}: {e}", job.entry));
//!         }
//!         if job.limits.output_bytes.is_some_and(|n| text.len() as u64 > n) {
//!             let message = "output limit reached".to_owned();
//!             return Outcome::Limit { kind: LimitKind::Output, message };
//!         }
//!         match job.stdout.write_all(&text) {
//!             Ok(()) => Outcome::Exited(0),
//!             Err(e) => Outcome::Error(e.to_string()),
//!         }
//!     }
//! }
//!
//! let mut files = BTreeMap::new();
//! files.insert("main.txt".to_owned(), b"hello\n".to_vec());
//! let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
//! let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
//! let outcome = Cat.run(Job {
//!     entry: "main.txt",
//!     args: &[],
//!     env: &[],
//!     stdin: &mut std::io::empty(),
//!     stdout: &mut stdout,
//!     stderr: &mut stderr,
//!     vfs: &mut vfs,
//!     clock: &SystemClock,
//!     limits: Limits { output_bytes: Some(1000), ..Limits::default() },
//!     heap_exceeded: shield_engine::no_heap_budget,
//! });
//! assert_eq!(outcome, Outcome::Exited(0));
//! assert_eq!(stdout, b"hello\n");
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub mod keyed;
pub mod vfs;

/// A script language implementation.
pub trait Engine: Send + Sync {
    /// Language name, e.g. "lua".
    fn language(&self) -> &'static str;
    /// Runs one script to completion. Never panics on any script input; every
    /// failure is an [`Outcome`].
    fn run(&self, job: Job<'_>) -> Outcome;
}

/// One script run: the entry script, its arguments, and everything it may use.
pub struct Job<'a> {
    /// Normalized VFS path of the entry script, e.g. `"main.lua"`; `arg[0]`.
    pub entry: &'a str,
    /// `arg[1..]`, and the main chunk's `...`.
    pub args: &'a [String],
    /// The environment the script sees (`os.getenv`, `process.env`,
    /// `os.environ`): in a bundle, only the variables its owner packed; in
    /// development mode, the host's.
    pub env: &'a [(String, String)],
    /// `io.read`, `io.lines()`, `io.stdin`.
    pub stdin: &'a mut dyn std::io::Read,
    /// `print`, `io.write`, `io.stdout`.
    pub stdout: &'a mut dyn std::io::Write,
    /// `io.stderr`, and the error report.
    pub stderr: &'a mut dyn std::io::Write,
    /// `io.open`, `io.lines(path)`, `dofile`, `loadfile`, `require`.
    pub vfs: &'a mut dyn vfs::Vfs,
    /// `os.time`, `os.clock` (and `os.date`'s "now").
    pub clock: &'a dyn Clock,
    /// What the run may consume.
    pub limits: Limits,
    /// The backstop under the engine's own memory accounting: whether the
    /// process's real heap use for this run is past its budget (inside an
    /// enclave, the trusted runtime's allocator count). An engine polls it
    /// wherever it can stop the script and ends the run with the memory
    /// limit when it says so. [`no_heap_budget`] when there is none.
    pub heap_exceeded: fn() -> bool,
}

/// For [`Job::heap_exceeded`] where no allocator counts the run: never.
pub fn no_heap_budget() -> bool {
    false
}

impl fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("entry", &self.entry)
            .field("args", &self.args)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Time as a script sees it.
pub trait Clock {
    /// Seconds since the Unix epoch (`os.time()`).
    fn unix_time(&self) -> i64;
    /// CPU seconds used by the program (`os.clock()`).
    fn cpu_seconds(&self) -> f64;
}

/// The host's clock: [`SystemTime`] for the date, and for `cpu_seconds` the
/// wall time elapsed since the first call in this process.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_time(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn cpu_seconds(&self) -> f64 {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64()
    }
}

/// What a run may consume; `None` means unlimited.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// VM instructions executed.
    pub instructions: Option<u64>,
    /// Bytes of script-managed memory.
    pub memory_bytes: Option<u64>,
    /// Bytes written to stdout, stderr and files through the VFS, together.
    pub output_bytes: Option<u64>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Normal end (0) or `os.exit(n)` (`true` gives 0, `false` gives 1).
    Exited(i32),
    /// An uncaught script error (syntax or runtime): the message, with a
    /// traceback when available.
    Error(String),
    /// A limit stopped the script.
    Limit {
        /// Which limit.
        kind: LimitKind,
        /// A one-line description.
        message: String,
    },
}

impl Outcome {
    /// The run's exit status, always in `0..=255`: `Exited(n)` gives n when
    /// it is in that range and 255 otherwise (a request outside it, e.g.
    /// `os.exit(-1)` or `os.exit(256)`, never reads as success), `Error` 1,
    /// `Limit` 3.
    pub fn exit_status(&self) -> i32 {
        match self {
            Outcome::Exited(n) if (0..=255).contains(n) => *n,
            Outcome::Exited(_) => 255,
            Outcome::Error(_) => 1,
            Outcome::Limit { .. } => 3,
        }
    }
}

/// Which limit stopped a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// [`Limits::instructions`].
    Instructions,
    /// [`Limits::memory_bytes`].
    Memory,
    /// [`Limits::output_bytes`].
    Output,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status() {
        assert_eq!(Outcome::Exited(0).exit_status(), 0);
        assert_eq!(Outcome::Exited(7).exit_status(), 7);
        assert_eq!(Outcome::Exited(255).exit_status(), 255);
        assert_eq!(Outcome::Exited(-1).exit_status(), 255);
        assert_eq!(Outcome::Exited(256).exit_status(), 255);
        assert_eq!(Outcome::Exited(i32::MIN).exit_status(), 255);
        assert_eq!(Outcome::Error("x".into()).exit_status(), 1);
        let limit = Outcome::Limit {
            kind: LimitKind::Memory,
            message: String::new(),
        };
        assert_eq!(limit.exit_status(), 3);
    }
}
