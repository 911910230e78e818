//! Lua 5.4 on the pure-Rust `omnilua` VM.
//!
//! Every host capability the Lua standard library can reach is routed through
//! `omnilua`'s [`HostHooks`] to the running [`Job`]: standard streams, the
//! [`Vfs`] (for `io.open`, `require`, `dofile`, `loadfile`)
//! and the [`Clock`]. Process spawning, file removal and renaming, temporary
//! files, C modules and the environment are refused. The hooks are plain
//! function pointers, so the job is reached through a scoped thread-local set
//! for the duration of [`LuaEngine::run`]: runs on different threads are
//! independent, nested runs on one thread are not supported.

use std::any::Any;
use std::cell::Cell;
use std::io::{self, Read, SeekFrom, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

use lua_types::LuaExit;
use omnilua::{HostHooks, Lua, LuaError, LuaFileHandle, SandboxConfig, TripReason, Variadic};
use scoped_tls_hkt::{ReborrowMut, scoped_thread_local};

use crate::vfs::{self, OpenMode, Vfs, VfsFile};
use crate::{Clock, Engine, Job, LimitKind, Limits, Outcome};

/// `package.path`: modules are looked up relative to the VFS root.
const PACKAGE_PATH: &str = "./?.lua;./?/init.lua";

/// Lua run before every script; see the file for what it adjusts.
const PRELUDE: &str = include_str!("prelude.lua");

/// Default instructions between limit checks. The memory limit is only
/// sampled this often, and a loop doubling a string (`s = s .. s`: five
/// instructions) must meet a check between any two doublings, or it
/// outgrows the limit fourfold before it is seen: at 4, the worst is one
/// doubling past the limit (about five times the limit at its peak, with
/// the copy the VM makes).
const DEFAULT_CHECK_INTERVAL: u32 = 4;

/// The Lua 5.4 engine. Holds no per-run state: one engine may serve any
/// number of runs, concurrently on different threads.
#[derive(Debug, Clone, Copy)]
pub struct LuaEngine {
    check_interval: u32,
}

impl Default for LuaEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl LuaEngine {
    /// An engine with the default limit-check interval.
    pub fn new() -> Self {
        LuaEngine {
            check_interval: DEFAULT_CHECK_INTERVAL,
        }
    }

    /// Sets how many VM instructions run between instruction- and
    /// memory-limit checks (at least 1). Lower is tighter and slower.
    pub fn with_check_interval(mut self, instructions: u32) -> Self {
        self.check_interval = instructions.max(1);
        self
    }
}

impl Engine for LuaEngine {
    fn language(&self) -> &'static str {
        "lua"
    }

    fn run(&self, job: Job<'_>) -> Outcome {
        install_panic_hook();
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
        // The VM reads stdin a byte at a time; one read per 64 KiB instead
        // (an OCALL each, inside an enclave).
        let mut stdin = io::BufReader::with_capacity(64 * 1024, stdin);
        let io = Io {
            stdin: &mut stdin,
            stdout,
            stderr,
            vfs,
            clock,
            env,
        };
        let _run = RunGuard::enter(limits, heap_exceeded);
        IO.set(io, || {
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                execute(entry, args, limits, self.check_interval)
            }));
            let (outcome, report) = match result {
                Ok(done) => done,
                Err(payload) => from_panic(payload, limits),
            };
            // A limit that stopped code the VM does not report on (a
            // finalizer, the state's close) still ends the run as a limit.
            let (outcome, report) = match (STOPPED.take(), &outcome) {
                (Some(kind), Outcome::Exited(_) | Outcome::Error(_)) => limit(kind, limits),
                _ => (outcome, report),
            };
            let _ = with_io(|io| {
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

/// The borrowed parts of the running job, reachable from the hooks.
struct Io<'a> {
    stdin: &'a mut dyn Read,
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    vfs: &'a mut dyn Vfs,
    clock: &'a dyn Clock,
    env: &'a [(String, String)],
}

impl<'a, 'b> ReborrowMut<'b> for Io<'a>
where
    'a: 'b,
{
    type Result = Io<'b>;

    fn reborrow_mut(&'b mut self) -> Io<'b> {
        Io {
            stdin: &mut *self.stdin,
            stdout: &mut *self.stdout,
            stderr: &mut *self.stderr,
            vfs: &mut *self.vfs,
            clock: self.clock,
            env: self.env,
        }
    }
}

scoped_thread_local!(static mut IO: for<'a> Io<'a>);

thread_local! {
    /// Output bytes left, `None` when unlimited.
    static OUTPUT_LEFT: Cell<Option<u64>> = const { Cell::new(None) };
    /// The run's memory limit, `None` when unlimited.
    static MEMORY_LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
    /// The run's [`Job::heap_exceeded`].
    static HEAP_EXCEEDED: Cell<fn() -> bool> = const { Cell::new(crate::no_heap_budget) };
    /// A limit noticed where the VM could not report it (see `note_limit`).
    static STOPPED: Cell<Option<LimitKind>> = const { Cell::new(None) };
    /// Whether the output limit stopped the script.
    static OUTPUT_TRIPPED: Cell<bool> = const { Cell::new(false) };
    /// Whether a run is active on this thread (for the panic hook).
    static IN_RUN: Cell<bool> = const { Cell::new(false) };
}

/// Per-thread run state, reset when the run ends, even by unwinding.
struct RunGuard;

impl RunGuard {
    fn enter(limits: Limits, heap_exceeded: fn() -> bool) -> Self {
        OUTPUT_LEFT.set(limits.output_bytes);
        MEMORY_LIMIT.set(limits.memory_bytes);
        HEAP_EXCEEDED.set(heap_exceeded);
        STOPPED.set(None);
        OUTPUT_TRIPPED.set(false);
        IN_RUN.set(true);
        RunGuard
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        OUTPUT_LEFT.set(None);
        MEMORY_LIMIT.set(None);
        HEAP_EXCEEDED.set(crate::no_heap_budget);
        STOPPED.set(None);
        OUTPUT_TRIPPED.set(false);
        IN_RUN.set(false);
    }
}

/// Panic payload that stops a script whose output budget is exhausted. A
/// panic, because a Lua error could be caught (`pcall`) or ignored (`io.write`
/// returns `nil, message`), and the hooks have no access to the VM.
struct OutputLimitReached;

/// Panic payload that stops a script when the heap backstop
/// ([`Job::heap_exceeded`]) says the run is past its budget; a panic for the
/// same reasons as [`OutputLimitReached`].
struct MemoryLimitReached;

/// Stops the script if the heap backstop says so. Called by every hook: the
/// points where the engine gets control back from the VM.
fn check_heap() {
    if HEAP_EXCEEDED.get()() && !std::thread::panicking() {
        panic::panic_any(MemoryLimitReached);
    }
}

/// Suppresses the default panic message for the engine's own control-flow
/// payloads (`os.exit` and the output limit) while a run is active on the
/// panicking thread; every other panic goes to the previous hook.
fn install_panic_hook() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let ours = payload.is::<LuaExit>()
                || payload.is::<OutputLimitReached>()
                || payload.is::<MemoryLimitReached>();
            if !(ours && IN_RUN.with(Cell::get)) {
                previous(info);
            }
        }));
    });
}

