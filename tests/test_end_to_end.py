"""The whole way through the command line: collect demos, train a flow policy, evaluate it (Detour)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from cli_runs import ROOT, robo_flows

ENV = "RoboFlows/PandaDetour-v0"


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
        "train.log_every=1",
    ]
    robo_flows(
        "train", "--config", "configs/detour_flow.yaml", f"data.path={demos}", *small, "--out", str(train_dir)
    )
    checkpoint = train_dir / "checkpoints" / "best.pt"
    assert checkpoint.is_file()

    # training learned something: the training loss of the last logged steps is well below the first ones'
    with (train_dir / "log.csv").open(newline="") as f:
        losses = [float(r["train_loss"]) for r in csv.DictReader(f) if r["train_loss"]]
    assert len(losses) >= 100
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 1.0, (losses[:10], losses[-10:])

    # evaluation is seeded: two runs of one seed agree episode by episode; the replanning latency is reported
    args = ["eval", "--checkpoint", str(checkpoint), "--env", ENV, "--episodes", "4", "--seed", "0"]
    runs = []
    for name, extra in (("eval", ["--video"]), ("again", [])):
        proc = robo_flows(*args, "--num-envs", "2", "--out", str(tmp_path / name), *extra)
        assert "success" in proc.stdout
        runs.append(json.loads((tmp_path / name / "results.json").read_text()))
    first, second = runs
    for key in ("successes", "modes", "success_modes", "mean_length"):
        assert first[key] == second[key], key
    assert first["episodes"] == 4 and first["policy"]["kind"] == "flow"
    assert set(first["replan_ms"]) == {"b1", "b50"}
    out = tmp_path / "eval"
    for name in ("paths.png", "modes.png", "rollouts.mp4"):
        assert (out / name).stat().st_size > 0

    refused = subprocess.run(
        [sys.executable, "-m", "robo_flows.commands", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "--force" in refused.stderr
