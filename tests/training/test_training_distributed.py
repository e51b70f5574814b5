"""torchrun with 2 CPU processes (gloo): it finishes and trains the same model as 1 process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from training_toy import write_toy_demos

from robo_flows.training import load_checkpoint

WORKER = Path(__file__).with_name("train_worker.py")


def _run(args: list[str], cwd: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("{"))
    return json.loads("\n".join(lines[start:]))


def test_two_process_torchrun_matches_one_process(tmp_path):
    demos = write_toy_demos(tmp_path / "toy.hdf5")
    one = _run([sys.executable, str(WORKER), str(demos), str(tmp_path / "one")], WORKER.parent)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    two = _run([*torchrun, str(WORKER), str(demos), str(tmp_path / "two")], WORKER.parent)
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert two["steps"] == 60
    # same global batches and averaged gradients: the same model up to float summation order
    assert abs(two["best_valid"] - one["best_valid"]) <= 1e-3 * one["best_valid"]
    ema_one = load_checkpoint(one["checkpoints"]["last"])["ema"]
    ema_two = load_checkpoint(two["checkpoints"]["last"])["ema"]
    for name, value in ema_one.items():
        assert torch.allclose(ema_two[name], value, atol=1e-5), name
    assert len(list((tmp_path / "two" / "tb").iterdir())) == 1  # only rank 0 logs
    assert len(load_checkpoint(two["checkpoints"]["last"])["rng"]["ranks"]) == 1


@pytest.mark.slow
def test_flow_policy_trained_by_torchrun_reaches_single_process_quality(tmp_path):
    demos = write_toy_demos(tmp_path / "toy.hdf5", episodes=48)
    config = {
        "data": {"path": str(demos), "action_horizon": 4, "obs_horizon": 2},
        "model": {"kind": "flow", "hidden_features": [64, 64], "encoder_hidden": [64], "obs_monitor": False},
        "train": {"steps": 400, "batch_size": 64, "valid_every": 100, "device": "cpu"},
    }
    (tmp_path / "flow.yaml").write_text(yaml.safe_dump(config))
    cli = ["-m", "robo_flows.commands", "train", "--config", str(tmp_path / "flow.yaml")]
    one = _run([sys.executable, *cli, "--out", str(tmp_path / "one")], tmp_path)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    two = _run([*torchrun, *cli, "--out", str(tmp_path / "two")], tmp_path)
    assert two["world_size"] == 2
    # negative log-likelihoods in nats per chunk: within 0.5 nat of each other
    assert abs(two["best_valid"] - one["best_valid"]) < 0.5, (one["best_valid"], two["best_valid"])
