"""The env benchmark runs end to end and reports a ratio for every panda-gym pair, at equal physics and at
the defaults, beside its fidelity evidence."""

from __future__ import annotations

import json

import pytest

from robo_flows.benchmarks.envs import PAIRS, main


def test_benchmark_writes_ratios_fidelity_and_vector_scaling(tmp_path, capsys):
    out = tmp_path / "envs.json"
    argv = ["--steps", "10", "--rounds", "1", "--vector-steps", "2", "--episodes", "1", "--out", str(out)]
    assert main(argv) == 0
    results = json.loads(out.read_text())["results"]
    for setting in ("equal", "defaults"):
        rows = {r["env"]: r for r in results["speed"] if r["setting"] == setting}
        assert set(rows) == set(PAIRS)
        for ours, theirs in PAIRS.items():
            assert rows[ours]["steps_per_s"] > 0
            if theirs is not None:
                ratio = rows[ours]["steps_per_s"] / rows[ours]["panda_gym_steps_per_s"]
                assert abs(rows[ours]["ratio"] - ratio) < 1e-9
    assert {r["env"] for r in results["fidelity"]} == set(PAIRS)
    assert set(results["grasp_hold"]) == {"4x10ms", "20x2ms"}
    assert all(v["scaling"] > 0 for v in results["async_vector"].values())
    assert [r["cameras"] for r in results["cameras"]["rows"]][0] == "state"
    assert "RoboFlows/PandaPush-v0" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # an existing result is never overwritten
        main(argv)
