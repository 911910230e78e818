//! `_shield`: the native module through which the Python side of the engine
//! (python/*.py) reaches the running job: its streams, its VFS, its clock.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::io::{self, Read};

use shield_engine::vfs::{self, OpenMode, VfsFile};

use crate::{IO, Io};

pub(crate) use _shield::module_def;

thread_local! {
    /// `sys.monitoring.set_local_events`, kept here (out of the script's
    /// reach) while a hooked run is active.
    static SET_LOCAL_EVENTS: RefCell<Option<rustpython_vm::PyObjectRef>> = const { RefCell::new(None) };
    /// The original builtins `compile`, `eval` and `exec`, which the
    /// script reaches only through this module's checked wrappers (a
    /// Python wrapper would expose them in its `__globals__`).
    static BUILTINS: RefCell<Option<[rustpython_vm::PyObjectRef; 3]>> = const { RefCell::new(None) };
    /// The most `sys.setrecursionlimit` may set this run.
    static RECURSION_CAP: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// The run's open VFS files, by handle.
    static FILES: RefCell<Vec<Option<Box<dyn VfsFile>>>> = const { RefCell::new(Vec::new()) };
}

/// Closes every file of the run and forgets its monitoring hook.
pub(crate) fn reset_files() {
    FILES.with_borrow_mut(Vec::clear);
    SET_LOCAL_EVENTS.set(None);
    BUILTINS.set(None);
    RECURSION_CAP.set(None);
}

/// The original builtin `compile` (0), `eval` (1) or `exec` (2).
fn builtin(
    which: usize,
    vm: &rustpython_vm::VirtualMachine,
) -> rustpython_vm::PyResult<rustpython_vm::PyObjectRef> {
    BUILTINS
        .with_borrow(|b| b.as_ref().map(|b| b[which].clone()))
        .ok_or_else(|| vm.new_system_error("shield: builtins not kept"))
}

/// Refuses a source nested too deeply to compile on the engine's stack
/// (see src/nesting.rs) with a SyntaxError, as CPython refuses 200 nested
/// parentheses. Not a string (an AST, a code object): nothing to check.
fn check_nesting(
    source: &rustpython_vm::PyObject,
    filename: &str,
    vm: &rustpython_vm::VirtualMachine,
) -> rustpython_vm::PyResult<()> {
    use rustpython_vm::builtins::{PyByteArray, PyBytes, PyStr};
    let text = if let Some(s) = source.downcast_ref::<PyStr>() {
        s.to_string_lossy().into_owned()
    } else if let Some(b) = source.downcast_ref::<PyBytes>() {
        String::from_utf8_lossy(b.as_bytes()).into_owned()
    } else if let Some(b) = source.downcast_ref::<PyByteArray>() {
        String::from_utf8_lossy(&b.borrow_buf()).into_owned()
    } else {
        return Ok(());
    };
    let Some(line) = crate::nesting::too_deep(&text) else {
        return Ok(());
    };
    let shown = text
        .lines()
        .nth(line.saturating_sub(1))
        .map_or_else(|| vm.ctx.none(), |l| vm.ctx.new_str(l).into());
    let details = vm.ctx.new_tuple(vec![
        vm.ctx.new_str(filename).into(),
        vm.ctx.new_int(line).into(),
        vm.ctx.new_int(1).into(),
        shown,
    ]);
    let message = vm.ctx.new_str("too many nested parentheses or operators");
    Err(vm.new_exception(
        vm.ctx.exceptions.syntax_error.to_owned(),
        vec![message.into(), details.into()],
    ))
}

