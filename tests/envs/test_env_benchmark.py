"""The env benchmark: steps/s measured from timed steps, each pair's ratio ours / panda-gym's (never swapped),
at equal physics and at the defaults, and the run written through the harness beside its fidelity evidence."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from robo_flows.benchmarks.envs import PAIRS, _pair_rows, main, timed_steps_per_s


class _SleepStepper:
    """A stepper whose every env step takes at least ``seconds`` (a sleep)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.count = seconds, 0

    def steps(self, n: int):
        def run() -> None:
            for _ in range(n):
                time.sleep(self.seconds)
                self.count += 1

        return run


def test_steps_per_s_comes_from_the_timed_steps():
    fast, slow = _SleepStepper(0.001), _SleepStepper(0.004)
    measured = timed_steps_per_s({"fast": fast, "slow": slow}, steps=5, rounds=3)
    # a step can take longer than its sleep on a busy machine, never shorter
    assert measured["fast"]["steps_per_s"] <= 1000.0 and measured["slow"]["steps_per_s"] <= 250.0
    assert measured["slow"]["steps_per_s"] < measured["fast"]["steps_per_s"]
    for m in measured.values():  # the reported rate is the median sample's, and a sample is steps / seconds
        assert len(m["samples_steps_per_s"]) == 3
        assert m["steps_per_s"] == pytest.approx(statistics.median(m["samples_steps_per_s"]))
    assert fast.count == slow.count == 5 * (1 + 1 + 3)  # cold call, warm-up, three timed rounds


def test_pair_rows_divide_ours_by_the_matching_panda_gym_env():
    measured = {}
    for s, setting in enumerate(("equal", "defaults")):
        for i, (ours, theirs) in enumerate(PAIRS.items()):
            measured[f"{setting}|{ours}"] = {"steps_per_s": 100.0 * (i + 1 + s), "samples_steps_per_s": []}
            if theirs is not None:
                measured[f"{setting}|{theirs}"] = {"steps_per_s": 10.0 * (i + 1), "samples_steps_per_s": []}
    rows = _pair_rows(measured, ("equal", "defaults"))
    assert [(r["setting"], r["env"]) for r in rows] == [(s, e) for s in ("equal", "defaults") for e in PAIRS]
    for r in rows:
        i = list(PAIRS).index(r["env"])
        assert r["panda_gym"] == PAIRS[r["env"]]
        if r["panda_gym"] is None:
            assert "ratio" not in r
        else:
            shift = 1 if r["setting"] == "defaults" else 0
            assert r["ratio"] == pytest.approx((i + 1 + shift) * 10.0 / (i + 1))


def test_benchmark_writes_ratios_fidelity_and_vector_scaling(tmp_path, capsys):
    pytest.importorskip("panda_gym")  # the bench extra
    out = tmp_path / "envs.json"
    argv = ["--steps", "10", "--rounds", "1", "--vector-steps", "2", "--episodes", "1", "--out", str(out)]
    assert main(argv) == 0
    payload = json.loads(out.read_text())
    assert payload["benchmark"] == "envs" and payload["machine"]["versions"]["panda-gym"]
    results = payload["results"]
    for setting in ("equal", "defaults"):
        rows = {r["env"]: r for r in results["speed"] if r["setting"] == setting}
        assert set(rows) == set(PAIRS)
        assert all(r["steps_per_s"] > 0 and len(r["samples_steps_per_s"]) == 1 for r in rows.values())
    assert {r["env"] for r in results["fidelity"]} == set(PAIRS)
    assert set(results["grasp_hold"]) == {"4x10ms", "20x2ms"}
    assert all(v["scaling"] > 0 for v in results["async_vector"].values())
    assert [r["cameras"] for r in results["cameras"]["rows"]][0] == "state"
    assert "RoboFlows/PandaPush-v0" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # an existing result is never overwritten
        main(argv)


def test_camera_part_alone_measures_every_camera_set_against_state_on_each_task(tmp_path, capsys):
    from robo_flows.benchmarks.envs import CAMERA_ENVS, CAMERA_SETS, camera_env

    env = camera_env("RoboFlows/PandaDetour-v0", "agentview, one pass")
    try:
        assert not env.unwrapped.cameras["agentview_image"].layered
    finally:
        env.close()
    out = tmp_path / "cameras.json"
    assert main(["--parts", "cameras", "--steps", "5", "--rounds", "1", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert set(payload["results"]) == {"cameras"} and payload["settings"]["parts"] == ["cameras"]
    rows = payload["results"]["cameras"]["rows"]
    assert [(r["env"], r["cameras"]) for r in rows] == [(e, c) for e in CAMERA_ENVS for c in CAMERA_SETS]
    for r in rows:
        state = next(s for s in rows if s["env"] == r["env"] and s["cameras"] == "state")
        assert r["vs_state"] == pytest.approx(r["steps_per_s"] / state["steps_per_s"])
    assert "agentview, one pass" in capsys.readouterr().out
