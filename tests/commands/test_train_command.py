"""``robo-flows train`` through its real entry point: bad input is one line on stderr and exit status 2, and
nothing is written (or removed) before the config, the data file and the model were checked."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from command_toys import error_line, write_reach_demos

from robo_flows.commands import main


def _copy(demos: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demos.hdf5"
    shutil.copy(demos, path)
    return path


def _edit(edit: Callable[[h5py.File], None]) -> Callable[[Path, Path], Path]:
    def make(demos: Path, tmp_path: Path) -> Path:
        path = _copy(demos, tmp_path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    return make


def _not_hdf5(demos: Path, tmp_path: Path) -> Path:
    path = tmp_path / "notes.hdf5"
    path.write_text("not an HDF5 file\n")
    return path


def _nan_obs(f: h5py.File) -> None:
    f["data/demo_1/obs/pos"][0, 0] = np.nan


def _no_demos(f: h5py.File) -> None:
    for name in list(f["data"].keys()):
        del f["data"][name]


def _short_actions(f: h5py.File) -> None:
    actions = f["data/demo_0/actions"][:-1]
    del f["data/demo_0/actions"]
    f["data/demo_0"].create_dataset("actions", data=actions)


def _no_data_group(f: h5py.File) -> None:
    f.move("data", "episodes")


BAD_DATA = {
    "missing file": (lambda demos, tmp: tmp / "missing.hdf5", "does not exist"),
    "not an HDF5 file": (_not_hdf5, "notes.hdf5"),
    "no data group": (_edit(_no_data_group), "no 'data' group"),
    "zero demos": (_edit(_no_demos), "no demos"),
    "missing actions": (_edit(lambda f: f["data/demo_0"].pop("actions")), "actions"),
    "NaN in obs": (_edit(_nan_obs), "non-finite"),
    "length mismatch": (_edit(_short_actions), "demo_0"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_is_one_line_exit_2_and_nothing_is_written(case, demos, preset, tmp_path, capsys):
    make, expected = BAD_DATA[case]
    data = make(demos, tmp_path)
    out = tmp_path / "run"
    assert main(["train", "--config", str(preset), f"data.path={data}", "--out", str(out)]) == 2
    assert expected in error_line(capsys.readouterr().err, "train")
    assert not out.exists()


BAD_SETTINGS = {
    "unknown obs key": (["data.obs_keys=pos,velocity"], "velocity"),
    "unknown flow_kind": (["model.kind=flow", "model.flow_kind=glow"], "glow"),
    "batch larger than the data": (["train.batch_size=100000"], "exceeds the"),
    "infinite learning rate": (["train.lr=inf"], "train.lr must be a finite number > 0"),
    "NaN learning rate": (["train.lr=nan"], "train.lr must be a finite number > 0"),
    "zero learning rate": (["train.lr=0"], "train.lr must be a finite number > 0"),
    "NaN temperature": (["sampling.temperature=nan"], "sampling.temperature"),
    "chunk shorter than the receding horizon": (["sampling.n_action_steps=3"], "exceeds data.action_horizon"),
    "unknown key": (["train.stepz=3"], "valid keys of train: steps, epochs, batch_size"),
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_settings_are_one_line_exit_2_and_nothing_is_written(case, preset, tmp_path, capsys):
    overrides, expected = BAD_SETTINGS[case]
    out = tmp_path / "run"
    assert main(["train", "--config", str(preset), *overrides, "--out", str(out)]) == 2
    assert expected in error_line(capsys.readouterr().err, "train")
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_cuda_without_cuda_is_refused_before_anything_is_written(preset, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", str(preset), "train.device=cuda", "--out", str(out)]) == 2
    assert "CUDA is not available" in error_line(capsys.readouterr().err, "train")
    assert not out.exists()


def test_a_failed_run_can_be_retried_into_the_same_folder(demos, preset, tmp_path, capsys):
    out = tmp_path / "run"
    missing = tmp_path / "typo.hdf5"
    assert main(["train", "--config", str(preset), f"data.path={missing}", "--out", str(out)]) == 2
    assert main(["train", "--config", str(preset), "--out", str(out)]) == 0
    assert (out / "checkpoints" / "last.pt").is_file() and (out / "config.yaml").is_file()


def test_force_removes_nothing_before_the_config_and_the_data_are_validated(preset, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", str(preset), "--out", str(out)]) == 0
    capsys.readouterr()  # the successful run's progress lines and summary
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "typo.hdf5"
    for overrides in ([f"data.path={bad}"], ["train.lr=inf"], ["train.batch_size=100000"]):
        assert main(["train", "--config", str(preset), *overrides, "--out", str(out), "--force"]) == 2
        error_line(capsys.readouterr().err, "train")
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_non_empty_folder_is_refused_without_force_and_replaced_with_it(preset, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["train", "--config", str(preset), "--out", str(out)]) == 2
    assert "--force" in error_line(capsys.readouterr().err, "train")
    assert (out / "notes.txt").read_text() == "mine"
    assert main(["train", "--config", str(preset), "--out", str(out), "--force"]) == 0
    assert (out / "checkpoints" / "last.pt").is_file() and not (out / "notes.txt").exists()


def test_refused_resume_leaves_the_runs_config_yaml_as_it_was(preset, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", str(preset), "--out", str(out)]) == 0
    capsys.readouterr()  # the successful run's progress lines and summary
    config_yaml = (out / "config.yaml").read_bytes()
    last = (out / "checkpoints" / "last.pt").read_bytes()
    resume = ["train", "--config", str(preset), "train.lr=0.5", "--resume", "--out", str(out)]
    assert main(resume) == 2
    assert "config differs" in error_line(capsys.readouterr().err, "train")
    assert (out / "config.yaml").read_bytes() == config_yaml
    assert (out / "checkpoints" / "last.pt").read_bytes() == last


def test_resume_without_a_checkpoint_and_train_without_a_config_are_refused(preset, tmp_path, capsys):
    assert main(["train", "--config", str(preset), "--resume", "--out", str(tmp_path / "new")]) == 2
    assert "nothing to resume" in error_line(capsys.readouterr().err, "train")
    assert main(["train", "--out", str(tmp_path / "y")]) == 2
    assert "--config is required" in error_line(capsys.readouterr().err, "train")
    assert not (tmp_path / "new").exists() and not (tmp_path / "y").exists()


def test_unknown_preset_names_the_known_ones(tmp_path, capsys):
    assert main(["train", "--config", "detour_flwo", "--out", str(tmp_path / "x")]) == 2
    assert "detour_flow" in error_line(capsys.readouterr().err, "train")


def test_rollout_selection_reads_success_where_train_success_key_says(preset, tmp_path, capsys):
    silent = write_reach_demos(tmp_path / "silent.hdf5", env_kwargs={"success_info": "none"})
    rollouts = [f"data.path={silent}", "train.eval_every=3", "train.eval_episodes=2"]
    rollouts.append("train.select_by=rollout_success")
    args = ["train", "--config", str(preset), *rollouts]
    assert main([*args, "--out", str(tmp_path / "auto")]) == 2
    err = capsys.readouterr().err.splitlines()  # the steps before the first rollout print progress lines
    assert "reports no success signal" in error_line(err[-1], "train")
    assert all(line.startswith("train: ") for line in err[:-1])
    assert main([*args, "train.success_key=reward", "--out", str(tmp_path / "reward")]) == 0
    assert (tmp_path / "reward" / "checkpoints" / "best.pt").is_file()
