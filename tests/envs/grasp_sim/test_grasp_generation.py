import h5py
import numpy as np
import pytest
from robo_flows_envs.grasping.dataset import generate_grasp_dataset
from robo_flows_envs.grasping.objects import DESCRIPTOR_DIM, parse_object_spec

from robo_flows.cli import main as robo_flows_main
from robo_flows.data.grasps import read_grasp_file


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("grasps") / "g.h5"
    summary = generate_grasp_dataset(path, seed=7, objects=3, grasps_per_object=5, workers=1)
    return path, summary


def test_file_round_trips(dataset):
    path, summary = dataset
    d = read_grasp_file(path)
    with h5py.File(path, "r") as f:
        attrs = dict(f.attrs)
    assert (attrs["format_version"], attrs["kind"], attrs["seed"]) == (1, "grasps", 7)
    assert d.object_descriptor.shape == (3, DESCRIPTOR_DIM) == (3, attrs["descriptor_dim"])
    assert d.rotations.shape == (15, 3, 3) and d.rotations.dtype == np.float32
    assert d.translations.shape == (15, 3) and d.success.dtype == bool
    np.testing.assert_array_equal(d.object_index, np.repeat(np.arange(3), 5))
    assert summary["grasps"] == 15
    assert summary["success_rate"] == pytest.approx(d.success.mean())
    for kind, dims, descriptor in zip(d.object_kind, d.object_dims, d.object_descriptor, strict=True):
        p = parse_object_spec(f"{kind}:" + ",".join(str(v) for v in dims[dims > 0]))
        np.testing.assert_allclose(descriptor[3:], dims, rtol=1e-6)
        assert p.kind == kind


def test_same_seed_gives_the_same_file(dataset, tmp_path):
    path, _ = dataset
    generate_grasp_dataset(tmp_path / "again.h5", seed=7, objects=3, grasps_per_object=5, workers=1)
    a, b = read_grasp_file(path), read_grasp_file(tmp_path / "again.h5")
    for key in ("object_dims", "rotations", "translations", "success"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_existing_file_is_not_overwritten_without_force(dataset):
    path, _ = dataset
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="force"):
        generate_grasp_dataset(path, seed=8, objects=1, grasps_per_object=1, workers=1)
    assert path.read_bytes() == before


def test_force_overwrites(tmp_path):
    path = tmp_path / "g.h5"
    path.write_bytes(b"old")
    generate_grasp_dataset(path, seed=1, objects=1, grasps_per_object=2, workers=1, force=True)
    assert read_grasp_file(path).success.shape == (2,)
    assert [p.name for p in tmp_path.iterdir()] == ["g.h5"]  # no temp file left behind


def test_reader_names_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_grasp_file(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        read_grasp_file(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "demos.h5", "w") as f:
        f.create_group("data")
    with pytest.raises(ValueError, match="expected a 'grasps' file"):
        read_grasp_file(tmp_path / "demos.h5")
    with h5py.File(tmp_path / "v2.h5", "w") as f:
        f.attrs.update(kind="grasps", format_version=2)
    with pytest.raises(ValueError, match="format_version=2"):
        read_grasp_file(tmp_path / "v2.h5")


def test_command_line_writes_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "cli.h5"
    args = [
        "grasps",
        "generate",
        "--out",
        str(out),
        "--seed",
        "2",
        "--objects",
        "2",
        "--grasps-per-object",
        "3",
    ]
    assert robo_flows_main([*args, "--workers", "1"]) == 0
    assert read_grasp_file(out).success.shape == (6,)
    assert robo_flows_main(args) == 2
    assert "exists; pass force=True (--force)" in capsys.readouterr().err
