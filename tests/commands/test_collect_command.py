"""``robo-flows collect``: its output is checked before a single episode runs (a folder given for the file,
an existing file without ``--force``), and bad arguments are one line on stderr with exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from command_toys import error_line

from robo_flows.commands import main

pytest.importorskip("pybullet")

ENV = "RoboFlows/PandaReach-v0"
# Far more episodes than the timeout allows: a refusal that came after collecting would time out.
HUGE = "100000"


def _collect(*args: str) -> tuple[int, str]:
    """Exit status and stderr of ``robo-flows collect`` in a fresh process, without PyBullet's banner line."""
    command = [sys.executable, "-m", "robo_flows.commands", "collect", "--env", ENV, "--no-progress", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    ours = [line for line in done.stderr.splitlines() if not line.startswith("pybullet build time")]
    return done.returncode, "\n".join(ours)


def test_a_folder_as_out_is_refused_before_collecting_even_with_force(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    status, stderr = _collect("--episodes", HUGE, "--out", str(folder), "--force")
    assert status == 2
    assert "is a folder" in error_line(stderr, "collect")
    assert (folder / "keep.txt").read_text() == "mine"


def test_an_existing_file_is_refused_before_collecting_without_force(tmp_path):
    out = tmp_path / "demos.hdf5"
    out.write_bytes(b"old")
    status, stderr = _collect("--episodes", HUGE, "--out", str(out))
    assert status == 2
    assert "--force" in error_line(stderr, "collect")
    assert out.read_bytes() == b"old"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--env", "RoboFlows/Nope-v0", "--episodes", "1"], "unknown env id 'RoboFlows/Nope-v0'"),
        (["--env", ENV, "--episodes", "0"], "episodes must be >= 1"),
        (["--env", ENV, "--episodes", "1", "--env-kwargs", '{"bogus": 1}'], "bogus"),
        (["--env", ENV, "--episodes", "1", "--action-noise", "nan"], "action_noise"),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(tmp_path, capsys, args, expected):
    out = tmp_path / "demos.hdf5"
    assert main(["collect", *args, "--no-progress", "--out", str(out)]) == 2
    assert expected in error_line(capsys.readouterr().err, "collect")
    assert not out.exists()
