import h5py
import numpy as np
import pytest
from robo_flows_envs.grasp_sim.generation import generate_grasp_dataset
from robo_flows_envs.grasp_sim.objects import DESCRIPTOR_DIM, parse_object_spec

from robo_flows.commands import main as robo_flows_main
from robo_flows.data.grasp_file import read_grasp_file


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


def test_command_line_writes_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "cli.h5"
    args = ["grasps", "generate", "--out", str(out), "--seed", "2", "--objects", "2",
            "--grasps-per-object", "3", "--workers", "1"]  # fmt: skip
    assert robo_flows_main(args) == 0
    assert read_grasp_file(out).success.shape == (6,)
    before = out.read_bytes()
    assert robo_flows_main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_bytes() == before
    with pytest.raises(SystemExit, match="2"):  # a bad input: refused by argparse, nothing removed
        robo_flows_main([*args[:-2], "--workers", "0", "--force"])
    assert out.read_bytes() == before
    assert robo_flows_main([*args, "--seed", "3", "--force"]) == 0
    assert out.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["cli.h5"]  # no temp file left behind
