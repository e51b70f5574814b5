"""The whole way through the command line: collect demos, train a flow policy, evaluate it (Detour)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = "RoboFlows/PandaDetour-v0"


def robo_flows(*args: str) -> subprocess.CompletedProcess:
    """Run ``robo-flows ARGS`` in a fresh interpreter; fail the test with its output if it fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "robo_flows.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"robo-flows {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_collect_train_evaluate_through_the_cli(tmp_path):
    pytest.importorskip("pybullet")
    demos = tmp_path / "demos.hdf5"
    robo_flows(
        "collect", "--env", ENV, "--episodes", "20", "--seed", "0", "--out", str(demos), "--no-progress"
    )

    train_dir = tmp_path / "train"
    small = [
        "model.hidden_features=32,32",
        "model.encoder_hidden=32",
        "model.monitor_steps=20",
        "train.steps=150",
        "train.batch_size=64",
        "train.valid_every=50",
        "train.checkpoint_every=0",
    ]
    robo_flows(
        "train", "--config", "configs/detour_flow.yaml", f"data.path={demos}", *small, "--out", str(train_dir)
    )
    checkpoint = train_dir / "checkpoints" / "best.pt"
    assert checkpoint.is_file()

    out = tmp_path / "eval"
    args = ["eval", "--checkpoint", str(checkpoint), "--env", ENV, "--episodes", "4", "--seed", "0"]
    proc = robo_flows(*args, "--num-envs", "2", "--out", str(out), "--video")
    assert "success" in proc.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["episodes"] == 4 and 0.0 <= results["success_rate"] <= 1.0
    lo, hi = results["success_ci"]
    assert lo <= results["success_rate"] <= hi
    assert results["latency_ms"]["p50"] > 0 and results["policy"]["kind"] == "flow"
    assert sum(results["modes"].values()) <= 4
    for name in ("paths.png", "modes.png", "rollouts.gif"):
        assert (out / name).stat().st_size > 0

    refused = subprocess.run(
        [sys.executable, "-m", "robo_flows.cli", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "--force" in refused.stderr
