//! The natives behind the prelude, and the per-run state they share.
//!
//! Natives are plain function pointers; the running [`Job`](shield_engine::Job)'s
//! streams, VFS and clock are reached through the scoped thread-local [`IO`],
//! and the run's JavaScript-side state through [`STATE`].

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use boa_engine::error::{EngineError, PanicError};
use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::{JsArray, JsArrayBuffer, JsUint8Array};
use boa_engine::property::Attribute;
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

/// Seeds `Math.random` from the process's randomness (`getrandom`, a
/// system call the enclave allows).
pub(crate) fn seed_random() {
    let mut bytes = [0u8; 8];
    let seed = match getrandom::getrandom(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => 0x5348_4945_4c44_2121,
    };
    RANDOM.set(seed | 1);
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
        .property(js_string!("timeOrigin"), origin, Attribute::all());
    let fns: [(&str, NativeFunction, usize); 20] = [
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
