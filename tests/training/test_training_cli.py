"""``robo-flows train``: YAML + overrides -> a trained policy checkpoint; resume (also after SIGKILL).

Run-folder safety and bad input: ``tests/commands/test_train_command.py``."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml
from training_toy import write_toy_demos

from robo_flows.commands import main
from robo_flows.training import load_checkpoint


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    demos = write_toy_demos(folder / "toy.hdf5")
    config = {
        "data": {"path": str(demos), "action_horizon": 4, "obs_horizon": 2},
        "model": {
            "kind": "flow",
            "flow_layers": 2,
            "hidden_features": [32, 32],
            "encoder_hidden": [32],
            "context_features": 16,
            "obs_monitor": False,
        },
        "train": {"steps": 40, "batch_size": 32, "valid_every": 20, "checkpoint_every": 20, "device": "cpu"},
    }
    path = folder / "flow.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_writes_a_loadable_policy_checkpoint(config_file, tmp_path):
    out = tmp_path / "run"
    assert (
        main(["train", "--config", str(config_file), "train.steps=30", "model.kind=mse", "--out", str(out)])
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 30 and summary["best_valid"] is not None
    ckpt = load_checkpoint(out / "checkpoints" / "best.pt", kind="policy")
    assert ckpt["config"]["model"]["kind"] == "mse" and ckpt["config"]["train"]["steps"] == 30
    meta = ckpt["meta"]
    assert (meta["obs_dim"], meta["act_dim"], meta["obs_keys"]) == (4, 2, ["pos", "goal"])
    assert meta["model_type"] == "mse"
    # statistics and the action box are stored once, in the weights (the box from the file's env_args)
    assert "normalizer" not in ckpt and "action_low" not in meta
    assert ckpt["model"]["action_low"].tolist() == [-2.0, -2.0]
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["train"]["steps"] == 30


def test_flow_policy_trains_and_resumes_from_its_checkpoint(config_file, tmp_path):
    out = tmp_path / "flow"
    assert main(["train", "--config", str(config_file), "train.steps=20", "--out", str(out)]) == 0
    first = load_checkpoint(out / "checkpoints" / "last.pt")
    assert first["step"] == 20 and math.isfinite(first["best_valid"])
    assert main(["train", "--resume", "--out", str(out)]) == 0  # config from the checkpoint; already done
    assert load_checkpoint(out / "checkpoints" / "last.pt")["step"] == 20


@pytest.mark.slow
def test_flow_run_killed_by_sigkill_resumes_to_the_uninterrupted_weights(config_file, tmp_path):
    """A real kill (SIGKILL, no cleanup) of `robo-flows train`, then `--resume`: the same final weights."""
    cli = [sys.executable, "-m", "robo_flows.commands", "train", "--config", str(config_file)]
    settings = ["train.steps=400", "train.checkpoint_every=25", "train.valid_every=50"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    reference = tmp_path / "reference"
    subprocess.run([*cli, *settings, "--out", str(reference)], env=env, check=True, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*cli, *settings, "--out", str(killed)], env=env, stderr=subprocess.DEVNULL)
    last = killed / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 120
    while not (last.is_file() and load_checkpoint(last)["step"] >= 50) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stopped_at = load_checkpoint(last)["step"]
    assert 50 <= stopped_at < 400, "the run must be killed mid-way"
    done = subprocess.run([*cli, *settings, "--resume", "--out", str(killed)], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr[-2000:]
    want = load_checkpoint(reference / "checkpoints" / "last.pt")
    got = load_checkpoint(last)
    assert got["step"] == 400
    for part in ("model", "ema"):
        for name, value in want[part].items():
            assert torch.equal(got[part][name], value), f"{part}.{name} differs (killed at step {stopped_at})"
