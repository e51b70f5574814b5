"""Atomic file writes: readers (and crashes) see either the old file or the complete new one.

The new content goes to a hidden temporary file beside the target, ``.NAME.<pid>@<host>.<token>.tmp``, which
is fsynced and renamed over ``NAME`` (``os.replace``, atomic on POSIX within one file system).

* Mode: the temporary file is created with ``os.open(..., 0o666)``, so the kernel applies the user's umask
  and the target gets ``0o666 & ~umask`` (``0o644`` under the usual ``0o022``), like any file the user
  creates -- not the ``0o600`` of ``tempfile.mkstemp``.
* Crashes: a process killed mid-write (SIGKILL, power loss) cannot remove its temporary file.  The name
  records the writer's process id and host, so the next write of the same target removes the temporary
  files of writers on this host whose process no longer exists.  Temporary files of live processes and of
  other hosts (a shared file system) are left alone.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_TEMP_SUFFIX = re.compile(r"(?P<pid>\d+)@(?P<host>.+)\.(?P<token>[0-9a-f]+)\.tmp")


def _process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def remove_stale_temp_files(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of ``path`` left by dead writers on this host; returns what was removed."""
    path = Path(path)
    prefix, host = f".{path.name}.", socket.gethostname()
    removed = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        if not entry.name.startswith(prefix):
            continue
        match = _TEMP_SUFFIX.fullmatch(entry.name[len(prefix) :])
        if match is None or match["host"] != host or _process_exists(int(match["pid"])):
            continue
        entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _create_temp_file(path: Path) -> Path:
    """A new, empty ``.NAME.<pid>@<host>.<token>.tmp`` beside ``path``, mode ``0o666 & ~umask``."""
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}@{socket.gethostname()}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # a token drawn twice: draw again
            continue
        os.close(fd)
        return tmp


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed over ``path``.

    The caller writes the whole file to the yielded path (with any library: torch, h5py, plain text).
    On an exception the temporary file is removed and ``path`` is left untouched.  Stale temporary files
    of ``path`` (see the module doc) are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)
    tmp = _create_temp_file(path)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
