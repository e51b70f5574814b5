"""A policy that sees, the whole way through the command line: collect image demos, train, evaluate (Detour).

Tiny on purpose (4 demos, 32 x 32 agentview images, the small conv stem, 30 steps): it checks the plumbing
(image keys written chunked and compressed, lazy windows, the encoder in the checkpoint, the env rebuilt with
the demos' cameras, Dict observations in the rollouts, paths and video), not the policy's success.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from cli_runs import robo_flows

ENV = "RoboFlows/PandaDetour-v0"
CAMERAS = {"obs_mode": "rgb", "cameras": ["agentview"], "camera_width": 32, "camera_height": 32}


def test_image_policy_collects_trains_and_evaluates_through_the_cli(tmp_path):
    pytest.importorskip("pybullet")
    demos = tmp_path / "demos.hdf5"
    robo_flows(
        "collect", "--env", ENV, "--episodes", "4", "--out", str(demos),
        "--env-kwargs", json.dumps(CAMERAS), "--no-progress",
    )  # fmt: skip
    with h5py.File(demos, "r") as f:
        images = f["data/demo_0/obs/agentview_image"]
        assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 3)
        assert images.chunks == (1, 32, 32, 3) and images.compression is not None
        assert sorted(f["data/demo_0/obs"]) == ["agentview_image", "ee_pos", "ee_vel", "finger_width"]
        assert json.loads(f["data"].attrs["env_args"])["env_kwargs"] == CAMERAS

    train_dir = tmp_path / "train"
    tiny = [
        "model.hidden_features=32,32",
        "model.encoder_hidden=32",
        "model.encoder.keypoints=8",
        "model.encoder.image_features=16",
        "model.monitor_steps=10",
        "data.image_cache_mb=1",
        "train.steps=30",
        "train.batch_size=16",
        "train.valid_every=15",
        "train.checkpoint_every=0",
        "train.log_every=10",
        "train.num_workers=1",
        "train.device=cpu",
    ]
    robo_flows(
        "train",
        "--config",
        "configs/detour_flow_rgb.yaml",
        f"data.path={demos}",
        *tiny,
        "--out",
        str(train_dir),
    )
    checkpoint = train_dir / "checkpoints" / "best.pt"

    from robo_flows.policy import FlowPolicy

    policy = FlowPolicy.from_checkpoint(checkpoint)  # the encoder is rebuilt from the checkpoint alone
    assert list(policy.model.encoder.cameras) == ["agentview_image"]
    assert policy.adapter.image_shapes == {"agentview_image": (32, 32, 3)}

    # no --env / --env-kwargs: the env is made with the demos' cameras (a state env would be refused)
    out = tmp_path / "eval"
    proc = robo_flows(
        "eval", "--checkpoint", str(checkpoint), "--episodes", "2", "--video", "--out", str(out)
    )
    results = json.loads((out / "results.json").read_text())
    assert results["episodes"] == 2 and results["env_kwargs"] == CAMERAS
    assert "notes" not in results, results.get("notes")  # the paths were read from the Dict's ee_pos
    assert results["files"]["video"] == "rollouts.mp4"
    for name in ("paths.png", "modes.png", "rollouts.mp4"):
        assert (out / name).stat().st_size > 0
    assert "obs_log_prob" in results and "replan_ms" in results
    assert "warning" not in proc.stderr

    # a state-only env for this image policy: refused before any rollout, naming the kwargs
    refused = robo_flows(
        "eval", "--checkpoint", str(checkpoint), "--env-kwargs", '{"obs_mode": "state"}',
        "--episodes", "1", "--out", str(tmp_path / "refused"), ok=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "obs_mode" in refused.stderr and "Traceback" not in refused.stderr
