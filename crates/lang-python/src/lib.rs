//! Python 3 for Shield: a [`shield_engine::Engine`] on RustPython 0.5.
//!
//! The script's world is the [`Job`]: `sys.stdin/stdout/stderr` are the job's
//! streams, `open()` and `os`/`os.path` see the job's [`Vfs`] (the bundle's
//! root is `/` and the working directory), `import` finds bundled modules and
//! packages there, `time` reads the job's [`Clock`], and the pure-Python
//! standard library is frozen into the binary. Nothing reaches the host:
//! RustPython is built without its `host_env` (os, posix, signals, sockets)
//! and `stdio` features, the native `time` module (which reads the host's
//! time zone) is replaced by a UTC-only one, and `_io`'s real-file
//! primitives refuse.
//!
//! Under the enclave's sandbox: creating a RustPython 0.5 interpreter
//! always runs `rustpython_vm::getpath` and formats `sys.version` in local
//! time, which probe the host's file system (`statx`, `getcwd`,
//! `readlink`, `openat` of /etc/localtime...). The Python enclave answers
//! those calls ENOSYS; RustPython then falls back to defaults, and the
//! engine replaces every value derived from them that a script could see
//! (`sys.prefix`, `sys.executable`, `sys.version`...). See the `sandbox`
//! test.
//!
//! Limits: every backward jump, every Python function start and every
//! exception handler about to run calls back into the engine
//! (`sys.monitoring`, which the script cannot reach after start-up), which
//! counts the instruction budget and polls [`Job::heap_exceeded`]; loops
//! whose back edge fires no JUMP event get LINE events instead. Once a
//! limit is reached, every later hook call and write raises again, so the
//! run unwinds to the top even through `except BaseException:`, and ends
//! with the limit. Operations that would build one object bigger than the
//! memory limit are refused before they allocate (see `guard`).
//!
//! The host's parts of the job are reached through a scoped thread-local
//! set for the duration of [`PythonEngine::run`]: runs on different threads
//! are independent, nested runs on one thread are not supported.

#![forbid(unsafe_code)]

mod guard;
mod host;
mod nesting;

use std::any::Any;
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};

use rustpython_vm::builtins::PyBaseExceptionRef;
use rustpython_vm::frozen::FrozenLib;
use rustpython_vm::{AsObject, Interpreter, PyObjectRef, PyResult, Settings, VirtualMachine};
use scoped_tls_hkt::{ReborrowMut, scoped_thread_local};
use shield_engine::vfs::Vfs;
use shield_engine::{Clock, Engine, Job, LimitKind, Limits, Outcome};

/// The frozen standard library subset and this crate's Python modules
/// (see build.rs).
const FROZEN: &FrozenLib =
    FrozenLib::from_ref(include_bytes!(concat!(env!("OUT_DIR"), "/frozen.bin")));

/// Python recursion depth allowed by default: RustPython recurses on the
/// native stack for every Python call, and this depth fits in an 8 MiB
/// stack (the enclave's) with room to spare (see the recursion tests).
pub const DEFAULT_RECURSION_LIMIT: usize = 500;

/// Native modules of rustpython-stdlib the script may import: pure
/// computation only (no files, sockets, processes, terminals or threads).
const STDLIB_MODULES: &[&str] = &[
    "array",
    "binascii",
    "_bisect",
    "_blake2",
    "cmath",
    "_contextvars",
    "_csv",
    "_hashlib",
    "_json",
    "math",
    "_md5",
    "_opcode",
    "_tokenize",
    "pyexpat",
    "_struct",
    "_random",
    "_sha1",
    "_sha256",
    "_sha3",
    "_sha512",
    "_statistics",
    "_suggestions",
    "unicodedata",
    "zlib",
];

/// Python 3 on RustPython. Holds no per-run state: one engine may serve any
/// number of runs, on different threads.
#[derive(Debug, Clone, Copy)]
pub struct PythonEngine {
    recursion_limit: usize,
}

impl Default for PythonEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl PythonEngine {
    /// An engine with [`DEFAULT_RECURSION_LIMIT`].
    pub fn new() -> Self {
        PythonEngine {
            recursion_limit: DEFAULT_RECURSION_LIMIT,
        }
    }

    /// Sets the most Python recursion a script may use (also the cap on
    /// `sys.setrecursionlimit`); it must fit the native stack the engine
    /// runs on.
    pub fn with_recursion_limit(mut self, limit: usize) -> Self {
        self.recursion_limit = limit.max(50);
        self
    }
}

