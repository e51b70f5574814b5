"""The grasps_pointcloud result: assembled from an eval and a pick results.json, rendered into tables."""

from __future__ import annotations

import json

from robo_flows.benchmarks.grasps import assemble_pointcloud, pointcloud_payload
from robo_flows.benchmarks.harness import read_result
from robo_flows.benchmarks.render import render_text

VIEW = {"success_rate": 0.6, "top_decile_success_rate": 0.8, "baseline_success_rate": 0.75,
        "coverage_2cm_15deg": 0.7, "emd": 0.07, "nll": -11.5, "samples_per_s": 12345.0, "objects": 3,
        "per_object": [{"object": "x"}]}  # fmt: skip
EVAL = {"seed": 7, "objects": ["a", "b", "c"], "full": VIEW, "partial": {**VIEW, "success_rate": 0.5}}
EPISODES = [{"seed": 0, "success": True}, {"seed": 1, "success": False}]
PICK = {"seed": 0, "objects": "held-out", "candidates": 64,
        "flow": {"success_rate": 0.5, "success_rate_ci95": [0.1, 0.9], "no_reachable_grasp_rate": 0.0,
                 "per_episode": EPISODES},
        "antipodal": {"success_rate": 1.0, "success_rate_ci95": [0.3, 1.0], "no_reachable_grasp_rate": 0.5,
                      "per_episode": EPISODES}}  # fmt: skip


def test_payload_keeps_the_headline_and_drops_the_per_episode_rows():
    payload = pointcloud_payload(EVAL, PICK, {"data": "shards"}, "test")
    assert payload["benchmark"] == "grasps_pointcloud" and payload["settings"]["data"] == "shards"
    assert payload["results"]["views"]["partial"]["success_rate"] == 0.5
    assert "per_object" not in payload["results"]["views"]["full"]
    assert payload["results"]["pick"]["flow"]["episodes"] == 2
    assert "per_episode" not in payload["results"]["pick"]["antipodal"]


def test_tables_render_every_view_and_picker(tmp_path):
    paths = []
    for name, doc in (("eval", EVAL), ("pick", PICK), ("prov", {"data": "shards"})):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(doc))
    assert assemble_pointcloud([*map(str, paths), str(tmp_path / "grasps_pointcloud.json"), "test"]) == 0
    assert read_result(tmp_path / "grasps_pointcloud.json")["label"] == "test"
    text = "<!-- results:grasps_pointcloud/views -->\n<!-- /results -->\n"
    text += "<!-- results:grasps_pointcloud/pick -->\n<!-- /results -->\n"
    out = render_text(text, tmp_path)
    assert "| full | 3 | 0.600 | 0.800 | 0.750 | 0.700 | 0.0700 | -11.50 | 12345 |" in out
    assert "| partial | 3 | 0.500 |" in out
    assert "| flow | 2 | 0.500 | 0.100–0.900 | 0.000 |" in out
    assert "| antipodal | 2 | 1.000 | 0.300–1.000 | 0.500 |" in out
