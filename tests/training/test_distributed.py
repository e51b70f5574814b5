"""torchrun with 2 CPU processes (gloo): it finishes and trains the same model as 1 process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from training_toy import write_toy_demos

from robo_flows.training import load_checkpoint

WORKER = Path(__file__).with_name("train_worker.py")


def _run(args: list[str], cwd: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
