"""``robo-flows convert`` and LeRobot folders through the real entry point: both directions keep every array,
bad input is one line on stderr with exit status 2 and writes nothing, and a flow policy trained on a
collected LeRobot folder is evaluated on the env it came from."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from command_toys import error_line, tiny_config

from robo_flows.commands import main
from robo_flows.data.robomimic import read_demo_records, write_demo_file


def _same_demos(a, b) -> None:
    env_a, _, masks_a, records_a = read_demo_records(a)
    env_b, _, masks_b, records_b = read_demo_records(b)
    assert env_a == env_b and masks_a == masks_b
    for x, y in zip(records_a, records_b, strict=True):
        assert x.obs.keys() == y.obs.keys()
        for key in x.obs:
            assert np.array_equal(x.obs[key], y.obs[key]), key
        for part in ("actions", "rewards", "dones"):
            assert np.array_equal(getattr(x, part), getattr(y, part)), part


def test_convert_both_ways_keeps_the_arrays_and_the_split(demos, tmp_path, capsys):
    env_args, attrs, _, records = read_demo_records(demos)
    masked = write_demo_file(
        tmp_path / "masked.hdf5", records, env_args, masks={"valid": ["demo_2", "demo_5"]}
    )
    folder, back = tmp_path / "lerobot", tmp_path / "back.hdf5"
    assert main(["convert", str(masked), str(folder)]) == 0
    info = json.loads((folder / "meta/info.json").read_text())
    assert info["fps"] == 10  # the toy env's metadata["render_fps"]
    assert info["features"]["observation.state"]["names"] == ["pos.0", "pos.1", "goal.0", "goal.1"]
    assert main(["convert", str(folder), str(back)]) == 0
    printed = capsys.readouterr().out
    assert '"to": "lerobot"' in printed and '"to": "robomimic"' in printed
    _same_demos(masked, back)


def test_an_existing_output_is_kept_without_force_and_replaced_with_it(demos, tmp_path, capsys):
    folder = tmp_path / "lerobot"
    assert main(["convert", str(demos), str(folder), "--fps", "10"]) == 0
    info = (folder / "meta/info.json").read_text()
    capsys.readouterr()
    assert main(["convert", str(demos), str(folder), "--fps", "20"]) == 2
    assert "--force" in error_line(capsys.readouterr().err, "convert")
    assert (folder / "meta/info.json").read_text() == info
    assert main(["convert", str(demos), str(folder), "--fps", "20", "--force"]) == 0
    assert json.loads((folder / "meta/info.json").read_text())["fps"] == 20


def _unknown_env(demos, tmp_path):
    env_args, attrs, _, records = read_demo_records(demos)
    return write_demo_file(tmp_path / "other.hdf5", records, {**env_args, "env_name": "Nowhere/Env-v0"})


def _old_version(demos, tmp_path):
    folder = tmp_path / "old"
    assert main(["convert", str(demos), str(folder), "--fps", "10"]) == 0
    info = json.loads((folder / "meta/info.json").read_text())
    (folder / "meta/info.json").write_text(json.dumps({**info, "codebase_version": "v2.1"}))
    return folder


BAD = {
    "missing input": (lambda demos, tmp: tmp / "missing.hdf5", "does not exist"),
    "unknown frame rate": (_unknown_env, "pass --fps"),
    "LeRobot v2.1": (_old_version, "'v2.1' is not supported, expected 'v3.0'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_writes_nothing(case, demos, tmp_path, capsys):
    make, expected = BAD[case]
    source = make(demos, tmp_path)
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["convert", str(source), str(out)]) == 2
    assert expected in error_line(capsys.readouterr().err, "convert")
    assert not out.exists()


def test_a_flow_policy_trained_on_a_collected_lerobot_folder_runs_on_its_env(tmp_path, capsys):
    folder = tmp_path / "detour"
    env = "RoboFlows/PandaDetour-v0"
    args = [
        "collect",
        "--env",
        env,
        "--episodes",
        "2",
        "--out",
        str(folder),
        "--format",
        "lerobot",
        "--no-progress",
    ]
    assert main(args) == 0
    preset = tiny_config(tmp_path / "tiny.yaml", folder, kind="flow")
    run = tmp_path / "run"
    assert main(["train", "--config", str(preset), "--out", str(run)]) == 0
    out = tmp_path / "eval"
    assert (
        main(["eval", "--checkpoint", str(run / "checkpoints/last.pt"), "--episodes", "1", "--out", str(out)])
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["env"] == env and results["episodes"] == 1 and results["mean_length"] > 0
    shutil.rmtree(folder)  # the checkpoint alone is enough to evaluate again
    assert (
        main(
            [
                "eval",
                "--checkpoint",
                str(run / "checkpoints/last.pt"),
                "--episodes",
                "1",
                "--out",
                str(out),
                "--force",
            ]
        )
        == 0
    )