impl Engine for PythonEngine {
    fn language(&self) -> &'static str {
        "python"
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
        let mut stdin = io::BufReader::with_capacity(64 * 1024, stdin);
        let io = Io {
            env,
            stdin: &mut stdin,
            stdout,
            stderr,
            vfs,
            clock,
        };
        let _run = RunGuard::enter(limits, heap_exceeded, clock);
        IO.set(io, || {
            // The limit hook costs every loop iteration and call: only
            // installed when there is a budget to count or memory to poll.
            let hooked = limits.instructions.is_some()
                || limits.memory_bytes.is_some()
                || limits.output_bytes.is_some();
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                execute(entry, args, self.recursion_limit, hooked)
            }));
            let (outcome, report) = match result {
                Ok(done) => done,
                Err(payload) => from_panic(payload.as_ref()),
            };
            let (outcome, report) = match (TRIPPED.get(), &outcome) {
                (Some(kind), Outcome::Exited(_) | Outcome::Error(_)) => limit(kind, limits),
                _ => (outcome, report),
            };
            let _ = host::with_io(|io| {
                let _ = io.stdout.flush();
                if let Some(report) = report {
                    io.stderr.write_all(report.as_bytes())?;
                }
                io.stderr.flush()
            });
            outcome
        })
    }
}

/// The borrowed parts of the running job, reachable from the native module.
struct Io<'a> {
    env: &'a [(String, String)],
    stdin: &'a mut dyn Read,
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    vfs: &'a mut dyn Vfs,
    clock: &'a dyn Clock,
}

