"""The policy benchmark: its checks before it runs, which policies it trains, how it judges its targets, and
a tiny run of the real command (every row kind, extra seeds, reuse of a finished run, camera demos)."""

from __future__ import annotations

import json

import pytest
from cli_runs import robo_flows

from robo_flows.benchmarks.harness import read_result
from robo_flows.benchmarks.policy import main, parse_args, seed_summaries, targets, task_cells
from robo_flows.benchmarks.render import TABLES
from robo_flows.errors import ConfigError


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tasks", "detour,fly"], "unknown tasks"),
        (["--kinds", "flow,magic"], "unknown model kinds"),
        (["--seed-kinds", "magic"], "unknown model kinds"),
        (["--seeds", "0"], "--seeds must be >= 1"),
    ],
)
def test_bad_arguments_are_refused_before_the_output_is_touched(tmp_path, argv, message):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("previous result")
    with pytest.raises(ValueError, match=message):
        main([*argv, "--out", str(out), "--force"])
    assert (out / "keep.txt").read_text() == "previous result"


def test_a_kind_without_a_camera_preset_is_refused_before_the_output_is_touched(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("previous result")
    with pytest.raises(ConfigError, match="detour_gmm_rgb"):
        main(["--obs", "rgb", "--tasks", "detour", "--kinds", "flow,gmm", "--out", str(out), "--force"])
    assert (out / "keep.txt").read_text() == "previous result"


def test_a_previous_run_is_kept_without_force(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("previous result")
    with pytest.raises(FileExistsError, match="--force"):
        main(["--tasks", "detour", "--out", str(out)])


def _cells(task: str, *argv: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    args = parse_args(list(argv))
    return {c.name: (c.preset, c.overrides) for c in task_cells(task, args.kinds.split(","), args)}


def test_every_kind_by_default_with_dp_rows_on_push_and_equal_params_on_detour():
    detour, push = _cells("detour"), _cells("push")
    kinds = ["flow", "mse", "gmm", "diffusion", "flow_matching"]
    assert list(detour) == [*kinds, "diffusion (equal params)", "flow_matching (equal params)"]
    assert detour["diffusion (equal params)"] == ("detour_diffusion", ("model.unet.down_dims=[32,64]",))
    assert list(push) == [*kinds, "flow (DP protocol)", "diffusion (DP protocol)"]
    assert push["flow (DP protocol)"] == ("push_flow_dp", ())
    assert parse_args([]).eval_episodes == 100


def test_extra_seeds_train_the_same_preset_with_another_seed_and_cameras_use_the_rgb_presets():
    cells = _cells("push", "--kinds", "flow,mse", "--seeds", "3", "--obs", "rgb")
    assert cells == {
        "flow": ("push_flow_rgb", ()),
        "mse": ("push_mse_rgb", ()),
        "flow seed 1": ("push_flow_rgb", ("train.seed=1",)),
        "flow seed 2": ("push_flow_rgb", ("train.seed=2",)),
    }  # mse is not a seed kind; the DP rows are state-only


def test_seed_summary_pools_the_episodes_of_every_seed():
    def result(k: int) -> dict:
        return {"success_rate": k / 10, "successes": k, "episodes": 10, "smaller_mode_share": 0.3}

    results = {"flow": result(9), "flow seed 1": result(7), "flow seed 2": result(8), "mse": result(1)}
    args = parse_args(["--seeds", "3", "--seed-kinds", "flow"])
    summary = seed_summaries(results, task_cells("detour", ["flow", "mse"], args))
    assert list(summary) == ["flow"]
    assert summary["flow"]["success"] == [0.9, 0.7, 0.8]
    assert summary["flow"]["mean"] == pytest.approx(0.8) and summary["flow"]["std"] == pytest.approx(0.1)
    lo, hi = summary["flow"]["pooled_ci"]  # Wilson interval of 24 / 30
    assert lo == pytest.approx(0.627, abs=1e-3) and hi == pytest.approx(0.905, abs=1e-3)


def _result(rate: float, share: float | None = None, ci: tuple[float, float] = (0.0, 1.0)) -> dict:
    return {"success_rate": rate, "smaller_mode_share": share, "success_ci": list(ci)}


def _timing(p50: float) -> dict:
    return {"cold_ms": 50.0, "warm_ms": {"p50": p50, "p95": 10 * p50}}


def test_targets_judge_success_ratios_mode_share_and_the_replanning_call():
    tasks = {
        "detour": {"results": {"expert": _result(1.0), "flow": _result(0.96, 0.2), "mse": _result(0.5)}},
        "push": {"results": {"expert": _result(1.0), "flow": _result(0.9)}},
    }
    latency = {"flow": {"b1": _timing(1.5), "b50": _timing(40.0)}}
    checks = {name: met for name, met, _ in targets(tasks, latency)}
    assert checks == {
        "Detour flow >= 0.95x expert, smaller mode >= 25%": False,  # the smaller mode is only 20%
        "Detour mse >= 0.2 below flow": True,
        "push flow >= 0.9x expert": True,
        "replanning p50 <= 2 ms (batch 1)": True,  # warm p50 of batch 1, not the cold call or p95
    }


def test_targets_judge_the_flow_against_diffusion():
    push = {
        "results": {
            "expert": _result(1.0),
            "flow": _result(0.80, 0.40, ci=(0.71, 0.87)),
            "diffusion": _result(0.85, 0.45),  # better, but inside the flow's interval
        },
        "costs": {
            "flow": {"time_to_best_s": 100.0, "time_to_best_at_step_ms_s": 10.0},
            "diffusion": {"time_to_best_s": 90.0, "time_to_best_at_step_ms_s": 20.0},
        },  # the wall times of two runs at different loads disagree with the like-for-like estimate
    }
    pickplace = {
        "results": {"expert": _result(1.0), "flow": _result(0.6, ci=(0.5, 0.69)), "diffusion": _result(0.7)},
        "seeds": {"flow": {"mean": 0.75, "pooled_ci": [0.7, 0.8], "seeds": 3}},  # diffusion has one seed
    }
    latency = {
        "flow": {"b1": _timing(2.0)},
        "diffusion (equal params)": {"b1": _timing(59.0)},  # 29.5x: not 30x
        "diffusion": {"b1": _timing(61.0)},
    }
    checks = {name: met for name, met, _ in targets({"push": push, "pickplace": pickplace}, latency)}
    assert checks["push flow success >= diffusion's (within the intervals)"] is True
    assert checks["push flow smaller-mode share >= diffusion's"] is False
    assert checks["push flow time to best <= diffusion's (wall)"] is False
    assert checks["push flow time to best <= diffusion's (at interleaved step times)"] is True
    assert checks["pickplace flow success >= diffusion's (within the intervals)"] is True  # pooled seeds
    assert checks["flow batch-1 p50 <= 1/30 of diffusion (equal params) (DDIM)"] is False
    assert checks["flow batch-1 p50 <= 1/30 of diffusion (DDIM)"] is True
    pickplace.pop("seeds")  # the one seed-0 cell: 0.70 is outside the flow's [0.50, 0.69]
    checks = {name: met for name, met, _ in targets({"pickplace": pickplace}, None)}
    assert checks["pickplace flow success >= diffusion's (within the intervals)"] is False


TINY = [
    "--set", "model.hidden_features=[16,16]", "--set", "model.encoder_hidden=[16]",
    "--set", "model.context_features=16", "--set", "model.monitor_steps=5",
    "--set", "model.unet.down_dims=[8,16]", "--set", "model.unet.time_embed_dim=8",
    "--set", "model.unet.n_groups=4", "--set", "model.diffusion.inference_steps=2",
    "--set", "train.batch_size=8", "--set", "train.valid_every=2",
    "--set", "train.checkpoint_every=0", "--set", "train.log_every=1",
]  # fmt: skip


@pytest.mark.slow
def test_a_tiny_run_trains_every_row_reuses_finished_runs_and_renders(tmp_path):
    pytest.importorskip("pybullet")
    pytest.importorskip("diffusers")
    common = ["bench", "policy", "--tasks", "detour", "--kinds", "flow,diffusion", "--episodes", "3",
              "--eval-episodes", "2", "--steps", "4", "--seeds", "2", "--seed-kinds", "flow",
              "--equal-params-kinds", "diffusion", "--sweep-tasks", "", "--latency-repeats", "2",
              *TINY]  # fmt: skip
    robo_flows(*common, "--out", str(tmp_path / "first"))
    first = read_result(tmp_path / "first" / "bench_policy.json")
    detour = first["results"]["tasks"]["detour"]
    names = ["expert", "flow", "diffusion", "flow seed 1", "diffusion (equal params)"]
    assert list(detour["results"]) == names
    assert all(r["episodes"] == 2 for r in detour["results"].values())
    assert {r["seeds"][0] for r in detour["results"].values()} == {10**8}  # the same, paired episodes
    cost = detour["costs"]["flow seed 1"]
    assert cost["steps"] == 4 and cost["params"] > cost["head_params"] > 0 and not cost["reused"]
    assert cost["best_step"] in (2, 4) and 0 < cost["time_to_best_s"] <= cost["train_s"]
    assert detour["seeds"]["flow"]["seeds"] == 2
    assert list(first["results"]["latency"]) == ["flow", "diffusion", "diffusion (equal params)"]
    tables = {table: render(first) for (benchmark, table), render in TABLES.items() if benchmark == "policy"}
    assert "| diffusion (equal params) |" in tables["success"] and "flow seed 1" not in tables["success"]
    assert "| detour | flow | 2 |" in tables["seeds"] and "| detour | flow seed 1 |" in tables["cost"]
    assert tables["latency"].count("\n") == 4 and tables["targets"].count("\n") >= 3

    other = tmp_path / "other_task_run"  # an earlier run without this task's demos comes first
    (other / "reach").mkdir(parents=True)
    robo_flows(
        *common, "--reuse", str(other), "--reuse", str(tmp_path / "first"), "--out", str(tmp_path / "again")
    )
    again = read_result(tmp_path / "again" / "bench_policy.json")["results"]["tasks"]["detour"]
    assert all(c["reused"] for c in again["costs"].values())  # nothing was trained a second time
    timed = ("step_ms", "time_to_best_at_step_ms_s")  # step times are measured again by every run
    for name, c in detour["costs"].items():  # the same runs, read back
        kept = {k: v for k, v in again["costs"][name].items() if k not in timed}
        assert kept == {k: v for k, v in c.items() if k not in timed} | {"reused": True}, name
    assert not (tmp_path / "again" / "detour" / "train").exists()
    for name, r in detour["results"].items():  # their evaluations on the same seeds, read back
        assert again["results"][name] == r | {"reused_from": again["results"][name]["reused_from"]}, name


@pytest.mark.slow
def test_camera_demos_train_the_rgb_presets(tmp_path):
    pytest.importorskip("pybullet")
    cameras = {"cameras": ["agentview"], "camera_width": 32, "camera_height": 32}
    robo_flows(
        "bench", "policy", "--obs", "rgb", "--env-kwargs", json.dumps(cameras), "--tasks", "detour",
        "--kinds", "flow", "--episodes", "3", "--eval-episodes", "1", "--steps", "2", "--sweep-tasks", "",
        *TINY, "--set", "model.encoder.keypoints=4", "--set", "model.encoder.image_features=8",
        "--set", "data.image_cache_mb=1", "--set", "train.device=cpu", "--out", str(tmp_path / "rgb"),
    )  # fmt: skip
    detour = read_result(tmp_path / "rgb" / "bench_policy.json")["results"]["tasks"]["detour"]
    assert detour["env_kwargs"] == {"obs_mode": "state+rgb", **cameras}
    assert detour["costs"]["flow"]["preset"] == "detour_flow_rgb"
    assert detour["results"]["flow"]["env_kwargs"] == detour["env_kwargs"]
