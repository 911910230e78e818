"""posix for Shield: only what importlib's path machinery names, over the
job's VFS (see os.py). No host access."""

from os import environ, fspath, getcwd, listdir, stat, stat_result  # noqa: F401