/// Whether `units` hold a `JUMP_BACKWARD_NO_INTERRUPT` that may close a
/// loop without passing an instrumented backward jump: one whose target
/// `t` does not lie in a loop whose JUMP_BACKWARD comes between `t` and the
/// jump (then the straight path from `t` meets that back edge first). A
/// handler's exit jumping back into its loop's body is such a safe one
/// (and a handler fires EXCEPTION_HANDLED anyway); the exit of a `try`
/// or `with` body ending a loop is not.
fn has_silent_loop(units: &[rustpython_vm::bytecode::CodeUnit]) -> bool {
    use rustpython_vm::bytecode::Instruction;
    let mut instrumented = Vec::new();
    let mut silent = Vec::new();
    let mut extended: u32 = 0;
    for (i, unit) in units.iter().enumerate() {
        let arg = (extended << 8) | u32::from(u8::from(unit.arg));
        extended = 0;
        let arg = arg as usize;
        match unit.op {
            Instruction::ExtendedArg => extended = arg as u32,
            // After the jump and its cache unit.
            Instruction::JumpBackward { .. }
            | Instruction::JumpBackwardJit
            | Instruction::JumpBackwardNoJit
            | Instruction::InstrumentedJumpBackward => {
                instrumented.push((i, (i + 2).saturating_sub(arg)));
            }
            Instruction::JumpBackwardNoInterrupt { .. } => {
                silent.push((i, (i + 1).saturating_sub(arg)));
            }
            _ => {}
        }
    }
    silent.iter().any(|&(jump, target)| {
        !instrumented
            .iter()
            .any(|&(back, to)| target <= back && back < jump && to <= target)
    })
}

/// `sys.monitoring.events.LINE`.
const LINE_EVENT: i32 = 1 << 5;
/// The engine's `sys.monitoring` tool.
const TOOL: i32 = 5;

/// Hooks LINE events on every code object under `code` (itself and the
/// functions, classes and comprehensions it defines) that has a
/// `JUMP_BACKWARD_NO_INTERRUPT`: RustPython compiles the back edge of a
/// loop whose body ends in `try` or `with` that way, and that jump fires
/// no JUMP event, so without this the limit hook would never run in such
/// a loop (`while True: try: ... except: pass`).
pub(crate) fn watch_loops(
    code: &rustpython_vm::PyObject,
    vm: &rustpython_vm::VirtualMachine,
) -> rustpython_vm::PyResult<()> {
    use rustpython_vm::builtins::PyCode;
    // After the script (the engine's own reporting) nothing is counted;
    // re-instrumenting code then can break RustPython frames in flight.
    if crate::DISARMED.get() {
        return Ok(());
    }
    let Some(set_local_events) = SET_LOCAL_EVENTS.with_borrow(Clone::clone) else {
        return Ok(());
    };
    let mut pending = vec![code.to_owned()];
    while let Some(obj) = pending.pop() {
        let Some(code) = obj.downcast_ref::<PyCode>() else {
            continue;
        };
        if has_silent_loop(&code.code.instructions) {
            set_local_events.call((TOOL, obj.clone(), LINE_EVENT), vm)?;
        }
        for constant in code.code.constants.iter() {
            let constant: &rustpython_vm::PyObject = constant.borrow();
            if constant.downcast_ref::<PyCode>().is_some() {
                pending.push(constant.to_owned());
            }
        }
    }
    Ok(())
}

