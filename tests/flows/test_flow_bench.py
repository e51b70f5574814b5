"""The flows benchmark: toy data sets, target bookkeeping and a quick end-to-end smoke run."""

from __future__ import annotations

import json
import math

import pytest
import torch

from robo_flows.benchmarks import flows as bench
from robo_flows.benchmarks.harness import result_payload
from robo_flows.benchmarks.render import flows_speed
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
        "threads=1": {
            "maf": {
                "train_step_ms": {"robo_flows": 4.0, "zuko": 10.0},
                "sample_b1_ms": {"robo_flows": 8, "zuko": 10},
            },
            "realnvp": {"sample_b1_ms": {"robo_flows": 1.0, "nflows": 3.0}},
        }
    }
    nll = {"two_moons": {"nsf": {"robo_flows": {"mean": 1.80}, "zuko": {"mean": 1.70}}}}
    checks = {c["target"]: c["met"] for c in bench.evaluate_targets(speed, nll)}
    assert checks == {
        "train_step_ms maf <= 0.5 x zuko (threads=1)": True,
        "sample_b1_ms maf <= 0.5 x zuko (threads=1)": False,
        "nll two_moons nsf <= zuko + 0.05": False,
    }


@pytest.mark.parametrize(
    ("name", "shape"), [("ring_warp6", (6, 4)), ("arm_chain10", (10, 4)), ("switching_chain16", (16, 6))]
)
def test_conditional_sets_are_seeded_and_have_narrow_context_dependent_conditionals(name, shape):
    x, c = CONDITIONAL_TOYS[name](20_000, torch.Generator().manual_seed(3))
    x2, c2 = CONDITIONAL_TOYS[name](20_000, torch.Generator().manual_seed(3))
    assert torch.equal(x, x2) and torch.equal(c, c2)
    assert (x.shape[-1], c.shape[-1]) == shape and torch.isfinite(x).all() and x.abs().max() < 5.0
    # some coordinate is nearly determined by the others and the context: its residual after a linear fit
    # on quadratic features of (x_<j, c) is far below its marginal spread
    features = torch.cat([x, c], -1)
    narrow = []
    for j in range(1, x.shape[-1]):
        inputs = torch.cat([x[:, :j], c, x[:, :j].square(), torch.ones(len(x), 1)], -1).double()
        coef = torch.linalg.lstsq(inputs, x[:, j : j + 1].double()).solution
        residual = (x[:, j : j + 1].double() - inputs @ coef).std()
        narrow.append(float(residual / x[:, j].std()))
    if name != "switching_chain16":  # its narrow conditionals are sines, which this fit cannot follow
        assert min(narrow) < 0.2
    # and the context moves the data: the mean of x shifts between low and high first context feature
    low, high = x[c[:, 0] < -0.5], x[c[:, 0] > 0.5]
    assert (low.mean(0) - high.mean(0)).abs().max() > 0.3
    assert features.shape[-1] == sum(shape)


def test_quick_benchmark_writes_the_tables_and_harness_json(tmp_path, capsys):
    pytest.importorskip("zuko")  # the bench extra
    pytest.importorskip("nflows")
    argv = ["--quick", "--kinds", "realnvp", "--datasets", "ring_warp6", "--batch", "64", "--threads", "1"]
    assert bench.main([*argv, "--skip-roundtrip", "--out", str(tmp_path)]) == 0
    speed = json.loads((tmp_path / "flows_speed.json").read_text())
    assert speed["machine"]["cpu_model"] and speed["benchmark"] == "flows_speed"
    medians = speed["results"]["medians"]["threads=1"]["realnvp"]
    assert set(medians["sample_b1_ms"]) == {"robo_flows", "zuko", "nflows"}
    assert all(v > 0 for v in medians["train_step_ms"].values())
    raw = speed["results"]["timings"]["threads=1"]["realnvp"]
    assert len(raw["wall"]["train_step_ms"]["zuko"]["samples_ms"]) == 2
    assert len(raw["cpu_s"]["train_step_ms"]["zuko"]) == 2  # the timed calls, cold and warm-up left out
    assert speed["results"]["cpu_medians"]["threads=1"]["realnvp"]["sample_b1_ms"]["robo_flows"] > 0
    assert set(speed["results"]["load_avg_1m"]) == {"threads=1"}
    assert flows_speed(speed).splitlines()[2].startswith("| 1 | ")  # README's renderer reads this JSON
    nll = json.loads((tmp_path / "flows_nll.json").read_text())["results"]["nll"]
    assert all(math.isfinite(v["mean"]) for v in nll["ring_warp6"]["realnvp"].values())
    printed = capsys.readouterr().out
    assert "ours/zuko" in printed and "held-out NLL" in printed and "targets" in printed
    with pytest.raises(FileExistsError, match="never overwritten"):
        bench.main([*argv, "--skip-roundtrip", "--out", str(tmp_path)])


def test_speed_table_shows_time_ratios_per_thread_count_with_the_load():
    def metrics(ours: float, zuko: float) -> dict[str, dict[str, float]]:
        ms = {"robo_flows": ours, "zuko": zuko}
        rate = {"robo_flows": 1000.0 / ours, "zuko": 1000.0 / zuko}  # samples/s: the time ratio inverts
        return {"train_step_ms": ms, "sample_b1_ms": ms, "log_prob_per_s": rate, "sample_b512_ms": ms}

    medians = {"threads=1": {"maf": metrics(5.0, 10.0)}, "threads=2": {"maf": metrics(6.0, 4.0)}}
    cpu = {"threads=1": {"maf": {"train_step_ms": {"robo_flows": 3.0, "zuko": 12.0}}}}
    results = {"medians": medians, "cpu_medians": cpu, "load_avg_1m": {"threads=1": 0.25, "threads=2": 1.5}}
    payload = result_payload("flows_speed", settings={"batch": 512}, results=results)
    header, _, one, two = flows_speed(payload).splitlines()
    assert "log_prob b512 ours / zuko" in header
    assert one == "| 1 | 0.2 | maf | 5.00 | 10.00 | 0.50 | 0.25 | 5.000 | 10.000 | 0.50 | - | 0.50 | 0.50 |"
    assert two == "| 2 | 1.5 | maf | 6.00 | 4.00 | 1.50 | - | 6.000 | 4.000 | 1.50 | - | 1.50 | 1.50 |"
