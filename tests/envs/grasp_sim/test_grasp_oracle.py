import json

import numpy as np
from robo_flows_envs.grasp_sim.gripper import check_poses
from robo_flows_envs.grasp_sim.objects import parse_object_spec
from robo_flows_envs.grasp_sim.oracle import LADDER, random_grasps

from robo_flows.commands import main as robo_flows_main


def test_oracle_command_prints_each_row_for_each_kind(tmp_path, capsys):
    args = ["grasps", "oracle", "--objects", "3", "--grasps-per-object", "2", "--workers", "1"]
    assert robo_flows_main([*args, "--json", str(tmp_path / "o.json")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(lines) == 1 + len(LADDER) + 1  # header, ladder, random row
    table = json.loads((tmp_path / "o.json").read_text())["table"]
    assert all(entry["n"] == 6 and 0.0 <= entry["all"] <= 1.0 for entry in table.values())


def test_random_grasps_are_haar_uniform_inside_the_bounding_box():
    p = parse_object_spec("cylinder:0.02,0.1")
    R, t = random_grasps(p, np.random.default_rng(0), 20000)
    check_poses(R, t)
    np.testing.assert_allclose(R.mean(0), 0.0, atol=0.015)  # E[R] = 0 under the Haar measure
    np.testing.assert_allclose(np.abs(t).max(0), [0.02, 0.02, 0.05], rtol=1e-3)