/// Calls `f` with the running job, or fails when there is none.
pub(crate) fn with_io<R>(f: impl FnOnce(Io<'_>) -> io::Result<R>) -> io::Result<R> {
    if !IO.is_set() {
        return Err(io::Error::other("no script run is active on this thread"));
    }
    IO.with(f)
}

/// A script path as the VFS wants it: `/` is the root, and so is the
/// working directory.
fn vfs_path(path: &str) -> io::Result<String> {
    vfs::normalize(path.trim_start_matches('/'))
}

fn vfs_dir(path: &str) -> io::Result<String> {
    vfs::normalize_dir(path.trim_start_matches('/'))
}

/// The entry script's source.
pub(crate) fn read_entry(entry: &str) -> io::Result<String> {
    let bytes = read_all(entry)?;
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the script is not UTF-8"))
}

fn read_all(path: &str) -> io::Result<Vec<u8>> {
    let path = vfs_path(path)?;
    with_io(|io| {
        let mut file = io.vfs.open(&path, read_mode())?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    })
}

fn read_mode() -> OpenMode {
    OpenMode {
        read: true,
        write: false,
        append: false,
        truncate: false,
        create: false,
    }
}

#[rustpython_vm::pymodule]
mod _shield {
    use std::io::{SeekFrom, Write};

    use rustpython_vm::builtins::{
        PyByteArray, PyBytes, PyBytesRef, PyListRef, PyStr, PyUtf8StrRef,
    };
    use rustpython_vm::function::{ArgBytesLike, FuncArgs};
    use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};
    use shield_engine::vfs::{EntryKind, OpenMode};

    use super::{FILES, os_error, vfs_dir, vfs_path, with_io};

    /// The limit hook (see `crate::tick`).
    #[pyfunction]
    fn tick(_args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        crate::tick(vm)
    }

    /// Writes to stdout (1) or stderr (2); the output budget counts it.
    #[pyfunction]
    fn write_stream(fd: i32, data: ArgBytesLike, vm: &VirtualMachine) -> PyResult<usize> {
        let bytes = data.borrow_buf();
        crate::take_output(bytes.len(), vm)?;
        with_io(|io| match fd {
            2 => io.stderr.write_all(&bytes),
            _ => io.stdout.write_all(&bytes),
        })
        .map_err(|e| os_error(vm, &e, None))?;
        Ok(bytes.len())
    }

    /// Keeps `sys.monitoring.set_local_events` for [`super::watch_loops`]:
    /// once a run (start-up calls it; a script cannot replace it).
    #[pyfunction]
    fn keep_monitor(set_local_events: PyObjectRef) {
        if super::SET_LOCAL_EVENTS.with_borrow(Option::is_none) {
            super::SET_LOCAL_EVENTS.set(Some(set_local_events));
        }
    }

    /// `sys.setrecursionlimit`, capped at the engine's recursion limit
    /// (the first call, from start-up, sets the cap).
    #[pyfunction]
    fn setrecursionlimit(limit: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let Some(limit) = limit.downcast_ref::<rustpython_vm::builtins::PyInt>() else {
            return Err(vm.new_type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                limit.class().name()
            )));
        };
        let limit = limit.try_to_primitive::<i64>(vm).unwrap_or(i64::MAX);
        if limit < 1 {
            return Err(vm.new_value_error("recursion limit must be greater or equal than 1"));
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let cap = super::RECURSION_CAP.get().unwrap_or(limit);
        super::RECURSION_CAP.set(Some(cap));
        vm.recursion_limit.set(limit.min(cap));
        Ok(())
    }

    /// Keeps the original `compile`, `eval` and `exec`: once a run.
    #[pyfunction]
    fn keep_builtins(compile: PyObjectRef, eval: PyObjectRef, exec: PyObjectRef) {
        if super::BUILTINS.with_borrow(Option::is_none) {
            super::BUILTINS.set(Some([compile, eval, exec]));
        }
    }

    /// The script's `compile`: nesting checked, loops watched.
    #[pyfunction]
    fn compile(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        if let Some(source) = args.args.first().or_else(|| args.kwargs.get("source")) {
            let filename = args
                .args
                .get(1)
                .or_else(|| args.kwargs.get("filename"))
                .and_then(|f| {
                    f.downcast_ref::<PyStr>()
                        .map(|s| s.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "<string>".to_owned());
            super::check_nesting(source, &filename, vm)?;
        }
        let code = super::builtin(0, vm)?.call(args, vm)?;
        super::watch_loops(&code, vm)?;
        Ok(code)
    }

    /// The script's `eval` and `exec` (`which` 1 or 2): a source string is
    /// checked and compiled here, its loops watched, then run by the
    /// original in the caller's namespace (no Python frame in between).
    fn run_source(which: usize, mut args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        if let Some(source) = args.args.first().cloned() {
            super::check_nesting(&source, "<string>", vm)?;
            let is_text = source.downcast_ref::<PyStr>().is_some()
                || source.downcast_ref::<PyBytes>().is_some()
                || source.downcast_ref::<PyByteArray>().is_some();
            if is_text {
                let mode = if which == 1 { "eval" } else { "exec" };
                let text = if which == 1 {
                    // eval ignores leading spaces and tabs, as CPython's.
                    match source.downcast_ref::<PyStr>() {
                        Some(s) => vm
                            .ctx
                            .new_str(s.to_string_lossy().trim_start_matches([' ', '\t']))
                            .into(),
                        None => source,
                    }
                } else {
                    source
                };
                let code = super::builtin(0, vm)?
                    .call((text, vm.ctx.new_str("<string>"), vm.ctx.new_str(mode)), vm)?;
                args.args[0] = code.clone();
                super::watch_loops(&code, vm)?;
            }
            // A code object was watched by `compile` if the script made it;
            // the frozen standard library's (run by the importer through
            // here) is not watched: changing a code object's events while
            // RustPython frames are suspended (a traceback being formatted
            // by generators that import) can break those frames.
        }
        super::builtin(which, vm)?.call(args, vm)
    }

    /// See [`run_source`].
    #[pyfunction]
    fn eval(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        run_source(1, args, vm)
    }

    /// See [`run_source`].
    #[pyfunction]
    fn exec(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        run_source(2, args, vm)
    }

    /// See [`super::watch_loops`].
    #[pyfunction]
    fn watch_loops(code: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        super::watch_loops(&code, vm)
    }

    /// The job's environment variables, as (name, value) pairs.
    #[pyfunction]
    fn environ(vm: &VirtualMachine) -> PyResult<PyListRef> {
        let pairs = with_io(|io| {
            Ok(io
                .env
                .iter()
                .map(|(k, v)| {
                    vm.ctx
                        .new_tuple(vec![
                            vm.ctx.new_str(k.as_str()).into(),
                            vm.ctx.new_str(v.as_str()).into(),
                        ])
                        .into()
                })
                .collect())
        })
        .map_err(|e| os_error(vm, &e, None))?;
        Ok(vm.ctx.new_list(pairs))
    }

    /// Up to `n` bytes of stdin.
    #[pyfunction]
    fn read_stdin(n: usize, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
        let mut buf = vec![0; n.min(1 << 20)];
        let got = with_io(|io| io.stdin.read(&mut buf)).map_err(|e| os_error(vm, &e, None))?;
        buf.truncate(got);
        Ok(vm.ctx.new_bytes(buf))
    }

    /// Opens `path` with a C mode ("r", "w", "a", with "+"); a handle.
    #[pyfunction]
    fn file_open(path: PyUtf8StrRef, mode: PyUtf8StrRef, vm: &VirtualMachine) -> PyResult<usize> {
        let shown = path.as_str();
        let mode = OpenMode::parse(mode.as_str())
            .ok_or_else(|| vm.new_value_error(format!("invalid mode: '{}'", mode.as_str())))?;
        let normalized = vfs_path(shown).map_err(|e| os_error(vm, &e, Some(shown)))?;
        let file = with_io(|io| {
            if let Ok(meta) = io.vfs.metadata(&normalized)
                && meta.kind == EntryKind::Directory
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory",
                ));
            }
            io.vfs.open(&normalized, mode)
        })
        .map_err(|e| os_error(vm, &e, Some(shown)))?;
        Ok(FILES.with_borrow_mut(|files| {
            files.push(Some(file));
            files.len() - 1
        }))
    }

    fn with_file<R>(
        handle: usize,
        vm: &VirtualMachine,
        f: impl FnOnce(&mut dyn super::VfsFile) -> std::io::Result<R>,
    ) -> PyResult<R> {
        FILES
            .with_borrow_mut(|files| match files.get_mut(handle) {
                Some(Some(file)) => f(file.as_mut()),
                _ => Err(std::io::Error::from_raw_os_error(9)),
            })
            .map_err(|e| os_error(vm, &e, None))
    }

    /// Up to `n` bytes of a file (everything left when `n` < 0).
    #[pyfunction]
    fn file_read(handle: usize, n: isize, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
        let bytes = with_file(handle, vm, |file| {
            let mut buf = Vec::new();
            if n < 0 {
                file.read_to_end(&mut buf)?;
            } else {
                buf.resize((n as usize).min(1 << 20), 0);
                let got = file.read(&mut buf)?;
                buf.truncate(got);
            }
            Ok(buf)
        })?;
        Ok(vm.ctx.new_bytes(bytes))
    }

    /// Writes to a file; the output budget counts it.
    #[pyfunction]
    fn file_write(handle: usize, data: ArgBytesLike, vm: &VirtualMachine) -> PyResult<usize> {
        let bytes = data.borrow_buf();
        crate::take_output(bytes.len(), vm)?;
        with_file(handle, vm, |file| file.write_all(&bytes))?;
        Ok(bytes.len())
    }

    /// Moves a file's position; the new position.
    #[pyfunction]
    fn file_seek(handle: usize, pos: i64, whence: i32, vm: &VirtualMachine) -> PyResult<u64> {
        let to = match whence {
            0 => SeekFrom::Start(
                u64::try_from(pos)
                    .map_err(|_| vm.new_value_error(format!("negative seek position {pos}")))?,
            ),
            1 => SeekFrom::Current(pos),
            2 => SeekFrom::End(pos),
            _ => {
                return Err(
                    vm.new_value_error(format!("invalid whence ({whence}, should be 0, 1 or 2)"))
                );
            }
        };
        with_file(handle, vm, |file| file.seek(to))
    }

    /// Closes a file.
    #[pyfunction]
    fn file_close(handle: usize, vm: &VirtualMachine) -> PyResult<()> {
        let file = FILES.with_borrow_mut(|files| files.get_mut(handle).and_then(Option::take));
        match file {
            Some(mut file) => file.flush().map_err(|e| os_error(vm, &e, None)),
            None => Ok(()),
        }
    }

    /// "file", "dir", or None.
    #[pyfunction]
    fn stat(path: PyUtf8StrRef) -> Option<&'static str> {
        let dir = vfs_dir(path.as_str()).ok()?;
        let meta = with_io(|io| io.vfs.metadata(&dir)).ok()?;
        Some(match meta.kind {
            EntryKind::File => "file",
            EntryKind::Directory => "dir",
        })
    }

    /// ("file" or "dir", size), or the OSError.
    #[pyfunction]
    fn metadata(path: PyUtf8StrRef, vm: &VirtualMachine) -> PyResult<(&'static str, u64)> {
        let shown = path.as_str();
        let dir = vfs_dir(shown).map_err(|e| os_error(vm, &e, Some(shown)))?;
        let meta =
            with_io(|io| io.vfs.metadata(&dir)).map_err(|e| os_error(vm, &e, Some(shown)))?;
        Ok(match meta.kind {
            EntryKind::File => ("file", meta.size),
            EntryKind::Directory => ("dir", 0),
        })
    }

    /// The names in a directory, sorted.
    #[pyfunction]
    fn listdir(path: PyUtf8StrRef, vm: &VirtualMachine) -> PyResult<PyListRef> {
        let shown = path.as_str();
        let dir = vfs_dir(shown).map_err(|e| os_error(vm, &e, Some(shown)))?;
        let entries = with_io(|io| io.vfs.list(&dir)).map_err(|e| os_error(vm, &e, Some(shown)))?;
        Ok(vm.ctx.new_list(
            entries
                .into_iter()
                .map(|e| vm.ctx.new_str(e.name).into())
                .collect(),
        ))
    }

    /// A whole file (module sources).
    #[pyfunction]
    fn read_file(path: PyUtf8StrRef, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
        let bytes =
            super::read_all(path.as_str()).map_err(|e| os_error(vm, &e, Some(path.as_str())))?;
        Ok(vm.ctx.new_bytes(bytes))
    }

    /// `n` random bytes from the system's generator (getrandom).
    #[pyfunction]
    fn urandom(n: usize, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
        crate::guard::check(n as u128, vm)?;
        let mut buf = vec![0; n];
        getrandom::getrandom(&mut buf)
            .map_err(|e| vm.new_os_error(format!("getrandom failed: {e}")))?;
        Ok(vm.ctx.new_bytes(buf))
    }

    /// The message of an errno value.
    #[pyfunction]
    fn strerror(code: i32) -> String {
        super::strerror(code).to_owned()
    }

    /// Unix time in seconds: the job clock's reading at the start of the run
    /// plus its CPU seconds since.
    #[pyfunction]
    fn time() -> f64 {
        let (start, cpu_start) = crate::EPOCH.get();
        let cpu = with_io(|io| Ok(io.clock.cpu_seconds())).unwrap_or(cpu_start);
        start as f64 + (cpu - cpu_start).max(0.0)
    }

    /// The line where `source` nests too deeply to compile safely, or None.
    #[pyfunction]
    fn too_deep(source: PyUtf8StrRef) -> Option<usize> {
        crate::nesting::too_deep(source.as_str())
    }

    /// The job clock's CPU seconds.
    #[pyfunction]
    fn cpu_seconds() -> f64 {
        with_io(|io| Ok(io.clock.cpu_seconds())).unwrap_or(0.0)
    }
}

