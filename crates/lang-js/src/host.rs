//! The natives behind the prelude, and the per-run state they share.
//!
//! Natives are plain function pointers; the running [`Job`](shield_engine::Job)'s
//! streams, VFS and clock are reached through the scoped thread-local [`IO`],
//! and the run's JavaScript-side state through [`STATE`].

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use boa_engine::error::{EngineError, PanicError};
use boa_engine::object::builtins::{JsArray, JsArrayBuffer, JsUint8Array};
use boa_engine::object::{FunctionObjectBuilder, ObjectInitializer};
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::{
    Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, Source,
    js_string,
};
use scoped_tls_hkt::{ReborrowMut, scoped_thread_local};
use shield_engine::vfs::{self, EntryKind, OpenMode, Vfs};
use shield_engine::{Clock, LimitKind};

/// The borrowed parts of the running job.
pub(crate) struct Io<'a> {
    pub(crate) stdin: &'a mut dyn Read,
    pub(crate) stdout: &'a mut dyn Write,
    pub(crate) stderr: &'a mut dyn Write,
    pub(crate) vfs: &'a mut dyn Vfs,
    pub(crate) clock: &'a dyn Clock,
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
        }
    }
}

scoped_thread_local!(pub(crate) static mut IO: for<'a> Io<'a>);

/// Calls `f` with the running job, or fails when there is none.
pub(crate) fn with_io<R>(f: impl FnOnce(Io<'_>) -> io::Result<R>) -> io::Result<R> {
    if !IO.is_set() {
        return Err(io::Error::other("no script run is active on this thread"));
    }
    IO.with(f)
}

/// Why the script must stop, beyond its reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// `process.exit(code)`.
    Exit(i32),
    /// A limit.
    Limit(LimitKind),
}

/// A pending timer.
pub(crate) struct Timer {
    pub(crate) id: u32,
    pub(crate) callback: JsObject,
    pub(crate) args: Vec<JsValue>,
    /// `Some(period)` for `setInterval`.
    pub(crate) repeat: Option<u64>,
}

/// The run's JavaScript-side state.
#[derive(Default)]
pub(crate) struct State {
    /// `fs`, `path`, `util`: what `import 'fs'` finds.
    pub(crate) builtins: Option<JsObject>,
    /// `makeRequire(file)` from the prelude.
    pub(crate) require_factory: Option<JsObject>,
    /// Runs the CommonJS entry's compiled wrapper.
    pub(crate) cjs_runner: Option<JsObject>,
    /// `util.inspect` for top-level values (the error report).
    pub(crate) inspector: Option<JsObject>,
    /// Reads `process.exitCode`.
    pub(crate) exit_code: Option<JsObject>,
    /// Timers by (virtual deadline in ms, sequence number).
    pub(crate) timers: BTreeMap<(u64, u64), Timer>,
    pub(crate) next_timer: u32,
    pub(crate) timer_seq: u64,
    /// Virtual time of the timer queue, in ms since the run started.
    pub(crate) timer_now: u64,
    /// Promises rejected with no handler yet.
    pub(crate) rejected: Vec<JsObject>,
    /// The script `call_polled` evaluates, parsed once per run.
    pub(crate) trampoline: Option<boa_engine::Script>,
}

thread_local! {
    pub(crate) static STATE: RefCell<State> = RefCell::new(State::default());
    /// Output bytes left, `None` when unlimited.
    pub(crate) static OUTPUT_LEFT: Cell<Option<u64>> = const { Cell::new(None) };
    /// The run's memory limit, to cap what natives read into memory.
    pub(crate) static MEMORY_LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
    /// The run's `Job::heap_exceeded`.
    pub(crate) static HEAP_EXCEEDED: Cell<fn() -> bool> = const { Cell::new(shield_engine::no_heap_budget) };
    /// Set once the script must stop; every later native call stops too.
    pub(crate) static STOP: Cell<Option<Stop>> = const { Cell::new(None) };
    /// `process.argv` beyond `shield`: the entry, then the arguments.
    pub(crate) static ARGV: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// `process.env`: the job's environment.
    pub(crate) static ENV: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
    /// The clock's reading when the run started: (unix seconds, cpu seconds).
    pub(crate) static CLOCK_START: Cell<(i64, f64)> = const { Cell::new((0, 0.0)) };
    /// The state of `Math.random`'s generator (xorshift64*).
    pub(crate) static RANDOM: Cell<u64> = const { Cell::new(1) };
    /// Where the native stack was when the run started (0: no run).
    pub(crate) static STACK_BASE: Cell<usize> = const { Cell::new(0) };
}

