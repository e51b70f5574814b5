"""Tiny end-to-end runs of ``robo-flows grasps train | eval | sample`` and the GraspFlow model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from robo_flows.commands import main
from robo_flows.geometry import rotation_about_z
from robo_flows.grasps import GraspFlow, GraspModelConfig
from robo_flows.training import load_checkpoint

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "grasp_flow.yaml"
TINY = ["model.layers=2", "model.hidden_features=[32,32]", "train.batch_size=64", "train.valid_every=10",
        "train.log_every=5", "train.warmup_steps=5", "data.valid_fraction=0.25"]  # fmt: skip


def test_model_density_is_jaw_symmetric_and_checks_descriptor_width():
    torch.manual_seed(0)
    model = GraspFlow(GraspModelConfig(layers=2, hidden_features=(16,), charts=2), descriptor_dim=6)
    R, t = model.sample(torch.tensor([1.0, 0, 0, 0.05, 0.04, 0.12]), 16)
    assert R.shape == (16, 3, 3) and t.shape == (16, 3)
    d = torch.tensor([1.0, 0, 0, 0.05, 0.04, 0.12]).expand(16, 6)
    flipped = R @ rotation_about_z(math.pi)
    torch.testing.assert_close(model.log_prob(flipped, t, d), model.log_prob(R, t, d), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="descriptor has 5 values, the model was trained on 6"):
        model.log_prob(R, t, d[:, :5])


def test_train_resume_eval_and_sample_commands(grasp_file, tmp_path):
    out = tmp_path / "run"

    def train(steps: int, *flags: str) -> int:
        overrides = [f"data.path={grasp_file}", *TINY, f"train.steps={steps}"]
        return main(["grasps", "train", "--config", str(CONFIG), *overrides, "--out", str(out), *flags])

    assert train(20) == 0
    first = load_checkpoint(out / "checkpoints" / "last.pt", kind="grasp")
    assert first["step"] == 20 and first["meta"]["descriptor_dim"] == 6
    assert train(20) == 2  # a non-empty run folder is refused without --resume
    assert (
        train(20, "--resume") == 0
    )  # the finished run resumes at its last step (exact resume: Trainer tests)
    last = load_checkpoint(out / "checkpoints" / "last.pt", kind="grasp")
    assert last["step"] == 20 and (out / "checkpoints" / "best.pt").is_file()
    model, meta = GraspFlow.from_checkpoint(out / "checkpoints" / "best.pt")
    assert meta["valid_objects"] and not set(meta["valid_objects"]) & set(meta["train_objects"])

    checkpoint = str(out / "checkpoints" / "best.pt")
    eval_dir = tmp_path / "eval"
    eval_args = [
        "--objects",
        "1",
        "--samples",
        "6",
        "--candidates",
        "12",
        "--top-k",
        "3",
        "--reference",
        "6",
        "--coverage-samples",
        "50",
    ]
    assert main(["grasps", "eval", "--checkpoint", checkpoint, "--seed", "3", "--out", str(eval_dir),
                 *eval_args, "--workers", "1"]) == 0  # fmt: skip
    results = json.loads((eval_dir / "results.json").read_text())
    for key in (
        "success_rate",
        "oracle_success_rate",
        "top_k_success_rate",
        "coverage_2cm",
        "coverage_2cm_15deg",
    ):
        assert 0.0 <= results[key] <= 1.0, key
    low, high = results["success_rate_ci95"]
    assert low <= results["success_rate"] <= high
    assert results["emd"] > 0 and results["emd_floor"] > 0 and math.isfinite(results["nll"])
    assert results["samples_per_s"] > 0 and results["trials"] == {"samples": 6, "oracle": 6, "top_k": 3}

    sample_dir = tmp_path / "sample"
    sample_args = ["grasps", "sample", "--checkpoint", checkpoint, "--object", "box:0.05,0.04,0.12",
                   "--n", "40", "--render", "1", "--out", str(sample_dir)]  # fmt: skip
    assert main(sample_args) == 0
    saved = np.load(sample_dir / "grasps.npz")
    assert saved["rotations"].shape == (40, 3, 3) and np.isfinite(saved["log_prob"]).all()
    assert (sample_dir / "grasps.png").stat().st_size > 0 and (sample_dir / "render.png").stat().st_size > 0
    assert main(sample_args) == 2  # existing outputs are not overwritten without --force


def test_sample_command_rejects_unknown_objects(tmp_path, capsys):
    assert main(["grasps", "sample", "--checkpoint", str(tmp_path / "x.pt"), "--object", "cone:0.1",
                 "--out", str(tmp_path)]) == 2  # fmt: skip
    assert "unknown primitive kind 'cone'" in capsys.readouterr().err