fn no_run() -> io::Error {
    io::Error::other("no script run is active on this thread")
}

/// Calls `f` with the running job, or fails when there is none.
fn with_io<R>(f: impl FnOnce(Io<'_>) -> io::Result<R>) -> io::Result<R> {
    if !IO.is_set() {
        return Err(no_run());
    }
    IO.with(f)
}

/// Reserves up to `n` output bytes; returns how many may be written.
fn reserve_output(n: usize) -> usize {
    match OUTPUT_LEFT.get() {
        None => n,
        Some(left) => {
            let allowed = left.min(n as u64);
            OUTPUT_LEFT.set(Some(left - allowed));
            allowed as usize
        }
    }
}

/// Writes `data` through `write` within the output budget; stops the script
/// when the budget runs out.
fn write_limited(data: &[u8], write: impl FnOnce(&[u8]) -> io::Result<()>) -> io::Result<()> {
    check_heap();
    if OUTPUT_TRIPPED.get() {
        return Err(io::Error::other("output limit reached"));
    }
    let allowed = reserve_output(data.len());
    write(&data[..allowed])?;
    if allowed < data.len() {
        OUTPUT_TRIPPED.set(true);
        if !std::thread::panicking() {
            panic::panic_any(OutputLimitReached);
        }
        return Err(io::Error::other("output limit reached"));
    }
    Ok(())
}

// ── Hooks ──────────────────────────────────────────────────────────────────

fn hook_stdin(buf: &mut [u8]) -> io::Result<usize> {
    check_heap();
    with_io(|io| io.stdin.read(buf))
}

fn hook_stdout(data: &[u8]) -> io::Result<()> {
    write_limited(data, |d| with_io(|io| io.stdout.write_all(d)))
}

fn hook_stderr(data: &[u8]) -> io::Result<()> {
    write_limited(data, |d| with_io(|io| io.stderr.write_all(d)))
}

fn hook_env(name: &[u8]) -> Option<Vec<u8>> {
    with_io(|io| {
        Ok(io
            .env
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, v)| v.clone().into_bytes()))
    })
    .ok()
    .flatten()
}

