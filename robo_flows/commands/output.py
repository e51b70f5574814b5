"""The one refuse-to-overwrite rule of the command line: :func:`claim_output`.

A command validates every input first (config, data file, checkpoint, env), then claims its output path,
then writes.  So a mistyped argument never costs the previous result, and a retry into the same path works.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

OutputKind = Literal["file", "dir"]


def claim_output(path: str | Path, *, force: bool, kind: OutputKind | None = None) -> None:
    """Make ``path`` free for a command's output; call it only after all inputs were validated.

    An absent path or an empty folder is free as it is.  An existing file or non-empty folder is refused
    (``FileExistsError`` naming ``--force``) unless ``force``, which removes it.  ``kind`` says what the
    command will write there: ``"file"`` refuses an existing folder and ``"dir"`` an existing file, with or
    without ``force`` (``IsADirectoryError`` / ``NotADirectoryError``), so that ``--force`` never removes a
    folder given by mistake for a file.  ``force`` never removes the file system root, the home folder, the
    working directory or a folder above it (``PermissionError``).  The parent folder of a file output must
    exist (``FileNotFoundError``); a folder output's parents are made by the command when it writes.
    """
    path = Path(path)
    if kind == "file" and path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; this command writes a file there (give a file name)")
    if kind == "dir" and path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} is a file; this command writes a folder there")
    if kind == "file" and not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {path.parent} of the output file {path.name} does not exist")
    if not _taken(path):
        return
    if not force:
        what = "is not empty" if path.is_dir() else "exists"
        raise FileExistsError(f"{path} {what}; pass --force to replace it, or choose another output path")
    _refuse_protected(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _taken(path: Path) -> bool:
    if path.is_symlink():
        return True
    if path.is_dir():
        return any(path.iterdir())
    return path.exists()


def _refuse_protected(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        return
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    protected = {Path(resolved.anchor), Path.home().resolve()}
    if resolved in protected or resolved == cwd or resolved in cwd.parents:
        raise PermissionError(f"--force would remove {resolved} (the working directory, home or a parent)")
    if not os.access(resolved.parent, os.W_OK):
        raise PermissionError(f"cannot remove {path}: its folder {resolved.parent} is not writable")