impl<'a, 'b> ReborrowMut<'b> for Io<'a>
where
    'a: 'b,
{
    type Result = Io<'b>;

    fn reborrow_mut(&'b mut self) -> Io<'b> {
        Io {
            env: self.env,
            stdin: &mut *self.stdin,
            stdout: &mut *self.stdout,
            stderr: &mut *self.stderr,
            vfs: &mut *self.vfs,
            clock: self.clock,
        }
    }
}

scoped_thread_local!(static mut IO: for<'a> Io<'a>);

thread_local! {
    /// Instruction-budget ticks left, `None` when unlimited.
    static TICKS_LEFT: Cell<Option<u64>> = const { Cell::new(None) };
    /// Output bytes left, `None` when unlimited.
    static OUTPUT_LEFT: Cell<Option<u64>> = const { Cell::new(None) };
    /// The run's [`Job::heap_exceeded`].
    static HEAP_EXCEEDED: Cell<fn() -> bool> = const { Cell::new(shield_engine::no_heap_budget) };
    /// The limit that stopped the script, once one has.
    static TRIPPED: Cell<Option<LimitKind>> = const { Cell::new(None) };
    /// Whether the limit hook is off: while the engine flushes and reports
    /// after the script.
    static DISARMED: Cell<bool> = const { Cell::new(false) };
    /// The clock's reading when the run started: (Unix seconds, CPU seconds).
    static EPOCH: Cell<(i64, f64)> = const { Cell::new((0, 0.0)) };
}

/// Per-thread run state, reset when the run ends, even by unwinding.
struct RunGuard;

impl RunGuard {
    fn enter(limits: Limits, heap_exceeded: fn() -> bool, clock: &dyn Clock) -> Self {
        TICKS_LEFT.set(limits.instructions);
        OUTPUT_LEFT.set(limits.output_bytes);
        HEAP_EXCEEDED.set(heap_exceeded);
        guard::set_limit(limits.memory_bytes);
        TRIPPED.set(None);
        DISARMED.set(false);
        EPOCH.set((clock.unix_time(), clock.cpu_seconds()));
        host::reset_files();
        RunGuard
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        TICKS_LEFT.set(None);
        OUTPUT_LEFT.set(None);
        HEAP_EXCEEDED.set(shield_engine::no_heap_budget);
        guard::set_limit(None);
        TRIPPED.set(None);
        DISARMED.set(false);
        host::reset_files();
    }
}

/// Records that `kind` stopped the script (the first limit reached wins).
fn trip(kind: LimitKind) {
    if TRIPPED.get().is_none() {
        TRIPPED.set(Some(kind));
    }
}

/// The exception that stops the script once a limit is reached. It is a
/// plain `BaseException`, so a script can catch it, but the stop is
/// sticky: every later backward jump, function start and write raises it
/// again, and a loop or call that catches it meets it again at its own
/// next iteration or entry, so the run unwinds to the top; the outcome is
/// the limit whatever the script did. (Unwinding a Rust panic through
/// RustPython 0.5 is not safe: its frames keep unsafe data-stack state,
/// and one of its destructors aborts the process when unwound.)
fn limit_error(vm: &VirtualMachine) -> PyBaseExceptionRef {
    let what = match TRIPPED.get() {
        Some(LimitKind::Memory) => "memory",
        Some(LimitKind::Output) => "output",
        _ => "instruction",
    };
    vm.new_exception_msg(
        vm.ctx.exceptions.base_exception_type.to_owned(),
        format!("shield: {what} limit reached").into(),
    )
}

/// The limit hook, called at every backward jump and function start.
fn tick(vm: &VirtualMachine) -> PyResult<()> {
    if DISARMED.get() {
        return Ok(());
    }
    if TRIPPED.get().is_none() {
        if let Some(left) = TICKS_LEFT.get() {
            if left == 0 {
                trip(LimitKind::Instructions);
            } else {
                TICKS_LEFT.set(Some(left - 1));
            }
        }
        if HEAP_EXCEEDED.get()() {
            trip(LimitKind::Memory);
        }
    }
    match TRIPPED.get() {
        Some(_) => Err(limit_error(vm)),
        None => Ok(()),
    }
}

/// Takes `n` bytes from the output budget: an error once it is spent (and
/// for every write after any limit).
fn take_output(n: usize, vm: &VirtualMachine) -> PyResult<()> {
    if TRIPPED.get().is_some() && !DISARMED.get() {
        return Err(limit_error(vm));
    }
    match OUTPUT_LEFT.get() {
        None => Ok(()),
        Some(left) if left >= n as u64 => {
            OUTPUT_LEFT.set(Some(left - n as u64));
            Ok(())
        }
        Some(_) => {
            OUTPUT_LEFT.set(Some(0));
            trip(LimitKind::Output);
            Err(limit_error(vm))
        }
    }
}

/// An outcome and the text the engine writes to stderr for it.
type Done = (Outcome, Option<String>);

fn limit(kind: LimitKind, limits: Limits) -> Done {
    let fmt = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let message = match kind {
        LimitKind::Instructions => {
            format!("instruction limit of {} reached", fmt(limits.instructions))
        }
        LimitKind::Memory => format!("memory limit of {} bytes reached", fmt(limits.memory_bytes)),
        LimitKind::Output => format!("output limit of {} bytes reached", fmt(limits.output_bytes)),
    };
    let report = format!("shield: {message}\n");
    (Outcome::Limit { kind, message }, Some(report))
}

fn internal(what: impl std::fmt::Display) -> Done {
    let message = format!("internal engine error: {what}");
    let report = format!("shield: {message}\n");
    (Outcome::Error(message), Some(report))
}

/// A panic out of the interpreter (last resort: a RustPython bug),
/// reported rather than taking the process down.
fn from_panic(payload: &(dyn Any + Send)) -> Done {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    internal(format!("the interpreter panicked: {text}"))
}

/// Builds a fresh interpreter, runs the entry script in it, and reports.
fn execute(entry: &str, args: &[String], recursion_limit: usize, hooked: bool) -> Done {
    let interpreter = new_interpreter();
    let done = interpreter.enter(
        |vm| match run_main(vm, entry, args, recursion_limit, hooked) {
            Ok(done) => done,
            Err(exc) => internal(format!("start-up failed: {}", exception_line(vm, &exc))),
        },
    );
    // Objects' finalizers may run Python code while the interpreter is
    // dropped; a limit reached there still ends as that limit.
    let dropped = panic::catch_unwind(AssertUnwindSafe(move || interpreter.enter(|_| ())));
    drop(dropped);
    done
}

/// A fresh interpreter: the safe native modules, the frozen library, and
/// `time` replaced (see python/time.py).
fn new_interpreter() -> Interpreter {
    let mut settings = Settings::default();
    settings.isolated = true;
    settings.ignore_environment = true;
    settings.import_site = false;
    settings.install_signal_handlers = false;
    settings.user_site_directory = false;
    settings.write_bytecode = false;
    settings.safe_path = true;
    settings.allow_external_library = false;
    let builder = Interpreter::builder(settings);
    let defs: Vec<_> = rustpython_stdlib::stdlib_module_defs(&builder.ctx)
        .into_iter()
        .filter(|def| STDLIB_MODULES.contains(&def.name.as_str()))
        .collect();
    let shield = host::module_def(&builder.ctx);
    builder
        .add_native_modules(&defs)
        .add_native_module(shield)
        .add_frozen_modules(FROZEN)
        .init_hook(|vm| {
            // The native time module reads the host's time zone (tzset opens
            // /etc/localtime): scripts get python/time.py instead.
            if let Some(state) = rustpython_vm::common::rc::PyRc::get_mut(&mut vm.state) {
                state.module_defs.remove("time");
            }
        })
        .build()
}

/// Sets up the script's world and runs the entry script.
fn run_main(
    vm: &VirtualMachine,
    entry: &str,
    args: &[String],
    recursion_limit: usize,
    hooked: bool,
) -> PyResult<Done> {
    guard::install(vm);
    let boot = vm.import("_shield_boot", 0)?;
    let shield = vm.import("_shield", 0)?;
    let argv: Vec<PyObjectRef> = std::iter::once(entry)
        .chain(args.iter().map(String::as_str))
        .map(|a| vm.ctx.new_str(a).into())
        .collect();
    let script_dir = match entry.rsplit_once('/') {
        Some((dir, _)) => format!("/{dir}"),
        None => "/".to_owned(),
    };
    boot.get_attr("_setup", vm)?.call(
        (
            vm.ctx.new_list(argv),
            script_dir,
            recursion_limit,
            if hooked {
                shield.get_attr("tick", vm)?
            } else {
                vm.ctx.none()
            },
        ),
        vm,
    )?;
    let source = match host::read_entry(entry) {
        Ok(source) => source,
        Err(e) => {
            let message = format!("can't open file '{entry}': [Errno 2] {e}");
            let report = format!("python: {message}\n");
            return Ok((Outcome::Error(message), Some(report)));
        }
    };
    if let Err(exc) = boot
        .get_attr("_check_source", vm)?
        .call((source.as_str(), entry), vm)
    {
        let done = finish_with(vm, &boot, exc)?;
        boot.get_attr("_flush", vm)?.call((), vm)?;
        return Ok(done);
    }
    let scope = vm.new_scope_with_main()?;
    scope
        .globals
        .set_item("__file__", vm.ctx.new_str(entry).into(), vm)?;
    let result = vm
        .compile(
            &source,
            rustpython_vm::compiler::Mode::Exec,
            entry.to_owned(),
        )
        .map_err(|err| vm.new_syntax_error(&err, Some(&source)))
        .and_then(|code| {
            host::watch_loops(code.as_object(), vm)?;
            vm.run_code_obj(code, scope)
        });
    // The engine's own Python from here on: the limit hook stands down.
    DISARMED.set(true);
    let done = match (TRIPPED.get(), result) {
        // `run` turns this into the limit's outcome.
        (Some(_), _) => (Outcome::Exited(0), None),
        (None, Ok(_)) => (Outcome::Exited(0), None),
        (None, Err(exc)) => finish_with(vm, &boot, exc)?,
    };
    boot.get_attr("_flush", vm)?.call((), vm)?;
    Ok(done)
}

/// The outcome of an exception that left the script: `SystemExit` gives
/// its status, anything else the traceback on stderr and status 1.
fn finish_with(vm: &VirtualMachine, boot: &PyObjectRef, exc: PyBaseExceptionRef) -> PyResult<Done> {
    if exc.fast_isinstance(vm.ctx.exceptions.system_exit) {
        let status = boot.get_attr("_exit_status", vm)?.call((exc,), vm)?;
        let status: i64 = status.try_into_value(vm).unwrap_or(1);
        let status = i32::try_from(status).unwrap_or(255);
        return Ok((Outcome::Exited(status), None));
    }
    let text = boot.get_attr("_report", vm)?.call((exc,), vm)?;
    let text: String = text
        .str(vm)
        .map(|s| s.to_string_lossy().trim_end().to_owned())
        .unwrap_or_default();
    Ok((Outcome::Error(text), None))
}

/// `Type: message` of an exception, for the engine's own errors.
fn exception_line(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> String {
    let name = exc.class().name().to_string();
    match exc.as_object().str(vm) {
        Ok(s) if !s.to_string_lossy().is_empty() => format!("{name}: {}", s.to_string_lossy()),
        _ => name,
    }
}
