"""shutil for Shield: the terminal size (never a terminal: CPython's
fallback, 80x24) and copying between open file objects. No host files."""

import os

_COLUMNS, _LINES = 80, 24


class terminal_size(tuple):
    """(columns, lines)."""

    columns = property(lambda self: self[0])
    lines = property(lambda self: self[1])


def get_terminal_size(fallback=(_COLUMNS, _LINES)):
    columns = int(os.environ.get("COLUMNS", 0) or 0) or fallback[0]
    lines = int(os.environ.get("LINES", 0) or 0) or fallback[1]
    return terminal_size((columns, lines))


def copyfileobj(fsrc, fdst, length=0):
    length = length or 64 * 1024
    while True:
        buf = fsrc.read(length)
        if not buf:
            break
        fdst.write(buf)


def copyfile(src, dst, *, follow_symlinks=True):
    with open(src, "rb") as fsrc, open(dst, "wb") as fdst:
        copyfileobj(fsrc, fdst)
    return dst


copy = copy2 = copyfile


def which(cmd, mode=os.F_OK | os.X_OK, path=None):
    return None
