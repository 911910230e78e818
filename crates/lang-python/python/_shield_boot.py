"""Start-up of every Shield Python run: routes the standard streams, open(),
imports and the limit hook to the job (through the native `_shield`
module), and shuts the doors to the host. Run once, before the script."""

import sys
import _io
import _shield

_BUFSIZE = 8192


class _StreamRaw(_io._RawIOBase):
    """A standard stream of the job: 0 reads stdin, 1 and 2 write."""

    def __init__(self, fd, name):
        self._fd = fd
        self.name = name

    def readable(self):
        return self._fd == 0

    def writable(self):
        return self._fd != 0

    def readinto(self, buf):
        data = _shield.read_stdin(len(buf))
        n = len(data)
        buf[:n] = data
        return n

    def write(self, data):
        return _shield.write_stream(self._fd, data)

    def fileno(self):
        return self._fd

    def isatty(self):
        return False


class _FileRaw(_io._RawIOBase):
    """A file of the job's VFS, by handle."""

    def __init__(self, handle, name, mode, readable, writable):
        self._handle = handle
        self.name = name
        self.mode = mode
        self._readable = readable
        self._writable = writable

    def readable(self):
        return self._readable

    def writable(self):
        return self._writable

    def seekable(self):
        return True

    def readinto(self, buf):
        data = _shield.file_read(self._handle, len(buf))
        n = len(data)
        buf[:n] = data
        return n

    def readall(self):
        return _shield.file_read(self._handle, -1)

    def write(self, data):
        return _shield.file_write(self._handle, data)

    def seek(self, pos, whence=0):
        return _shield.file_seek(self._handle, pos, whence)

    def tell(self):
        return _shield.file_seek(self._handle, 0, 1)

    def truncate(self, size=None):
        raise _io.UnsupportedOperation("truncate")

    def close(self):
        if not self.closed:
            try:
                self.flush()
            finally:
                _shield.file_close(self._handle)
        super().close()


def _stream(fd, name, mode):
    raw = _StreamRaw(fd, name)
    if fd == 0:
        buffered = _io.BufferedReader(raw, _BUFSIZE)
    else:
        buffered = _io.BufferedWriter(raw, _BUFSIZE)
    errors = "backslashreplace" if fd == 2 else "strict"
    text = _io.TextIOWrapper(buffered, "utf-8", errors, "\n", fd == 2)
    text.mode = mode
    return text


def open(file, mode="r", buffering=-1, encoding=None, errors=None,
         newline=None, closefd=True, opener=None):
    """open() over the job's VFS: the bundle's files read-only, new files
    written as the run's outputs."""
    if isinstance(file, int):
        raise OSError(9, "Bad file descriptor")
    path = _fspath(file)
    if not isinstance(mode, str):
        raise TypeError("open() argument 'mode' must be str, not " + type(mode).__name__)
    modes = set(mode)
    if modes - set("rwxabt+") or len(mode) > len(modes):
        raise ValueError("invalid mode: '%s'" % mode)
    binary = "b" in modes
    if binary and "t" in modes:
        raise ValueError("can't have text and binary mode at once")
    kinds = sum(c in modes for c in "rwax")
    if kinds > 1:
        raise ValueError("must have exactly one of create/read/write/append mode")
    if kinds == 0:
        raise ValueError("Must have exactly one of create/read/write/append mode and at most one plus")
    if binary and encoding is not None:
        raise ValueError("binary mode doesn't take an encoding argument")
    if binary and errors is not None:
        raise ValueError("binary mode doesn't take an errors argument")
    if binary and newline is not None:
        raise ValueError("binary mode doesn't take a newline argument")
    plus = "+" in modes
    if "x" in modes:
        if _shield.stat(path) is not None:
            raise FileExistsError(17, "File exists", path)
        vfs_mode = "w+" if plus else "w"
    elif "r" in modes:
        vfs_mode = "r+" if plus else "r"
    elif "w" in modes:
        vfs_mode = "w+" if plus else "w"
    else:
        vfs_mode = "a+" if plus else "a"
    handle = _shield.file_open(path, vfs_mode)
    readable = "r" in modes or plus
    writable = not ("r" in modes) or plus
    raw_mode = mode.replace("t", "")
    if "b" not in raw_mode:
        raw_mode += "b"
    raw = _FileRaw(handle, file, raw_mode, readable, writable)
    if buffering == 0:
        if not binary:
            raise ValueError("can't have unbuffered text I/O")
        return raw
    size = _BUFSIZE if buffering in (-1, 1) else buffering
    if readable and writable:
        buffered = _io.BufferedRandom(raw, size)
    elif readable:
        buffered = _io.BufferedReader(raw, size)
    else:
        buffered = _io.BufferedWriter(raw, size)
    if binary:
        return buffered
    text = _io.TextIOWrapper(buffered, encoding or "utf-8", errors, newline,
                             buffering == 1)
    text.mode = mode
    return text