fn hook_unix_time() -> i64 {
    with_io(|io| Ok(io.clock.unix_time())).unwrap_or(0)
}

fn hook_cpu_clock() -> f64 {
    with_io(|io| Ok(io.clock.cpu_seconds())).unwrap_or(0.0)
}

fn hook_entropy() -> u64 {
    let mut bytes = [0u8; 8];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => 0x5348_4945_4c44_2121,
    }
}

fn hook_temp_name() -> Result<Vec<u8>, LuaError> {
    Err(LuaError::runtime(format_args!(
        "temporary files are not available in this sandbox"
    )))
}

fn hook_popen(_cmd: &[u8], _mode: &[u8]) -> Result<Box<dyn LuaFileHandle>, LuaError> {
    Err(LuaError::runtime(format_args!(
        "'popen' not supported: processes are not available in this sandbox"
    )))
}

fn hook_remove(_name: &[u8]) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(EPERM))
}

fn hook_rename(_from: &[u8], _to: &[u8]) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(EPERM))
}

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const EBADF: i32 = 9;
const EACCES: i32 = 13;
const EISDIR: i32 = 21;
const EINVAL: i32 = 22;
const EFBIG: i32 = 27;

/// Gives an error an errno where its kind has an obvious one, so Lua reports
/// it as C Lua would (`nil, "x: No such file or directory", 2`).
fn with_errno(e: io::Error) -> io::Error {
    if e.raw_os_error().is_some() {
        return e;
    }
    match e.kind() {
        io::ErrorKind::NotFound => io::Error::from_raw_os_error(ENOENT),
        io::ErrorKind::PermissionDenied => io::Error::from_raw_os_error(EACCES),
        io::ErrorKind::InvalidInput => io::Error::from_raw_os_error(EINVAL),
        io::ErrorKind::IsADirectory => io::Error::from_raw_os_error(EISDIR),
        _ => e,
    }
}

/// C's `strerror` text for the errnos the engine produces.
fn strerror(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(EPERM) => "Operation not permitted".into(),
        Some(ENOENT) => "No such file or directory".into(),
        Some(EBADF) => "Bad file descriptor".into(),
        Some(EACCES) => "Permission denied".into(),
        Some(EISDIR) => "Is a directory".into(),
        Some(EINVAL) => "Invalid argument".into(),
        Some(EFBIG) => "File too large".into(),
        _ => e.to_string(),
    }
}