/// Native stack a run may use below where it started. The enclave's thread
/// has 8 MiB; the rest is headroom for what Boa does between two checks
/// (one level of a built-in's recursion, measured under 100 KiB in a debug
/// build) and for the frames above the run.
const STACK_ALLOWANCE: usize = 6 << 20;

/// How deep the native stack is here: the address of a local (the stack
/// grows down on every target the enclave runs on).
#[inline(never)]
pub(crate) fn stack_position() -> usize {
    let probe = 0u8;
    std::ptr::from_ref(std::hint::black_box(&probe)) as usize
}

/// A `RangeError` once the run has used [`STACK_ALLOWANCE`] of the native
/// stack: what recursion inside Boa's built-ins (nested arrays joined,
/// deep objects serialized) meets before it overflows the stack.
pub(crate) fn check_stack() -> JsResult<()> {
    let base = STACK_BASE.get();
    if base != 0 && base.saturating_sub(stack_position()) > STACK_ALLOWANCE {
        return Err(JsNativeError::range()
            .with_message("Maximum call stack size exceeded")
            .into());
    }
    Ok(())
}

/// An error the script cannot catch: the VM unwinds every frame, `finally`
/// blocks included, and hands it to the engine, which reads [`STOP`].
pub(crate) fn stop(why: Stop) -> JsError {
    if STOP.get().is_none() {
        STOP.set(Some(why));
    }
    EngineError::Panic(PanicError::new("shield: script stopped")).into()
}

/// Stops the script when the heap backstop says the run is past its budget.
pub(crate) fn check_heap() -> JsResult<()> {
    if let Some(why) = STOP.get() {
        return Err(stop(why));
    }
    if HEAP_EXCEEDED.get()() {
        return Err(stop(Stop::Limit(LimitKind::Memory)));
    }
    Ok(())
}

/// Takes `n` bytes from the output budget; stops the script when it runs
/// out (after writing what still fits, through `write`).
fn write_limited(data: &[u8], write: impl FnOnce(&[u8]) -> io::Result<()>) -> JsResult<()> {
    check_heap()?;
    let allowed = match OUTPUT_LEFT.get() {
        None => data.len(),
        Some(left) => {
            let allowed = left.min(data.len() as u64);
            OUTPUT_LEFT.set(Some(left - allowed));
            allowed as usize
        }
    };
    write(&data[..allowed]).map_err(|e| type_error(&format!("write failed: {e}")))?;
    if allowed < data.len() {
        return Err(stop(Stop::Limit(LimitKind::Output)));
    }
    Ok(())
}

fn type_error(message: &str) -> JsError {
    JsNativeError::typ().with_message(message.to_owned()).into()
}

fn arg(args: &[JsValue], i: usize) -> JsValue {
    args.get(i).cloned().unwrap_or_default()
}

fn string_arg(args: &[JsValue], i: usize, context: &mut Context) -> JsResult<String> {
    Ok(arg(args, i).to_string(context)?.to_std_string_lossy())
}

/// The bytes of a string (UTF-8) or of a typed array view.
fn bytes_of(value: &JsValue, context: &mut Context) -> JsResult<Vec<u8>> {
    if let Some(obj) = value.as_object()
        && let Ok(view) = JsUint8Array::from_object(obj.clone())
    {
        let offset = view.byte_offset(context)?;
        let len = view.byte_length(context)?;
        let buffer = view.buffer(context)?;
        let buffer = buffer
            .as_object()
            .and_then(|b| JsArrayBuffer::from_object(b.clone()).ok())
            .ok_or_else(|| type_error("detached buffer"))?;
        let data = buffer.data().ok_or_else(|| type_error("detached buffer"))?;
        return Ok(data.get(offset..offset + len).unwrap_or_default().to_vec());
    }
    Ok(value.to_string(context)?.to_std_string_lossy().into_bytes())
}

fn uint8_array(bytes: Vec<u8>, context: &mut Context) -> JsResult<JsValue> {
    Ok(JsUint8Array::from_iter(bytes, context)?.into())
}

