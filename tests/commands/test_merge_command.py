"""``robo-flows merge`` on files written by the real collector: the merge is the inputs' concatenation (every
array, attribute and image dataset), and inputs that do not fit together, damaged inputs and an output that
is an input are refused in one line before anything is written or removed (``--force`` included)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from command_toys import error_line

from robo_flows.commands import main
from robo_flows.data import read_demo_file
from robo_flows.data.merge import plan_merge

pytest.importorskip("pybullet")

ENV = "RoboFlows/PandaReach-v0"
CAMERA = {"obs_mode": "rgb", "cameras": ["agentview"], "camera_width": 32, "camera_height": 32}
OLD = b"the previous merge"


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> tuple[Path, Path]:
    """Two episodes clean (seeds 0, 1) and two with action noise 0.1 (seeds 100, 101), camera included."""
    from robo_flows_envs.collect import collect_demos

    folder = tmp_path_factory.mktemp("collected")
    clean, noisy = folder / "clean.hdf5", folder / "noisy.hdf5"
    collect_demos(ENV, 2, 0, clean, progress=False, env_kwargs=CAMERA)
    collect_demos(ENV, 2, 100, noisy, progress=False, env_kwargs=CAMERA, action_noise=0.1)
    return clean, noisy


def _demos(f: h5py.File) -> list[h5py.Group]:
    return [f["data"][f"demo_{i}"] for i in range(len(f["data"]))]


def _datasets(group: h5py.Group) -> dict[str, h5py.Dataset]:
    found: dict[str, h5py.Dataset] = {}

    def visit(name: str, item: h5py.HLObject) -> None:
        if isinstance(item, h5py.Dataset):
            found[name] = item

    group.visititems(visit)
    return found


def test_merge_is_the_concatenation_of_its_inputs(collected, tmp_path, capsys):
    clean, noisy = collected
    out = tmp_path / "merged.hdf5"
    assert main(["merge", str(clean), str(noisy), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    with h5py.File(clean) as a, h5py.File(noisy) as b, h5py.File(out) as m:
        sources = [(clean, a, d) for d in _demos(a)] + [(noisy, b, d) for d in _demos(b)]
        merged = _demos(m)
        assert [d.name for d in merged] == [f"/data/demo_{i}" for i in range(4)]
        assert summary["demos"] == 4 and summary["samples"] == m["data"].attrs["total"]
        assert m["data"].attrs["total"] == sum(len(d["actions"]) for _, _, d in sources)
        for (path, source_file, source), demo in zip(sources, merged, strict=True):
            theirs, ours = _datasets(source), _datasets(demo)
            assert theirs.keys() == ours.keys()
            for key, ds in theirs.items():
                assert ours[key].dtype == ds.dtype and np.array_equal(ours[key][()], ds[()]), key
                assert (ours[key].chunks, ours[key].compression) == (ds.chunks, ds.compression), key
            noise = source_file["data"].attrs["action_noise"]
            assert dict(demo.attrs) == {
                **source.attrs,
                "action_noise": noise,
                "source_file": str(path),
                "source_demo": source.name.rpartition("/")[2],
            }
        env_args = json.loads(m["data"].attrs["env_args"])
        clean_args = json.loads(a["data"].attrs["env_args"])
        # action_noise differs between the inputs: it moved to the demos; the rest is the inputs' own
        assert env_args == {k: v for k, v in clean_args.items() if k != "action_noise"}
        assert "action_noise" not in m["data"].attrs
        merged_from = json.loads(m["data"].attrs["merged_from"])
        assert [(s["file"], s["demos"], s["attrs"]["action_noise"]) for s in merged_from] == [
            (str(clean), 2, 0.0),
            (str(noisy), 2, 0.1),
        ]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    demo_file = read_demo_file(out, ["ee_pos", "agentview_image"])
    assert [e.name for e in demo_file.episodes] == [f"demo_{i}" for i in range(4)]
    assert demo_file.image_shapes == {"agentview_image": (32, 32, 3)}


def _copy(source: Path, tmp_path: Path, name: str = "other.hdf5") -> Path:
    target = tmp_path / name
    shutil.copyfile(source, target)
    return target


def _other_kwargs(f: h5py.File) -> None:
    env_args = json.loads(f["data"].attrs["env_args"])
    env_args["env_kwargs"]["camera_width"] = 48
    f["data"].attrs["env_args"] = json.dumps(env_args)


def _other_env(f: h5py.File) -> None:
    env_args = json.loads(f["data"].attrs["env_args"])
    env_args["env_name"] = "RoboFlows/PandaPush-v0"
    f["data"].attrs["env_args"] = json.dumps(env_args)


def _obs_key_missing(f: h5py.File) -> None:
    del f["data/demo_1/obs/ee_vel"]


def _image_dtype(f: h5py.File) -> None:
    images = f["data/demo_0/obs/agentview_image"][()]
    del f["data/demo_0/obs/agentview_image"]
    f["data/demo_0/obs/agentview_image"] = images.astype(np.float32)


def _action_dim(f: h5py.File) -> None:
    actions = f["data/demo_0/actions"][()]
    del f["data/demo_0/actions"]
    f["data/demo_0/actions"] = actions[:, :3]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_other_kwargs, "env_args['env_kwargs'] is"),
        (_other_env, "env_args['env_name'] is \"RoboFlows/PandaPush-v0\""),
        (_obs_key_missing, "demo 'demo_1' has obs keys"),
        (_image_dtype, "obs/agentview_image is float32 [32, 32, 3] per step"),
        (_action_dim, "actions are float32 [3] per step"),
    ],
)
def test_inputs_that_do_not_fit_are_refused_naming_file_and_mismatch(
    collected, tmp_path, capsys, change, expected
):
    clean, noisy = collected
    other = _copy(noisy, tmp_path)
    with h5py.File(other, "r+") as f:
        change(f)
    out = tmp_path / "merged.hdf5"
    out.write_bytes(OLD)
    assert main(["merge", str(clean), str(other), "--out", str(out), "--force"]) == 2
    line = error_line(capsys.readouterr().err, "merge")
    assert f"{other}" in line and expected in line
    assert out.read_bytes() == OLD  # --force removed nothing: the inputs were checked first


def _truncated(source: Path, path: Path) -> None:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _not_hdf5(source: Path, path: Path) -> None:
    path.write_text("ee_pos,ee_vel\n0,0\n")


@pytest.mark.parametrize("damage", [_truncated, _not_hdf5])
def test_a_damaged_input_is_refused_naming_it(collected, tmp_path, capsys, damage):
    clean, _ = collected
    bad = tmp_path / "bad.hdf5"
    damage(clean, bad)
    out = tmp_path / "merged.hdf5"
    out.write_bytes(OLD)
    assert main(["merge", str(clean), str(bad), "--out", str(out), "--force"]) == 2
    assert str(bad) in error_line(capsys.readouterr().err, "merge")
    assert out.read_bytes() == OLD


def test_an_output_that_is_an_input_or_exists_is_refused(collected, tmp_path, capsys):
    clean, noisy = collected
    target = _copy(noisy, tmp_path, "noisy.hdf5")
    before = target.read_bytes()
    assert main(["merge", str(clean), str(target), "--out", str(target), "--force"]) == 2
    assert "is one of the inputs" in error_line(capsys.readouterr().err, "merge")
    assert target.read_bytes() == before
    out = tmp_path / "merged.hdf5"
    out.write_bytes(OLD)
    assert main(["merge", str(clean), str(noisy), "--out", str(out)]) == 2
    assert "--force" in error_line(capsys.readouterr().err, "merge")
    assert out.read_bytes() == OLD
    assert main(["merge", str(clean), str(noisy), "--out", str(out), "--force"]) == 0
    with h5py.File(out) as f:
        assert f["data"].attrs["total"] == plan_merge([clean, noisy]).samples


def _with_masks(source: Path, path: Path, train: list[str], valid: list[str]) -> Path:
    shutil.copyfile(source, path)
    with h5py.File(path, "r+") as f:
        f["mask/train"] = np.array([n.encode() for n in train], dtype="S")
        f["mask/valid"] = np.array([n.encode() for n in valid], dtype="S")
    return path


def test_mask_splits_are_renamed_with_their_demos_or_refused_when_only_some_files_have_them(
    collected, tmp_path, capsys
):
    clean, noisy = collected
    a = _with_masks(clean, tmp_path / "a.hdf5", ["demo_0"], ["demo_1"])
    b = _with_masks(noisy, tmp_path / "b.hdf5", ["demo_1"], ["demo_0"])
    out = tmp_path / "merged.hdf5"
    assert main(["merge", str(a), str(b), "--out", str(out)]) == 0
    masks = read_demo_file(out, ["ee_pos"]).masks
    assert masks == {"train": ["demo_0", "demo_3"], "valid": ["demo_1", "demo_2"]}
    capsys.readouterr()
    assert main(["merge", str(a), str(noisy), "--out", str(tmp_path / "mixed.hdf5")]) == 2
    line = error_line(capsys.readouterr().err, "merge")
    assert f"{noisy} has mask splits []" in line and "same splits" in line
    assert not (tmp_path / "mixed.hdf5").exists()