/// Normalizes a Lua file name and opens it in the job's VFS.
fn open_in_vfs(filename: &[u8], mode: OpenMode) -> io::Result<Box<dyn VfsFile>> {
    let name = std::str::from_utf8(filename)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file name is not UTF-8"))?;
    let path = vfs::normalize(name)?;
    with_io(|io| io.vfs.open(&path, mode))
}

fn hook_file_open(filename: &[u8], mode: &[u8]) -> io::Result<Box<dyn LuaFileHandle>> {
    check_heap();
    let mode = std::str::from_utf8(mode)
        .ok()
        .and_then(OpenMode::parse)
        .ok_or_else(|| io::Error::from_raw_os_error(EINVAL))?;
    let file = open_in_vfs(filename, mode).map_err(with_errno)?;
    Ok(Box::new(VfsHandle::new(file)))
}

/// The first byte of a precompiled Lua chunk (`"\x1bLua"`).
const BINARY_CHUNK: u8 = 0x1b;

/// C Lua's words for a binary chunk where only text is accepted.
const TEXT_ONLY: &str = "attempt to load a binary chunk (mode is 't')";

fn hook_file_loader(filename: &[u8]) -> Result<Vec<u8>, LuaError> {
    check_heap();
    let read = || -> io::Result<Vec<u8>> {
        let mut file = open_in_vfs(filename, OpenMode::parse("r").expect("valid mode"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let bytes =
        read().map_err(|e| LuaError::runtime(format_args!("{}", strerror(&with_errno(e)))))?;
    // require, dofile and loadfile: source only, like `load` (see prelude).
    if bytes.first() == Some(&BINARY_CHUNK) {
        return Err(LuaError::runtime(format_args!("{TEXT_ONLY}")));
    }
    Ok(bytes)
}

/// A VFS file as a Lua file handle: buffered byte reads, budgeted writes.
struct VfsHandle {
    file: Box<dyn VfsFile>,
    buf: Vec<u8>,
    pos: usize,
    pushback: Option<u8>,
    error: Option<(i32, String)>,
    /// Whether a seek may have left the position past the end of the file,
    /// so that the next write fills a gap.
    maybe_past_end: bool,
}

impl VfsHandle {
    const BUF_SIZE: usize = 8192;

    fn new(file: Box<dyn VfsFile>) -> Self {
        VfsHandle {
            file,
            buf: Vec::new(),
            pos: 0,
            pushback: None,
            error: None,
            maybe_past_end: false,
        }
    }

    /// Counts the zeros a write at a position past the end of the file
    /// adds: output like any other, and refused outright beyond the
    /// memory limit (an in-memory file holds them).
    fn charge_gap(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.maybe_past_end) {
            return Ok(());
        }
        let at = self.file.stream_position()?;
        let end = self.file.seek(SeekFrom::End(0))?;
        self.file.seek(SeekFrom::Start(at))?;
        let gap = at.saturating_sub(end);
        if gap == 0 {
            return Ok(());
        }
        if MEMORY_LIMIT.get().is_some_and(|m| gap > m) {
            return Err(io::Error::from_raw_os_error(EFBIG));
        }
        let allowed = reserve_output(usize::try_from(gap).unwrap_or(usize::MAX)) as u64;
        if allowed < gap {
            OUTPUT_TRIPPED.set(true);
            if !std::thread::panicking() {
                panic::panic_any(OutputLimitReached);
            }
            return Err(io::Error::other("output limit reached"));
        }
        Ok(())
    }

    fn unread_len(&self) -> u64 {
        (self.buf.len() - self.pos) as u64 + u64::from(self.pushback.is_some())
    }

    /// Drops buffered read-ahead, moving the file position back to where the
    /// script believes it is.
    fn discard_read_ahead(&mut self) -> io::Result<()> {
        let unread = self.unread_len();
        self.buf.clear();
        self.pos = 0;
        self.pushback = None;
        if unread > 0 {
            self.file.seek(SeekFrom::Current(-(unread as i64)))?;
        }
        Ok(())
    }

    fn record(&mut self, e: &io::Error) {
        let e = with_errno(io::Error::new(e.kind(), e.to_string()));
        self.error = Some((e.raw_os_error().unwrap_or(0), strerror(&e)));
    }
}

impl LuaFileHandle for VfsHandle {
    fn read_byte(&mut self) -> i32 {
        if let Some(b) = self.pushback.take() {
            return i32::from(b);
        }
        if self.pos == self.buf.len() {
            self.buf.resize(Self::BUF_SIZE, 0);
            self.pos = 0;
            match self.file.read(&mut self.buf) {
                Ok(n) => self.buf.truncate(n),
                Err(e) => {
                    self.buf.clear();
                    self.record(&e);
                    return -1;
                }
            }
            if self.buf.is_empty() {
                return -1;
            }
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        i32::from(b)
    }

    fn unread_byte(&mut self, byte: i32) {
        let Ok(byte) = u8::try_from(byte) else { return };
        if self.pushback.is_none() && self.pos > 0 {
            self.pos -= 1;
            self.buf[self.pos] = byte;
        } else {
            self.pushback = Some(byte);
        }
    }

    fn write_bytes(&mut self, data: &[u8]) -> io::Result<usize> {
        self.discard_read_ahead()?;
        self.charge_gap().inspect_err(|e| self.record(e))?;
        let file = &mut self.file;
        write_limited(data, |d| file.write_all(d)).inspect_err(|e| self.record(e))?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.discard_read_ahead()?;
        self.maybe_past_end = true;
        self.file.seek(pos).map_err(with_errno)
    }

    fn tell(&mut self) -> io::Result<u64> {
        let at = self.file.stream_position()?;
        Ok(at.saturating_sub(self.unread_len()))
    }

    fn clear_error(&mut self) {
        self.error = None;
    }

    fn has_error(&self) -> bool {
        self.error.is_some()
    }

    fn last_error_info(&self) -> Option<(i32, String)> {
        self.error.clone()
    }
}

fn hooks() -> HostHooks {
    HostHooks::new()
        .file_loader(hook_file_loader)
        .file_open(hook_file_open)
        .stdin(hook_stdin)
        .stdout(hook_stdout)
        .stderr(hook_stderr)
        .env(hook_env)
        .unix_time(hook_unix_time)
        .cpu_clock(hook_cpu_clock)
        .entropy(hook_entropy)
        .temp_name(hook_temp_name)
        .popen(hook_popen)
        .file_remove(hook_remove)
        .file_rename(hook_rename)
}

// ── Running ────────────────────────────────────────────────────────────────

/// An outcome and the text to write to stderr for it.
type Done = (Outcome, Option<String>);

fn internal(what: impl std::fmt::Display) -> Done {
    let message = format!("internal engine error: {what}");
    let report = format!("shield: {message}\n");
    (Outcome::Error(message), Some(report))
}

fn limit(kind: LimitKind, limits: Limits) -> Done {
    let fmt = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let message = match kind {
        LimitKind::Instructions => {
            format!("instruction limit of {} reached", fmt(limits.instructions))
        }
        LimitKind::Memory => {
            format!("memory limit of {} bytes reached", fmt(limits.memory_bytes))
        }
        LimitKind::Output => {
            format!("output limit of {} bytes reached", fmt(limits.output_bytes))
        }
    };
    let report = format!("shield: script stopped: {message}\n");
    (Outcome::Limit { kind, message }, Some(report))
}

fn from_panic(payload: Box<dyn Any + Send>, limits: Limits) -> Done {
    if let Some(LuaExit(code)) = payload.downcast_ref::<LuaExit>() {
        if OUTPUT_TRIPPED.get() {
            return limit(LimitKind::Output, limits);
        }
        return (Outcome::Exited(*code), None);
    }
    if payload.is::<OutputLimitReached>() || OUTPUT_TRIPPED.get() {
        return limit(LimitKind::Output, limits);
    }
    if payload.is::<MemoryLimitReached>() {
        return limit(LimitKind::Memory, limits);
    }
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic in the Lua VM".to_owned());
    internal(what)
}

/// Reads the entry script from the VFS.
fn read_entry(entry: &str) -> Result<Vec<u8>, String> {
    let read = || -> io::Result<Vec<u8>> {
        let path = vfs::normalize(entry)?;
        let mut file = with_io(|io| io.vfs.open(&path, OpenMode::parse("r").expect("valid")))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let bytes = read().map_err(|e| format!("cannot open {entry}: {}", strerror(&with_errno(e))))?;
    if bytes.first() == Some(&BINARY_CHUNK) {
        return Err(format!("{entry}: {TEXT_ONLY}"));
    }
    Ok(bytes)
}

/// Blanks a leading `#` line (as `lua` does), keeping line numbers.
fn skip_shebang(mut source: Vec<u8>) -> Vec<u8> {
    if source.first() == Some(&b'#') {
        let end = source
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(source.len());
        source.drain(..end);
    }
    source
}

fn execute(entry: &str, args: &[String], limits: Limits, check_interval: u32) -> Done {
    let lua = match Lua::with_hooks(hooks()) {
        Ok(lua) => lua,
        Err(e) => return internal(e),
    };
    let done = match prepare(&lua, entry, args, limits, check_interval) {
        Ok(Ok(prepared)) => run_main(&lua, prepared, args, limits),
        Ok(Err(message)) => {
            let report = format!("lua5.4: {message}\n");
            (Outcome::Error(message), Some(report))
        }
        Err(e) => internal(e),
    };
    // Closing the state runs the finalizers still pending, under the limits.
    drop(lua);
    done
}

fn run_main(lua: &Lua, prepared: Prepared, args: &[String], limits: Limits) -> Done {
    let Prepared {
        runner,
        main,
        sandbox,
    } = prepared;
    let mut call_args = vec![omnilua::Value::Function(main)];
    for a in args {
        match lua.create_string(a) {
            Ok(s) => call_args.push(omnilua::Value::String(s)),
            Err(e) => return internal(e),
        }
    }
    let result = runner.call::<_, Option<String>>(Variadic::from_iter(call_args));
    let tripped = sandbox.as_ref().and_then(omnilua::Sandbox::tripped);
    let out_of_memory =
        |message: &str| limits.memory_bytes.is_some() && message.starts_with(MEMORY_ERROR);
    match (result, tripped) {
        (_, _) if OUTPUT_TRIPPED.get() => limit(LimitKind::Output, limits),
        // A trip is final even where the script caught the error it raised.
        (_, Some(TripReason::Instructions)) => limit(LimitKind::Instructions, limits),
        (_, Some(TripReason::Memory)) => limit(LimitKind::Memory, limits),
        (Ok(None), None) => (Outcome::Exited(0), None),
        (Ok(Some(message)), None) if out_of_memory(&message) => limit(LimitKind::Memory, limits),
        (Ok(Some(message)), None) => {
            let message = strip_runner_frames(&message);
            let report = format!("lua5.4: {message}\n");
            (Outcome::Error(message), Some(report))
        }
        (Err(e), None) if out_of_memory(&e.to_string()) => limit(LimitKind::Memory, limits),
        (Err(e), None) => script_error(&e),
    }
}

/// How the VM words an allocation it refused (a table past its size cap).
const MEMORY_ERROR: &str = "not enough memory";

/// Records a limit that stopped code whose error the VM swallows (a
/// finalizer); the run then ends with that limit. Called from the prelude.
fn note_limit(message: &str) {
    if message.contains("sandbox: instruction budget exhausted") {
        STOPPED.set(Some(LimitKind::Instructions));
    } else if message.contains("sandbox: memory limit exceeded") {
        STOPPED.set(Some(LimitKind::Memory));
    }
}

/// Sets up the state and loads the entry chunk. The outer error is an engine
/// failure, the inner one a script error (missing entry, syntax error).
fn prepare(
    lua: &Lua,
    entry: &str,
    args: &[String],
    limits: Limits,
    check_interval: u32,
) -> omnilua::Result<Result<Prepared, String>> {
    lua.set_capture_tracebacks(true);
    // The default generational mode makes short-lived allocations far slower.
    lua.load("collectgarbage('incremental')")
        .set_name("=(shield)")
        .exec()?;
    let over_budget = lua.create_function(|_, ()| Ok(HEAP_EXCEEDED.get()()))?;
    let noted = lua.create_function(|_, message: String| {
        note_limit(&message);
        Ok(())
    })?;
    let memory_limit = limits.memory_bytes.map(|m| m as f64);
    let runner: omnilua::Function = lua
        .load(PRELUDE)
        .set_name("=(shield)")
        .into_function()?
        .call((memory_limit, over_budget, noted))?;
    let globals = lua.globals();
    let package: omnilua::Table = globals.get("package")?;
    package.set("path", PACKAGE_PATH)?;
    package.set("cpath", "")?;
    // No C modules: keep only the preload and Lua-file searchers.
    let searchers: omnilua::Table = package.get("searchers")?;
    searchers.set(4_i64, omnilua::Value::Nil)?;
    searchers.set(3_i64, omnilua::Value::Nil)?;
    let arg = lua.create_table()?;
    arg.set(-1_i64, "lua5.4")?;
    arg.set(0_i64, entry)?;
    for (i, a) in args.iter().enumerate() {
        arg.set(i as i64 + 1, a.as_str())?;
    }
    globals.set("arg", arg)?;

    let source = match read_entry(entry) {
        Ok(source) => skip_shebang(source),
        Err(message) => return Ok(Err(message)),
    };
    let main = match lua
        .load(source)
        .set_name(format!("@{entry}"))
        .into_function()
    {
        Ok(main) => main,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let sandbox = if limits.instructions.is_some() || limits.memory_bytes.is_some() {
        Some(
            lua.install_sandbox(SandboxConfig {
                instruction_limit: limits.instructions,
                memory_limit_bytes: limits
                    .memory_bytes
                    .map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
                check_interval,
                remove_globals: Vec::new(),
            })?,
        )
    } else {
        None
    };
    Ok(Ok(Prepared {
        runner,
        main,
        sandbox,
    }))
}

/// The main chunk and what runs it.
struct Prepared {
    runner: omnilua::Function,
    main: omnilua::Function,
    sandbox: Option<omnilua::Sandbox>,
}

/// Drops the traceback lines below the main chunk (the engine's runner) and
/// the frames of the prelude's wrappers around library functions, so a
/// traceback shows the script's frames as C Lua's would.
fn strip_runner_frames(message: &str) -> String {
    let mut lines: Vec<&str> = message.lines().collect();
    if let Some(i) = lines.iter().rposition(|l| l.ends_with(": in main chunk")) {
        lines.truncate(i + 1);
    }
    let prelude = |l: &str| l.trim_start().starts_with("(shield):");
    let mut kept = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let next_is_prelude = lines.get(i + 1).is_some_and(|l| prelude(l));
        let after_prelude = i > 0 && prelude(lines[i - 1]);
        let wrapper_error = line.trim() == "[C]: in function 'error'" && next_is_prelude;
        let tail_of_wrapper = line.trim() == "(...tail calls...)" && after_prelude;
        if !(prelude(line) || wrapper_error || tail_of_wrapper) {
            kept.push(*line);
        }
    }
    kept.join("\n")
}

fn script_error(e: &omnilua::Error) -> Done {
    let mut message = e.to_string();
    if let Some(tb) = e.traceback_lossy() {
        message.push('\n');
        message.push_str(tb.trim_end());
    }
    let report = format!("lua5.4: {message}\n");
    (Outcome::Error(message), Some(report))
}
