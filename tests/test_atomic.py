"""atomic_write: the target holds the old or the complete new content, never a partial file."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys

import pytest

from robo_flows.atomic import atomic_write


def test_a_completed_write_replaces_the_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "f.txt"
    with atomic_write(path) as tmp:
        assert tmp.parent == path.parent and tmp != path
        tmp.write_text("new")
    assert path.read_text() == "new"
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="interrupted"), atomic_write(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_the_written_file_gets_the_umask_mode_not_the_temp_files_0600(tmp_path):
    import h5py
    import torch

    old = os.umask(0o022)
    try:
        for name, write in (
            ("plain.txt", lambda p: p.write_text("x")),
            ("demo.hdf5", lambda p: h5py.File(p, "w").close()),
            ("ckpt.pt", lambda p: torch.save({"a": torch.zeros(1)}, p)),
        ):
            with atomic_write(tmp_path / name) as tmp:
                write(tmp)
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
        os.umask(0o077)
        with atomic_write(tmp_path / "private.txt") as tmp:
            tmp.write_text("x")
        assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(child.stdout)


def test_a_stale_temp_file_of_a_dead_writer_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "demos.hdf5"
    host = socket.gethostname()
    stale = tmp_path / f".demos.hdf5.{_dead_pid()}@{host}.0badc0de.tmp"
    alive = tmp_path / f".demos.hdf5.{os.getpid()}@{host}.0123abcd.tmp"  # a writer still running
    elsewhere = tmp_path / f".demos.hdf5.{_dead_pid()}@not-{host}.0123abcd.tmp"  # another host's
    other_target = tmp_path / f".other.hdf5.{_dead_pid()}@{host}.0badc0de.tmp"
    for p in (stale, alive, elsewhere, other_target):
        p.write_bytes(b"half")
    with atomic_write(path) as tmp:
        tmp.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name, alive.name, elsewhere.name, other_target.name]
    )


def test_a_sigkilled_writer_leaves_a_temp_file_that_the_next_write_removes(tmp_path):
    path = tmp_path / "demos.hdf5"
    code = (
        "import sys, time\n"
        "from robo_flows.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half'); print('writing', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert [p.name.endswith(".tmp") for p in tmp_path.iterdir()] == [True]  # left behind by the kill
    with atomic_write(path) as tmp:
        tmp.write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