def _fspath(file):
    if isinstance(file, (str, bytes)):
        path = file
    elif hasattr(type(file), "__fspath__"):
        path = type(file).__fspath__(file)
    else:
        raise TypeError("expected str, bytes or os.PathLike object, not "
                        + type(file).__name__)
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    return path


def _refuse(*args, **kwargs):
    raise PermissionError(13, "Permission denied: no host files in Shield")


class _NoFileIO(_io._RawIOBase):
    """_io.FileIO's place: host files are not reachable."""

    def __init__(self, *args, **kwargs):
        _refuse()


def _check_source(source, filename):
    """Refuses a source nested too deeply to compile on the engine's stack
    (see src/nesting.rs), as CPython refuses 200 nested parentheses."""
    if isinstance(source, (bytes, bytearray)):
        source = bytes(source).decode("utf-8", "replace")
    if not isinstance(source, str):
        return
    line = _shield.too_deep(source)
    if line is not None:
        lines = source.splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else None
        raise SyntaxError("too many nested parentheses or operators",
                          (filename, line, 1, text))


class _NamespaceLoader:
    """A namespace package's loader (PEP 420): nothing to run."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        pass


class _VfsLoader:
    """Loads a module's source from the job's VFS."""

    def __init__(self, path):
        self.path = path

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = self.path
        source = _shield.read_file(self.path)
        code = _shield.compile(source, self.path, "exec", dont_inherit=True)
        _shield.exec(code, module.__dict__)

    def get_source(self, name):
        return _shield.read_file(self.path).decode("utf-8")


class _VfsFinder:
    """Finds bundled modules and packages on sys.path (VFS folders)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        last = name.rpartition(".")[2]
        bases = sys.path if path is None else path
        portions = []
        for base in bases:
            if not isinstance(base, str):
                continue
            prefix = base.rstrip("/") + "/" if base else ""
            package = prefix + last + "/__init__.py"
            if _shield.stat(package) == "file":
                spec = _ModuleSpec(name, _VfsLoader(package), origin=package,
                                   is_package=True)
                spec.submodule_search_locations = [prefix + last]
                return spec
            module = prefix + last + ".py"
            if _shield.stat(module) == "file":
                return _ModuleSpec(name, _VfsLoader(module), origin=module)
            if _shield.stat(prefix + last) == "dir":
                portions.append(prefix + last)
        if portions:
            # A namespace package (PEP 420): folders without __init__.py,
            # taken only when no module or regular package is found.
            spec = _ModuleSpec(name, _NamespaceLoader(), is_package=True)
            spec.submodule_search_locations = portions
            return spec
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


def _excepthook(exc_type, exc, tb):
    _print_exception(exc)


def _print_exception(exc):
    """CPython's traceback form, on sys.stderr."""
    try:
        import traceback
        text = "".join(traceback.format_exception(exc))
    except BaseException:
        lines = ["Traceback (most recent call last):\n"]
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            lines.append('  File "%s", line %s, in %s\n'
                         % (code.co_filename, tb.tb_lineno, code.co_name))
            tb = tb.tb_next
        lines.append("%s: %s\n" % (type(exc).__name__, exc))
        text = "".join(lines)
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except BaseException:
        _shield.write_stream(2, text.encode("utf-8", "backslashreplace"))
    return text