/// errno and message for an I/O error, as CPython names them.
fn errno_of(e: &io::Error) -> i32 {
    if let Some(code) = e.raw_os_error() {
        return code;
    }
    match e.kind() {
        io::ErrorKind::NotFound => 2,
        io::ErrorKind::PermissionDenied => 13,
        io::ErrorKind::AlreadyExists => 17,
        io::ErrorKind::NotADirectory => 20,
        io::ErrorKind::IsADirectory => 21,
        io::ErrorKind::InvalidInput => 22,
        _ => 5,
    }
}

fn strerror(code: i32) -> &'static str {
    match code {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        9 => "Bad file descriptor",
        13 => "Permission denied",
        17 => "File exists",
        20 => "Not a directory",
        21 => "Is a directory",
        22 => "Invalid argument",
        28 => "No space left on device",
        _ => "Input/output error",
    }
}

/// The OSError subclass CPython raises for `e` (FileNotFoundError...).
fn os_error(
    vm: &rustpython_vm::VirtualMachine,
    e: &io::Error,
    filename: Option<&str>,
) -> rustpython_vm::builtins::PyBaseExceptionRef {
    use rustpython_vm::AsObject;
    let code = errno_of(e);
    let ty = vm.ctx.exceptions.os_error.to_owned();
    let args: Vec<rustpython_vm::PyObjectRef> = match filename {
        Some(name) => vec![
            vm.ctx.new_int(code).into(),
            vm.ctx.new_str(strerror(code)).into(),
            vm.ctx.new_str(name).into(),
        ],
        None => vec![
            vm.ctx.new_int(code).into(),
            vm.ctx.new_str(strerror(code)).into(),
        ],
    };
    match ty.as_object().call(args, vm) {
        Ok(obj) => match obj.downcast::<rustpython_vm::builtins::PyBaseException>() {
            Ok(exc) => exc,
            Err(_) => vm.new_os_error(strerror(code).to_owned()),
        },
        Err(exc) => exc,
    }
}
