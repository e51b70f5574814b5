"""A tiny run of the point-cloud pipeline through the command line: mesh grasps with clouds, a short
training, evaluation on a held-out mesh from full and partial views, one pick episode per picker in
RoboFlows/PandaPickObject-v0, and grasps for a user's mesh file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import trimesh

from robo_flows.commands import main
from robo_flows.data.grasp_file import read_grasp_file

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "grasp_pointcloud.yaml"
TINY = ["model.layers=2", "model.hidden_features=[32,32]", "model.encoder_hidden=[16,32]", "model.charts=2",
        "train.steps=10", "train.batch_size=8", "train.valid_every=5", "train.log_every=5",
        "train.warmup_steps=2", "train.checkpoint_every=5", "data.valid_fraction=0.34"]  # fmt: skip


def test_mesh_grasps_train_eval_and_sample(tmp_path):
    data = tmp_path / "meshes.h5"
    generate = ["grasps", "generate", "--objects", "meshes", "--max-objects", "3", "--grasps-per-object",
                "8", "--views", "2", "--points", "128", "--seed", "0", "--workers", "1",
                "--out", str(data)]  # fmt: skip
    assert main(generate) == 0
    grasps = read_grasp_file(data)
    assert grasps.object_points.shape == (3, 128, 3) and grasps.object_partial_points.shape == (3, 2, 128, 3)
    assert grasps.object_kind == ("mesh",) * 3 and grasps.descriptor_dim == 0 and grasps.success.any()

    run = tmp_path / "run"
    train = ["grasps", "train", "--config", str(CONFIG), f"data.path={data}", *TINY, "--out", str(run)]
    assert main(train) == 0
    checkpoint = run / "checkpoints" / "last.pt"

    out = tmp_path / "eval"
    evaluate = ["grasps", "eval", "--checkpoint", str(checkpoint), "--objects", "held-out", "--max-objects",
                "1", "--views", "full,partial", "--samples", "4", "--coverage-samples", "20",
                "--points", "128", "--seed", "1", "--workers", "1", "--out", str(out)]  # fmt: skip
    assert main(evaluate) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["objects"] == [results["full"]["per_object"][0]["object"]]
    for view in ("full", "partial"):
        for key in ("success_rate", "top_decile_success_rate", "baseline_success_rate"):
            assert 0.0 <= results[view][key] <= 1.0
        for key in ("coverage_2cm_15deg", "emd", "nll", "samples_per_s"):
            assert key in results[view]

    pick = ["grasps", "pick", "--checkpoint", str(checkpoint), "--episodes", "1", "--candidates", "8",
            "--seed", "2", "--out", str(tmp_path / "pick")]  # fmt: skip
    assert main(pick) == 0
    picked = json.loads((tmp_path / "pick" / "results.json").read_text())
    for name in ("flow", "antipodal"):
        (episode,) = picked[name]["per_episode"]
        assert picked[name]["success_rate"] == float(episode["success"])
        assert 1 <= episode["candidates_checked"] <= 8
        # a tiny flow may propose no reachable grasp: then the episode fails without a step
        assert episode["steps"] >= 1 if episode["grasp_found"] else episode["steps"] == 0
    assert picked["antipodal"]["per_episode"][0]["object"] == picked["flow"]["per_episode"][0]["object"]

    mesh_file = tmp_path / "box_mm.stl"
    trimesh.creation.box(extents=(40.0, 60.0, 100.0)).export(mesh_file)  # millimetres
    sample = ["grasps", "sample", "--checkpoint", str(checkpoint), "--mesh", str(mesh_file), "--scale",
              "0.001", "--partial", "--points", "128", "--n", "20", "--top", "5", "--render", "1", "--out",
              str(tmp_path / "sample")]  # fmt: skip
    assert main(sample) == 0
    saved = np.load(tmp_path / "sample" / "grasps.npz")
    assert saved["rotations"].shape == (5, 3, 3) and saved["points"].shape == (128, 3)
    assert (np.diff(saved["log_prob"]) <= 0).all()  # best first
    assert np.abs(saved["points"]).max() < 0.06  # the cloud is in metres (file units x --scale)
    listed = json.loads((tmp_path / "sample" / "grasps.json").read_text())["grasps"]
    assert [g["log_prob"] for g in listed] == saved["log_prob"].tolist()
    assert (tmp_path / "sample" / "render.png").stat().st_size > 0
