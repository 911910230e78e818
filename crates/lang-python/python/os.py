"""os for Shield scripts: the path functions, and listdir/stat/exists over
the job's VFS ('/' is the bundle's root, and the working directory). No
processes, no host files; the environment is the job's (a bundle's packed
variables)."""

import sys
import _shield
import stat as _stat
from _collections_abc import MutableMapping as _MutableMapping

name = "posix"
linesep = "\n"
sep = "/"
altsep = None
curdir = "."
pardir = ".."
extsep = "."
pathsep = ":"
defpath = "/bin:/usr/bin"
devnull = "/dev/null"
SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
F_OK, R_OK, W_OK, X_OK = 0, 4, 2, 1
error = OSError
supports_bytes_environ = False
environ = dict(_shield.environ())


def getenv(key, default=None):
    return environ.get(key, default)


def fspath(path):
    if isinstance(path, (str, bytes)):
        return path
    method = getattr(type(path), "__fspath__", None)
    if method is None:
        raise TypeError("expected str, bytes or os.PathLike object, not "
                        + type(path).__name__)
    result = method(path)
    if not isinstance(result, (str, bytes)):
        raise TypeError("expected %s.__fspath__() to return str or bytes, not %s"
                        % (type(path).__name__, type(result).__name__))
    return result


class PathLike:
    """Abstract base class for objects with __fspath__."""

    def __fspath__(self):
        raise NotImplementedError

    @classmethod
    def __subclasshook__(cls, subclass):
        if cls is PathLike:
            return hasattr(subclass, "__fspath__")
        return NotImplemented


def fsencode(filename):
    filename = fspath(filename)
    return filename.encode("utf-8", "surrogateescape") if isinstance(filename, str) else filename


def fsdecode(filename):
    filename = fspath(filename)
    return filename.decode("utf-8", "surrogateescape") if isinstance(filename, bytes) else filename


def getcwd():
    return "/"


def getcwdb():
    return b"/"


def _str(path):
    path = fspath(path)
    if isinstance(path, bytes):
        return path.decode("utf-8", "surrogateescape"), True
    return path, False


class stat_result(tuple):
    """What os.stat returns: mode, size and zeros for the rest."""

    n_sequence_fields = 10

    def __new__(cls, seq):
        return tuple.__new__(cls, seq)

    st_mode = property(lambda self: self[0])
    st_ino = property(lambda self: self[1])
    st_dev = property(lambda self: self[2])
    st_nlink = property(lambda self: self[3])
    st_uid = property(lambda self: self[4])
    st_gid = property(lambda self: self[5])
    st_size = property(lambda self: self[6])
    st_atime = property(lambda self: self[7])
    st_mtime = property(lambda self: self[8])
    st_ctime = property(lambda self: self[9])
    st_atime_ns = property(lambda self: self[7] * 1000000000)
    st_mtime_ns = property(lambda self: self[8] * 1000000000)
    st_ctime_ns = property(lambda self: self[9] * 1000000000)

    def __repr__(self):
        names = ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid",
                 "st_gid", "st_size", "st_atime", "st_mtime", "st_ctime")
        return "os.stat_result(%s)" % ", ".join(
            "%s=%r" % pair for pair in zip(names, self))


def stat(path, *, dir_fd=None, follow_symlinks=True):
    text, _ = _str(path)
    kind, size = _shield.metadata(text)
    if kind == "dir":
        mode = _stat.S_IFDIR | 0o555
    else:
        mode = _stat.S_IFREG | 0o444
    return stat_result((mode, 0, 0, 1, 0, 0, size, 0, 0, 0))


lstat = stat


def listdir(path="."):
    text, as_bytes = _str(path)
    names = _shield.listdir(text)
    if as_bytes:
        return [n.encode("utf-8", "surrogateescape") for n in names]
    return names


class DirEntry:
    """One entry of scandir()."""

    def __init__(self, directory, name, is_dir):
        self.name = name
        self.path = directory.rstrip("/") + "/" + name if directory not in ("", ".") else name
        self._is_dir = is_dir

    def is_dir(self, *, follow_symlinks=True):
        return self._is_dir

    def is_file(self, *, follow_symlinks=True):
        return not self._is_dir

    def is_symlink(self):
        return False

    def stat(self, *, follow_symlinks=True):
        return stat(self.path)

    def __fspath__(self):
        return self.path

    def __repr__(self):
        return "<DirEntry %r>" % self.name


class _ScandirIterator:
    def __init__(self, entries):
        self._it = iter(entries)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass

    def close(self):
        pass


def scandir(path="."):
    text, _ = _str(path)
    entries = [DirEntry(text, n, _shield.stat(_join(text, n)) == "dir")
               for n in _shield.listdir(text)]
    return _ScandirIterator(entries)


def _join(directory, name):
    if directory in ("", "."):
        return name
    return directory.rstrip("/") + "/" + name


def walk(top, topdown=True, onerror=None, followlinks=False):
    top = fspath(top)
    try:
        names = listdir(top)
    except OSError as err:
        if onerror is not None:
            onerror(err)
        return
    dirs, files = [], []
    for n in names:
        (dirs if _shield.stat(_join(top, n)) == "dir" else files).append(n)
    if topdown:
        yield top, dirs, files
        for d in dirs:
            yield from walk(path.join(top, d), topdown, onerror, followlinks)
    else:
        for d in dirs:
            yield from walk(path.join(top, d), topdown, onerror, followlinks)
        yield top, dirs, files


def access(path, mode, *, dir_fd=None, effective_ids=False, follow_symlinks=True):
    text, _ = _str(path)
    kind = _shield.stat(text)
    if kind is None:
        return False
    return not (mode & X_OK)


def mkdir(path, mode=0o777, *, dir_fd=None):
    text, _ = _str(path)
    if _shield.stat(text) is not None:
        raise FileExistsError(17, "File exists", text)
    # Folders exist as the prefixes of files: a new one is implicit.


def makedirs(name, mode=0o777, exist_ok=False):
    text, _ = _str(name)
    if _shield.stat(text) is not None and not exist_ok:
        raise FileExistsError(17, "File exists", text)


def _refused(name):
    def refused(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted: os.%s in Shield" % name)
    refused.__name__ = name
    return refused


for _name in ("remove", "unlink", "rmdir", "rename", "replace", "removedirs",
              "chdir", "chmod", "chown", "link", "symlink", "system", "kill",
              "truncate", "utime", "putenv", "unsetenv"):
    globals()[_name] = _refused(_name)
del _name


def urandom(size):
    return _shield.urandom(size)


def cpu_count():
    return 1


def get_terminal_size(fd=1):
    raise OSError(25, "Inappropriate ioctl for device")


def strerror(code):
    return _shield.strerror(code)


def isatty(fd):
    return False


def getpid():
    return 1


def fsync(fd):
    pass


import posixpath as path  # noqa: E402

sys.modules["os.path"] = path
