"""Progress output that stays small in log files, and the thread count a run uses and reports."""

from __future__ import annotations

import io

import pytest
import torch
from training_toy import EXTRA, toy_config, toy_datasets, toy_model, write_toy_demos

from robo_flows.training import Trainer
from robo_flows.training.progress import PLAIN_LINES, Progress
from robo_flows.training.threads import resolve_threads, set_threads, usable_cores


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_file_is_a_few_plain_lines():
    log = io.StringIO()
    bar = Progress(2000, "train", stream=log)
    for _ in range(2000):
        bar.update(1)
        bar.set_postfix(loss="1.234")
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == PLAIN_LINES
    assert lines[0].startswith("train: 200/2000 (10%) loss=1.234") and lines[-1].startswith(
        "train: 2000/2000"
    )


def test_progress_on_a_terminal_is_a_refreshing_bar():
    screen = _Terminal()
    bar = Progress(50, "train", stream=screen)
    for _ in range(50):
        bar.update(1)
    bar.close()
    assert "\r" in screen.getvalue()


def test_a_training_run_logged_to_a_file_writes_little(tmp_path, capsys):
    demos = write_toy_demos(tmp_path / "toy.hdf5")
    train_set, valid_set = toy_datasets(demos)
    cfg = toy_config(steps=300, valid_every=100, checkpoint_every=0)
    Trainer(toy_model(train_set), train_set, valid_set, cfg, tmp_path / "run", EXTRA).fit()
    err = capsys.readouterr().err  # captured: not a terminal
    lines = err.splitlines()
    assert "\r" not in err and len(lines) == PLAIN_LINES and len(err) < 2000
    assert lines[-1].startswith("train: 300/300 (100%) loss=")


def test_threads_are_set_and_reported(tmp_path):
    demos = write_toy_demos(tmp_path / "toy.hdf5")
    train_set, valid_set = toy_datasets(demos)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        cfg = toy_config(steps=2, valid_every=0, threads=1)
        summary = Trainer(toy_model(train_set), train_set, valid_set, cfg, tmp_path / "run", EXTRA).fit()
        assert summary["threads"] == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_auto_threads_share_the_usable_cores_between_processes():
    assert resolve_threads(3) == 3
    assert resolve_threads("auto") == usable_cores()
    assert resolve_threads("auto", processes=usable_cores() + 5) == 1
    for bad in (0, -1, "many", 1.5, True):
        with pytest.raises(ValueError, match="threads must be an int >= 1 or 'auto'"):
            resolve_threads(bad)
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_set_threads_sets_and_reports():
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 == torch.get_num_threads()
        assert set_threads(None) == 1
        with pytest.raises(ValueError, match=">= 1"):
            set_threads(0)
    finally:
        torch.set_num_threads(before)
