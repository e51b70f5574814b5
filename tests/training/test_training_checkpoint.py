"""Checkpoint files: atomic replacement, safe loading, and a clear error for every kind of bad file."""

from __future__ import annotations

import pytest
import torch

from robo_flows.training import FORMAT_VERSION, CheckpointError, load_checkpoint, save_checkpoint


def _state(**changes):
    state = {"format_version": FORMAT_VERSION, "kind": "policy", "model": {"w": torch.arange(3.0)}, "step": 5}
    state.update(changes)
    return state


def test_save_then_load_round_trips(tmp_path):
    path = save_checkpoint(_state(), tmp_path / "ck" / "last.pt")
    loaded = load_checkpoint(path)
    assert loaded["step"] == 5 and torch.equal(loaded["model"]["w"], torch.arange(3.0))


def test_failed_save_leaves_the_old_file_and_no_temp_files(tmp_path):
    path = save_checkpoint(_state(step=1), tmp_path / "last.pt")
    with pytest.raises(Exception):  # noqa: B017 - torch.save's error type for an unpicklable object varies
        save_checkpoint(_state(step=2, bad=lambda: None), path)
    assert load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.pt"):
        load_checkpoint(tmp_path / "nothere.pt")


def test_corrupt_and_truncated_files_are_checkpoint_errors(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="not a robo_flows checkpoint"):
        load_checkpoint(garbage)
    good = save_checkpoint(_state(), tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(truncated)


@pytest.mark.parametrize("v", [2, FORMAT_VERSION + 1])
def test_other_format_version_kind_or_content_are_refused(tmp_path, v):
    # format 2 flows used the location-first affine map y = (x - m) exp(s): their weights would load into
    # today's y = x exp(s) + t and describe another density, silently; they must be refused (retrain)
    with pytest.raises(
        CheckpointError, match=f"format_version {v}; this robo_flows reads format_version {FORMAT_VERSION}"
    ):
        load_checkpoint(save_checkpoint(_state(format_version=v), tmp_path / "other.pt"))
    grasp = save_checkpoint(_state(kind="grasp"), tmp_path / "grasp.pt")
    with pytest.raises(CheckpointError, match="holds a 'grasp' model, expected a 'policy'"):
        load_checkpoint(grasp)
    assert load_checkpoint(grasp, kind="grasp")["kind"] == "grasp"
    assert load_checkpoint(grasp, kind=None)["kind"] == "grasp"
    with pytest.raises(CheckpointError, match="no format_version"):
        load_checkpoint(save_checkpoint({"weights": torch.zeros(2)}, tmp_path / "foreign.pt"))
    with pytest.raises(ValueError, match="kind must be one of"):
        load_checkpoint(grasp, kind="robot")


class _Payload:
    """An arbitrary class: unpickling it would run code, so weights_only loading must refuse it."""


def test_arbitrary_objects_are_not_unpickled(tmp_path):
    path = tmp_path / "unsafe.pt"
    torch.save(_state(extra=_Payload()), path)
    with pytest.raises(CheckpointError, match="not a robo_flows checkpoint.*unsafe content refused"):
        load_checkpoint(path)