def _unraisablehook(unraisable):
    try:
        sys.stderr.write("Exception ignored in: %r\n" % (unraisable.object,))
    except BaseException:
        pass


def _report(exc):
    """Reports an uncaught exception: through sys.excepthook when the
    script set one that works, else CPython's form. Returns the text."""
    hook = sys.excepthook
    if hook is not _excepthook:
        try:
            hook(type(exc), exc, exc.__traceback__)
            return "%s: %s" % (type(exc).__name__, exc)
        except BaseException:
            pass
    return _print_exception(exc)


def _exit_status(exc):
    """The exit status a SystemExit asks for, printing its message as
    CPython does."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        sys.stderr.write(str(code) + "\n")
    except BaseException:
        pass
    return 1


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _setup(argv, script_dir, max_recursion, tick):
    global _ModuleSpec
    import _frozen_importlib
    _ModuleSpec = _frozen_importlib.ModuleSpec
    # No host files: the real-file primitives of _io refuse.
    _io.FileIO = _NoFileIO
    _io.open = open
    _io.open_code = _refuse
    import builtins
    builtins.open = open
    # Checked wrappers, in the native module: the originals stay out of
    # the script's reach.
    _shield.keep_builtins(builtins.compile, builtins.eval, builtins.exec)
    builtins.compile = _shield.compile
    builtins.eval = _shield.eval
    builtins.exec = _shield.exec
    # Codecs beyond UTF-8 and ASCII come from the frozen encodings package,
    # which registers its search function when imported.
    import encodings  # noqa: F401
    sys.stdin = sys.__stdin__ = _stream(0, "<stdin>", "r")
    sys.stdout = sys.__stdout__ = _stream(1, "<stdout>", "w")
    sys.stderr = sys.__stderr__ = _stream(2, "<stderr>", "w")
    sys.argv = list(argv)
    sys.orig_argv = list(argv)
    sys.path = [script_dir]
    sys.path_hooks = []
    sys.path_importer_cache = {}
    sys.meta_path = [m for m in sys.meta_path if m.__name__ in
                     ("BuiltinImporter", "FrozenImporter")] + [_VfsFinder]
    # Nothing here may depend on the host: RustPython computes these from
    # probes of the host's file system (answered ENOSYS in the enclave),
    # and sys.version's build date in the host's time zone.
    sys.executable = sys._base_executable = ""
    sys.prefix = sys.base_prefix = sys.exec_prefix = sys.base_exec_prefix = "/"
    sys._stdlib_dir = None
    head, _, rest = sys.version.partition(" (")
    sys.version = head + " (default, Jan  1 1970, 00:00:00)" + rest.partition(")")[2]
    sys.excepthook = sys.__excepthook__ = _excepthook
    sys.unraisablehook = sys.__unraisablehook__ = _unraisablehook
    sys.dont_write_bytecode = True
    # Native, capped where the engine's stack holds (see src/host.rs).
    _shield.setrecursionlimit(max_recursion)
    sys.setrecursionlimit = _shield.setrecursionlimit
    # The limit hook (when there is a limit to check): every backward jump
    # and every function start calls back into the engine, and so does
    # every handler about to catch an exception: once a limit is reached,
    # the hook raises there too, so no `except` or `finally` runs again (a
    # loop whose only backward jump follows a handler would not meet the
    # JUMP event). The script cannot reach sys.monitoring afterwards.
    monitoring = sys.monitoring
    if tick is not None:
        events = monitoring.events
        monitoring.use_tool_id(5, "shield")
        hooked = events.JUMP | events.PY_START | events.EXCEPTION_HANDLED
        for event in (events.JUMP, events.PY_START, events.EXCEPTION_HANDLED,
                      events.LINE):
            monitoring.register_callback(5, event, tick)
        monitoring.set_events(5, hooked)
        # LINE events only where a loop's back edge fires no JUMP (see
        # _shield.watch_loops).
        _shield.keep_monitor(monitoring.set_local_events)
    del sys.monitoring