/// The prelude's marker for a failed file operation: `"\0ENOENT"` and the
/// like, turned into a Node-style error object in JavaScript.
fn fs_error(e: &io::Error) -> JsValue {
    let code = match e.kind() {
        io::ErrorKind::NotFound => "ENOENT",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::IsADirectory => "EISDIR",
        io::ErrorKind::NotADirectory => "ENOTDIR",
        io::ErrorKind::InvalidInput => "EINVAL",
        _ => "EIO",
    };
    JsValue::from(JsString::from(format!("\0{code}")))
}

/// Reads a whole VFS file, refusing one larger than the memory limit.
pub(crate) fn read_vfs(path: &str) -> io::Result<Vec<u8>> {
    let path = vfs::normalize(path)?;
    with_io(|io| {
        let meta = io.vfs.metadata(&path)?;
        if meta.kind == EntryKind::Directory {
            return Err(io::Error::from(io::ErrorKind::IsADirectory));
        }
        if MEMORY_LIMIT.get().is_some_and(|m| meta.size > m) {
            return Err(io::Error::other("file larger than the memory limit"));
        }
        let mut file = io
            .vfs
            .open(&path, OpenMode::parse("r").expect("valid mode"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    })
}

// ── The natives ────────────────────────────────────────────────────────────

fn sh_write(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let fd = arg(args, 0).to_i32(context)?;
    let data = bytes_of(&arg(args, 1), context)?;
    write_limited(&data, |d| {
        with_io(|io| {
            if fd == 2 {
                io.stderr.write_all(d)
            } else {
                io.stdout.write_all(d)
            }
        })
    })?;
    Ok(JsValue::undefined())
}

fn sh_exit(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let code = arg(args, 0).to_number(context)?;
    let code = if code.is_finite() { code as i32 } else { 0 };
    Err(stop(Stop::Exit(code)))
}

/// Milliseconds since the run started, from the job's clock.
pub(crate) fn perf_now() -> f64 {
    let now = with_io(|io| Ok(io.clock.cpu_seconds())).unwrap_or(0.0);
    ((now - CLOCK_START.get().1) * 1000.0).max(0.0)
}

fn sh_perf_now(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    Ok(JsValue::from(perf_now()))
}

fn sh_set_timer(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let callback = arg(args, 0)
        .as_callable()
        .ok_or_else(|| type_error("The \"callback\" argument must be of type function"))?
        .clone();
    let ms = arg(args, 1).to_number(context)?;
    let immediate = ms < 0.0;
    // Node: delays outside 1..=2^31-1 become 1.
    let ms = if immediate {
        0
    } else if (1.0..=2_147_483_647.0).contains(&ms) {
        ms as u64
    } else {
        1
    };
    let extra = arg(args, 2);
    let mut call_args = Vec::new();
    if let Some(list) = extra.as_object()
        && let Ok(list) = JsArray::from_object(list.clone())
    {
        let n = list.length(context)?;
        for i in 0..n {
            call_args.push(list.get(i, context)?);
        }
    }
    let repeat = arg(args, 3).to_boolean().then_some(ms.max(1));
    Ok(STATE.with_borrow_mut(|s| {
        s.next_timer = s.next_timer.wrapping_add(1).max(1);
        s.timer_seq += 1;
        let id = s.next_timer;
        let deadline = s.timer_now + ms;
        s.timers.insert(
            (deadline, s.timer_seq),
            Timer {
                id,
                callback,
                args: call_args,
                repeat,
            },
        );
        JsValue::from(id)
    }))
}

fn sh_clear_timer(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let id = arg(args, 0).to_number(context)?;
    STATE.with_borrow_mut(|s| s.timers.retain(|_, t| f64::from(t.id) != id));
    Ok(JsValue::undefined())
}

fn sh_decode(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let bytes = bytes_of(&arg(args, 0), context)?;
    Ok(JsString::from(String::from_utf8_lossy(&bytes).as_ref()).into())
}

fn sh_read_stdin(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let limit = MEMORY_LIMIT.get().unwrap_or(u64::MAX);
    let bytes = with_io(|io| {
        let mut bytes = Vec::new();
        io.stdin.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    match bytes {
        Ok(bytes) => uint8_array(bytes, context),
        Err(e) => Ok(fs_error(&e)),
    }
}

fn sh_read_file(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let path = string_arg(args, 0, context)?;
    match read_vfs(&path) {
        Ok(bytes) => uint8_array(bytes, context),
        Err(e) => Ok(fs_error(&e)),
    }
}

fn sh_write_file(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let path = string_arg(args, 0, context)?;
    let data = bytes_of(&arg(args, 1), context)?;
    let append = arg(args, 2).to_boolean();
    let mode = OpenMode::parse(if append { "a" } else { "w" }).expect("valid mode");
    let opened = vfs::normalize(&path).and_then(|p| with_io(|io| io.vfs.open(&p, mode)));
    let mut file = match opened {
        Ok(file) => file,
        Err(e) => return Ok(fs_error(&e)),
    };
    let mut failed = None;
    write_limited(&data, |d| {
        if let Err(e) = file.write_all(d).and_then(|()| file.flush()) {
            failed = Some(e);
        }
        Ok(())
    })?;
    Ok(failed.map_or_else(JsValue::undefined, |e| fs_error(&e)))
}

fn kind_letter(kind: EntryKind) -> JsValue {
    match kind {
        EntryKind::File => js_string!("f").into(),
        EntryKind::Directory => js_string!("d").into(),
    }
}

fn sh_stat(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let path = string_arg(args, 0, context)?;
    let meta = vfs::normalize_dir(&path).and_then(|p| with_io(|io| io.vfs.metadata(&p)));
    match meta {
        Ok(meta) => {
            let items = [kind_letter(meta.kind), JsValue::from(meta.size as f64)];
            Ok(JsArray::from_iter(items, context).into())
        }
        Err(_) => Ok(JsValue::null()),
    }
}

fn sh_readdir(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let path = string_arg(args, 0, context)?;
    let entries = match vfs::normalize_dir(&path).and_then(|p| with_io(|io| io.vfs.list(&p))) {
        Ok(entries) => entries,
        Err(e) => return Ok(fs_error(&e)),
    };
    let mut items = Vec::with_capacity(entries.len());
    for e in entries {
        let pair = [JsString::from(e.name.as_str()).into(), kind_letter(e.kind)];
        items.push(JsArray::from_iter(pair, context).into());
    }
    Ok(JsArray::from_iter(items, context).into())
}

/// Whether `path` names a file in the VFS.
fn is_file(path: &str) -> bool {
    with_io(|io| io.vfs.metadata(path)).is_ok_and(|m| m.kind == EntryKind::File)
}

/// Resolves a CommonJS or ES module specifier against directory `dir` (a
/// normalized VFS path, `""` for the root) as Node does for relative paths:
/// the file itself, then with `.js`, `.json`, `.mjs`, `.cjs`, then a
/// directory's `index.js`. Bare specifiers resolve from the root.
pub(crate) fn resolve(dir: &str, spec: &str) -> Option<String> {
    let joined = if spec.starts_with("./") || spec.starts_with("../") || spec == "." || spec == ".."
    {
        if dir.is_empty() {
            spec.to_owned()
        } else {
            format!("{dir}/{spec}")
        }
    } else if let Some(rest) = spec.strip_prefix('/') {
        rest.to_owned()
    } else {
        return None;
    };
    let base = vfs::normalize(&joined).ok();
    let base = base.as_deref().unwrap_or("");
    let mut candidates = Vec::new();
    if !base.is_empty() {
        candidates.push(base.to_owned());
        for ext in [".js", ".json", ".mjs", ".cjs"] {
            candidates.push(format!("{base}{ext}"));
        }
    }
    let prefix = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/")
    };
    candidates.push(format!("{prefix}index.js"));
    candidates.push(format!("{prefix}index.json"));
    candidates.into_iter().find(|c| is_file(c))
}

fn sh_resolve(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let dir = string_arg(args, 0, context)?;
    let spec = string_arg(args, 1, context)?;
    Ok(resolve(&dir, &spec).map_or_else(JsValue::null, |p| JsString::from(p.as_str()).into()))
}

/// Compiles a CommonJS module's source as Node does: inside a function of
/// `exports, require, module, __filename, __dirname`, named by its path so
/// that errors show it. The wrapper starts on the source's first line.
pub(crate) fn compile_commonjs(path: &str, context: &mut Context) -> JsResult<JsValue> {
    let bytes = read_vfs(path).map_err(|e| type_error(&format!("cannot read {path}: {e}")))?;
    let source = String::from_utf8_lossy(&bytes);
    let source = blank_hashbang(&source);
    crate::run::guard_depth(&source, path)?;
    let wrapped =
        format!("(function (exports, require, module, __filename, __dirname) {{{source}\n}})");
    let script = boa_engine::Script::parse(
        Source::from_bytes(wrapped.as_bytes()).with_path(std::path::Path::new(path)),
        None,
        context,
    )
    .map_err(|e| crate::run::locate_syntax_error(e, path, crate::run::WRAPPER_PREFIX))?;
    script.evaluate(context)
}

/// Replaces a leading `#!` line by blanks, keeping line numbers.
pub(crate) fn blank_hashbang(source: &str) -> std::borrow::Cow<'_, str> {
    if source.starts_with("#!") {
        let end = source.find('\n').unwrap_or(source.len());
        std::borrow::Cow::Owned(format!("{}{}", " ".repeat(end), &source[end..]))
    } else {
        std::borrow::Cow::Borrowed(source)
    }
}

fn sh_compile_commonjs(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let path = string_arg(args, 0, context)?;
    compile_commonjs(&path, context)
}

/// `vm.runInThisContext`: `code` as a classic script in the global scope.
fn sh_run_script(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    check_heap()?;
    let code = string_arg(args, 0, context)?;
    let path = string_arg(args, 1, context)?;
    crate::run::guard_depth(&code, &path)?;
    let script = boa_engine::Script::parse(
        Source::from_bytes(code.as_bytes()).with_path(std::path::Path::new(&path)),
        None,
        context,
    )
    .map_err(|e| crate::run::locate_syntax_error(e, &path, 0))?;
    script.evaluate(context)
}

/// `sh.stackCheck()`: [`check_stack`] for the prelude's guarded built-ins.
fn sh_stack_check(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    check_stack()?;
    Ok(JsValue::undefined())
}

/// `sh.jsonStep(key, value)`: the identity replacer `JSON.stringify` runs
/// with, so that its recursion into nested objects meets [`check_stack`].
fn sh_json_step(_: &JsValue, args: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    check_stack()?;
    Ok(arg(args, 1))
}

/// What a guarded built-in checks before it runs, given its `this` and
/// arguments; it may return replacements for them (converted to
/// primitives, so the built-in's own conversions observe nothing twice).
type Precheck = fn(&JsValue, &[JsValue], &mut Context) -> JsResult<Option<(JsValue, Vec<JsValue>)>>;

/// Replaces `object[name]`, a built-in method, by a native that runs
/// `check` and then the original.
fn guard_method(
    object: &JsObject,
    name: &str,
    check: Precheck,
    context: &mut Context,
) -> JsResult<JsObject> {
    let key = JsString::from(name);
    let original = object
        .get(key.clone(), context)?
        .as_object()
        .ok_or_else(|| type_error(name))?;
    let length = original
        .get(js_string!("length"), context)?
        .to_length(context)?;
    let guarded = FunctionObjectBuilder::new(
        context.realm(),
        NativeFunction::from_copy_closure_with_captures(
            move |this, args, original: &JsObject, context| match check(this, args, context)? {
                Some((this, args)) => original.call(&this, &args, context),
                None => original.call(this, args, context),
            },
            original,
        ),
    )
    .name(key.clone())
    .length(usize::try_from(length).unwrap_or(0))
    .constructor(false)
    .build();
    object.define_property_or_throw(
        key,
        PropertyDescriptor::builder()
            .value(guarded.clone())
            .writable(true)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    Ok(guarded.into())
}

/// The built-ins that recurse into nested arrays natively (`join` calls
/// each element's `toString`, which calls `join`) meet [`check_stack`] at
/// every level.
fn recursing(
    _: &JsValue,
    _: &[JsValue],
    _: &mut Context,
) -> JsResult<Option<(JsValue, Vec<JsValue>)>> {
    check_heap()?;
    check_stack()?;
    Ok(None)
}

/// Stops the run with the memory limit when one built-in call would build
/// a result of `bytes` past it: a single allocation that large would not
/// wait for the next poll of the heap backstop.
fn refuse_over_limit(bytes: f64) -> JsResult<()> {
    check_heap()?;
    if MEMORY_LIMIT.get().is_some_and(|limit| bytes > limit as f64) {
        return Err(stop(Stop::Limit(LimitKind::Memory)));
    }
    Ok(())
}

/// `this` as a string, as `String.prototype` methods take it.
fn this_string(this: &JsValue, context: &mut Context) -> JsResult<JsString> {
    if this.is_null_or_undefined() {
        return Err(type_error(
            "String.prototype method called on null or undefined",
        ));
    }
    this.to_string(context)
}

/// `String.prototype.repeat`: the result is `this` times `count`.
fn repeat_size(
    this: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<Option<(JsValue, Vec<JsValue>)>> {
    let s = this_string(this, context)?;
    let count = arg(args, 0).to_number(context)?;
    // A negative or infinite count is the built-in's RangeError. UTF-16
    // code units, two bytes each at worst.
    if count.is_finite() && count > 0.0 {
        refuse_over_limit(s.len() as f64 * count.trunc() * 2.0)?;
    }
    Ok(Some((s.into(), vec![JsValue::from(count)])))
}

/// `padStart`/`padEnd`: the result is `maxLength` long.
fn pad_size(
    this: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<Option<(JsValue, Vec<JsValue>)>> {
    let s = this_string(this, context)?;
    let max = arg(args, 0).to_length(context)?;
    let mut rest = vec![JsValue::from(max as f64)];
    if max as usize > s.len() {
        let fill = arg(args, 1);
        let fill = if fill.is_undefined() {
            fill
        } else {
            fill.to_string(context)?.into()
        };
        if fill.as_string().is_none_or(|f| !f.is_empty()) {
            refuse_over_limit(max as f64 * 2.0)?;
        }
        rest.push(fill);
    }
    Ok(Some((s.into(), rest)))
}

/// The length of `this` when it is an ordinary array (reading it observes
/// nothing).
fn plain_array_length(this: &JsValue, context: &mut Context) -> JsResult<Option<u64>> {
    let Some(obj) = this.as_object() else {
        return Ok(None);
    };
    let Ok(array) = JsArray::from_object(obj) else {
        return Ok(None);
    };
    Ok(Some(array.length(context)?))
}

/// `Array.prototype.join`: at least `length - 1` separators; and the join
/// recurses into nested arrays.
fn join_size(
    this: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<Option<(JsValue, Vec<JsValue>)>> {
    recursing(this, args, context)?;
    let Some(len) = plain_array_length(this, context)? else {
        return Ok(None);
    };
    let sep = arg(args, 0);
    let sep = if sep.is_undefined() {
        js_string!(",")
    } else {
        sep.to_string(context)?
    };
    refuse_over_limit(len.saturating_sub(1) as f64 * sep.len() as f64 * 2.0)?;
    Ok(Some((this.clone(), vec![sep.into()])))
}

/// `Array.prototype.fill`: a sparse array filled becomes dense (16 bytes a
/// value). Only checked when the range is given as numbers (or not at all).
fn fill_size(
    this: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<Option<(JsValue, Vec<JsValue>)>> {
    check_heap()?;
    let Some(len) = plain_array_length(this, context)? else {
        return Ok(None);
    };
    let bound = |i: usize, default: f64| match args.get(i) {
        None => Some(default),
        Some(v) if v.is_undefined() => Some(default),
        Some(v) => v.as_number().map(|n| {
            let n = if n.is_nan() { 0.0 } else { n.trunc() };
            if n < 0.0 {
                (len as f64 + n).max(0.0)
            } else {
                n.min(len as f64)
            }
        }),
    };
    if let (Some(start), Some(end)) = (bound(1, 0.0), bound(2, len as f64)) {
        refuse_over_limit((end - start).max(0.0) * 16.0)?;
    }
    Ok(None)
}

/// Guards the built-ins that recurse natively into nested arrays, and the
/// ones that can build a result past the memory limit in one call.
pub(crate) fn guard_builtins(context: &mut Context) -> JsResult<()> {
    let array = context.intrinsics().constructors().array().prototype();
    let typed = context
        .intrinsics()
        .constructors()
        .typed_array()
        .prototype();
    let string = context.intrinsics().constructors().string().prototype();
    guard_method(&array, "join", join_size, context)?;
    guard_method(&array, "toLocaleString", recursing, context)?;
    guard_method(&array, "fill", fill_size, context)?;
    let to_string = guard_method(&array, "toString", recursing, context)?;
    // %TypedArray%.prototype.toString is the same function object.
    typed.define_property_or_throw(
        js_string!("toString"),
        PropertyDescriptor::builder()
            .value(to_string)
            .writable(true)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    guard_method(&string, "repeat", repeat_size, context)?;
    guard_method(&string, "padStart", pad_size, context)?;
    guard_method(&string, "padEnd", pad_size, context)?;
    Ok(())
}

fn setter(slot: fn(&mut State) -> &mut Option<JsObject>) -> NativeFunction {
    NativeFunction::from_copy_closure(move |_, args, _| {
        let obj = arg(args, 0).as_object();
        STATE.with_borrow_mut(|s| *slot(s) = obj);
        Ok(JsValue::undefined())
    })
}

/// `Math.random`: xorshift64* seeded from the enclave's randomness.
fn math_random(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let mut x = RANDOM.get();
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    RANDOM.set(x);
    let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
    Ok(JsValue::from(bits as f64 / (1u64 << 53) as f64))
}

/// Seeds `Math.random` inside the enclave, from the same secret source as
/// the script VMs' hash keys ([`shield_engine::keyed::secret_key`]).
pub(crate) fn seed_random() {
    RANDOM.set(shield_engine::keyed::secret_key()[0] | 1);
}

/// Builds the natives object the prelude receives, and replaces
/// `Math.random`.
pub(crate) fn natives(context: &mut Context) -> JsResult<JsObject> {
    let argv: Vec<JsValue> = std::iter::once("shield".to_owned())
        .chain(ARGV.with_borrow(Clone::clone))
        .map(|a| JsString::from(a.as_str()).into())
        .collect();
    let argv = JsArray::from_iter(argv, context);
    let env = {
        let mut env = ObjectInitializer::new(context);
        ENV.with_borrow(|vars| {
            for (name, value) in vars {
                env.property(
                    JsString::from(name.as_str()),
                    JsString::from(value.as_str()),
                    Attribute::all(),
                );
            }
        });
        env.build()
    };
    let origin = {
        let (secs, _) = CLOCK_START.get();
        secs as f64 * 1000.0
    };
    let mut init = ObjectInitializer::new(context);
    init.property(js_string!("argv"), argv, Attribute::all())
        .property(js_string!("env"), env, Attribute::all())
        .property(js_string!("timeOrigin"), origin, Attribute::all())
        .property(
            js_string!("wrapperPrefix"),
            crate::run::WRAPPER_PREFIX as f64,
            Attribute::all(),
        );
    let fns: [(&str, NativeFunction, usize); 22] = [
        ("stackCheck", NativeFunction::from_fn_ptr(sh_stack_check), 0),
        ("jsonStep", NativeFunction::from_fn_ptr(sh_json_step), 2),
        ("write", NativeFunction::from_fn_ptr(sh_write), 2),
        ("exit", NativeFunction::from_fn_ptr(sh_exit), 1),
        ("perfNow", NativeFunction::from_fn_ptr(sh_perf_now), 0),
        ("setTimer", NativeFunction::from_fn_ptr(sh_set_timer), 4),
        ("clearTimer", NativeFunction::from_fn_ptr(sh_clear_timer), 1),
        ("decode", NativeFunction::from_fn_ptr(sh_decode), 1),
        ("readStdin", NativeFunction::from_fn_ptr(sh_read_stdin), 0),
        ("readFile", NativeFunction::from_fn_ptr(sh_read_file), 1),
        ("writeFile", NativeFunction::from_fn_ptr(sh_write_file), 3),
        ("stat", NativeFunction::from_fn_ptr(sh_stat), 1),
        ("readdir", NativeFunction::from_fn_ptr(sh_readdir), 1),
        ("resolve", NativeFunction::from_fn_ptr(sh_resolve), 2),
        (
            "compileCommonJs",
            NativeFunction::from_fn_ptr(sh_compile_commonjs),
            1,
        ),
        ("setBuiltins", setter(|s| &mut s.builtins), 1),
        ("setRequireFactory", setter(|s| &mut s.require_factory), 1),
        ("setCommonJsRunner", setter(|s| &mut s.cjs_runner), 1),
        ("setInspector", setter(|s| &mut s.inspector), 1),
        ("setExitCodeSource", setter(|s| &mut s.exit_code), 1),
        ("random", NativeFunction::from_fn_ptr(math_random), 0),
        ("runScript", NativeFunction::from_fn_ptr(sh_run_script), 2),
    ];
    for (name, f, len) in fns {
        init.function(f, JsString::from(name), len);
    }
    let natives = init.build();
    let math = context
        .global_object()
        .get(js_string!("Math"), context)?
        .as_object()
        .ok_or_else(|| type_error("no Math"))?;
    let random = natives.get(js_string!("random"), context)?;
    math.set(js_string!("random"), random, true, context)?;
    Ok(natives)
}
