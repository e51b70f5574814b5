"""`robo-flows train --resume` with every shipped policy preset, as shipped but for tiny steps and data.

Each preset is trained three ways on a tiny real demo file (the real collector, the real env): uninterrupted;
killed in the middle (after its step-4 checkpoint) and resumed; and, once finished, resumed again. The
resumed runs must end with the uninterrupted run's weights, EMA weights and logged losses, bit for bit.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from task_data import RGB_SUFFIX, TASK_ENVS

from robo_flows.commands import main
from robo_flows.config import ConfigError, GraspExperimentConfig, PolicyExperimentConfig, load_config
from robo_flows.config.presets import preset_dir
from robo_flows.policy.models.base import PolicyModel
from robo_flows.training import load_checkpoint

PRESETS = sorted(preset_dir().glob("*.yaml"))  # the shipped presets (package data)
TINY = [
    "train.steps=6",
    "train.batch_size=8",
    "train.warmup_steps=2",
    "train.valid_every=2",
    "train.checkpoint_every=2",
    "train.log_every=1",
    "model.monitor_steps=3",
]
KILL_AT_CALL = 5  # the 5th training loss: after the step-4 checkpoint, before step 5 ends


def _is_policy_preset(path: Path) -> bool:
    try:
        load_config(path, PolicyExperimentConfig, ["data.path=x.hdf5"])
    except ConfigError:
        return False
    return True


POLICY_PRESETS = [p for p in PRESETS if _is_policy_preset(p)]


class SimulatedKill(BaseException):
    """Ends a run inside a training step, as a kill would (not an Exception: nothing catches it)."""


def _task(preset: Path) -> str:
    """The task whose demonstrations the preset is written for (generic presets train on Detour's; image
    presets on the task's camera demos)."""
    task = preset.stem.split("_")[0]
    task = task if task in TASK_ENVS else "detour"
    return task + RGB_SUFFIX if preset.stem.endswith(RGB_SUFFIX) else task


def _rows(out: Path) -> list[list[str]]:
    with (out / "log.csv").open(newline="") as f:
        return [[r["step"], r["train_loss"], r["valid_loss"], r["lr"]] for r in csv.DictReader(f)]


def _assert_same_weights(got: dict, want: dict, what: str) -> None:
    assert got["step"] == want["step"]
    for part in ("model", "ema"):
        assert (got[part] is None) == (want[part] is None)
        for name, value in (want[part] or {}).items():
            assert torch.equal(got[part][name], value), (
                f"{what}: {part}.{name} differs from the uninterrupted run"
            )


def test_every_preset_is_a_policy_or_a_grasp_preset():
    assert len(POLICY_PRESETS) >= 12  # four tasks x (flow, mse, gmm) at least
    for path in set(PRESETS) - set(POLICY_PRESETS):
        load_config(path, GraspExperimentConfig, ["data.path=x.hdf5"])  # raises for a broken preset


# Reference-size networks (Diffusion Policy's own U-Net, 66M parameters) resume the same way but take
# minutes on a CPU: they run with `-m slow`.
RESUME_CASES = [
    pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if "reference" in p.stem else [])
    for p in POLICY_PRESETS
]


@pytest.mark.parametrize("preset", RESUME_CASES)
def test_preset_resumes_after_a_kill_and_when_finished(preset, task_demos, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    args = ["train", "--config", str(preset), f"data.path={task_demos(_task(preset))}", *TINY]
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert main([*args, "--out", str(reference)]) == 0
    want = load_checkpoint(reference / "checkpoints" / "last.pt")

    loss, calls = PolicyModel.loss, []

    def dying_loss(self, batch):
        if self.training:
            calls.append(1)
            if len(calls) == KILL_AT_CALL:
                raise SimulatedKill
        return loss(self, batch)

    with monkeypatch.context() as patch:
        patch.setattr(PolicyModel, "loss", dying_loss)
        with pytest.raises(SimulatedKill):
            main([*args, "--out", str(killed)])
    assert load_checkpoint(killed / "checkpoints" / "last.pt")["step"] == 4

    assert main(["train", "--resume", "--out", str(killed)]) == 0  # the config comes from the checkpoint
    _assert_same_weights(load_checkpoint(killed / "checkpoints" / "last.pt"), want, "resumed after a kill")
    assert _rows(killed) == _rows(reference)

    assert main(["train", "--resume", "--out", str(reference)]) == 0  # a finished run: nothing left to do
    _assert_same_weights(load_checkpoint(reference / "checkpoints" / "last.pt"), want, "finished run resumed")
