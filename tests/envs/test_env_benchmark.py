"""The env benchmark runs end to end and reports a ratio for every panda-gym pair."""

from __future__ import annotations

import json

from robo_flows_envs.benchmark import PAIRS, main


def test_benchmark_writes_a_ratio_per_pair_and_vector_scaling(tmp_path, capsys):
    out = tmp_path / "envs.json"
    argv = ["--steps", "10", "--rounds", "1", "--render-size", "16", "--vector-steps", "3", "--out", str(out)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    rows = {r["env"]: r for r in result["pairs"]}
    assert set(rows) == set(PAIRS)
    for ours, theirs in PAIRS.items():
        assert rows[ours]["steps_per_s"] > 0 and rows[ours]["render_steps_per_s"] > 0
        if theirs is not None:
            ratio = rows[ours]["steps_per_s"] / rows[ours]["panda_gym_steps_per_s"]
            assert abs(rows[ours]["ratio"] - ratio) < 1e-9
    assert all(v["scaling"] > 0 for v in result["async_vector"].values())
    assert "RoboFlows/PandaPush-v0" in capsys.readouterr().out
