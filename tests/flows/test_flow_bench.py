"""The flows benchmark: toy data sets, target bookkeeping and a quick end-to-end smoke run."""

from __future__ import annotations

import json
import math

import pytest
import torch

from robo_flows.benchmarks import flows as bench
from robo_flows.benchmarks.toys import CONDITIONAL_TOYS, UNCONDITIONAL_TOYS, checkerboard, eight_gaussians


@pytest.mark.parametrize("name", list(UNCONDITIONAL_TOYS))
def test_toys_are_seeded_2d_samples(name):
    a = UNCONDITIONAL_TOYS[name](1000, torch.Generator().manual_seed(3))
    b = UNCONDITIONAL_TOYS[name](1000, torch.Generator().manual_seed(3))
    assert a.shape == (1000, 2) and torch.equal(a, b) and torch.isfinite(a).all()
    assert a.abs().max() < 5.0  # inside the splines' default interval


def test_checkerboard_fills_only_the_black_squares_evenly():
    x = checkerboard(40_000, torch.Generator().manual_seed(0))
    cells = torch.floor(x / 2.0).long() + 2  # 4 x 4 cells indexed 0..3
    assert torch.all((cells[:, 0] + cells[:, 1]) % 2 == 0)
    counts = torch.bincount(cells[:, 0] * 4 + cells[:, 1], minlength=16).float()
    black = counts[counts > 0]
    assert len(black) == 8 and (black / black.mean() - 1).abs().max() < 0.1


def test_eight_gaussians_sit_on_the_circle():
    x = eight_gaussians(20_000, torch.Generator().manual_seed(0))
    assert (x.norm(dim=-1).mean() - 2.5).abs() < 0.05
    angles = torch.atan2(x[:, 1], x[:, 0]) / (2 * math.pi / 8)
    assert (angles - angles.round()).abs().mean() < 0.1


def test_conditional_toy_depends_on_its_context():
    x, c = CONDITIONAL_TOYS["rotating_moons"](20_000, torch.Generator().manual_seed(0))
    assert x.shape == (20_000, 2) and c.shape == (20_000, 1)
    low, high = x[c[:, 0] < 0.2], x[c[:, 0] > 0.8]
    assert (low.norm(dim=-1).mean() - high.norm(dim=-1).mean()).abs() > 0.3


def test_targets_are_judged_as_time_ratios_and_nll_gaps():
    speed = {
        "maf": {
            "train_step_ms": {"robo_flows": 7.0, "zuko": 10.0},
            "sample_b1_ms": {"robo_flows": 8, "zuko": 10},
        },
        "realnvp": {"sample_b1_ms": {"robo_flows": 1.0, "nflows": 3.0}},
    }
    nll = {"two_moons": {"nsf": {"robo_flows": 1.80, "zuko": 1.70}}}
    checks = {c["target"]: c["met"] for c in bench.evaluate_targets(speed, nll)}
    assert checks == {
        "train_step_ms maf <= 0.75 x zuko": True,
        "sample_b1_ms maf <= 0.75 x zuko": False,
        "sample_b1_ms realnvp <= 0.5 x nflows": True,
        "nll two_moons nsf <= zuko + 0.05": False,
    }


def test_quick_benchmark_writes_the_table_and_json(tmp_path, capsys):
    pytest.importorskip("zuko")  # the bench extra
    pytest.importorskip("nflows")
    out = tmp_path / "flows.json"
    argv = ["--quick", "--kinds", "realnvp", "--datasets", "rotating_moons", "--batch", "64"]
    assert bench.main([*argv, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["speed"]) == {"realnvp"}
    assert set(report["speed"]["realnvp"]["sample_b1_ms"]) == {"robo_flows", "zuko", "nflows"}
    assert all(v > 0 for v in report["speed"]["realnvp"]["train_step_ms"].values())
    assert set(report["nll"]) == {"rotating_moons"}
    assert all(math.isfinite(v) for v in report["nll"]["rotating_moons"]["realnvp"].values())
    printed = capsys.readouterr().out
    assert "ours/zuko" in printed and "held-out NLL" in printed and "targets" in printed
