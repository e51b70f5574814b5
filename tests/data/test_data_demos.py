"""DemoDataset: windowing and padding at episode edges, splits, obs keys, errors naming the missing key."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from robo_flows.data import DemoDataset, read_demo_file, split_episodes, write_demo_file
from robo_flows.errors import DataError


def _episode(i: int, length: int) -> dict:
    """obs 'pos' [T, 2] = (i, t), obs 'img' [T, 2, 2] = t, actions [T, 3] = 100 i + t (easy to locate)."""
    t = np.arange(length, dtype=np.float32)
    return {
        "obs": {"pos": np.stack([np.full(length, i), t], 1), "img": np.tile(t[:, None, None], (1, 2, 2))},
        "actions": np.stack([100 * i + t, t, -t], 1),
    }


@pytest.fixture
def demo_path(tmp_path):
    episodes = [_episode(i, n) for i, n in enumerate([5, 3, 7, 4, 6, 2, 5, 4, 3, 6])]
    env_args = {"env_name": "Toy-v0", "env_kwargs": {}, "obs_layout": {"pos": 2, "img": 4}}
    return write_demo_file(tmp_path / "demos.hdf5", episodes, env_args)


def test_windows_repeat_first_obs_before_start_and_last_action_after_end(demo_path):
    ds = DemoDataset(demo_path, obs_keys=["pos"], obs_horizon=3, action_horizon=4, split="all")
    first = ds[0]  # demo_0 step 0
    assert first["obs"].shape == (3, 2) and first["actions"].shape == (4, 3)
    assert first["obs"][:, 1].tolist() == [0, 0, 0]
    assert first["actions"][:, 0].tolist() == [0, 1, 2, 3]
    last = ds[4]  # demo_0 step 4 (of 5)
    assert last["obs"][:, 1].tolist() == [2, 3, 4]
    assert last["actions"][:, 0].tolist() == [4, 4, 4, 4]
    nxt = ds[5]  # demo_1 step 0: never reads demo_0
    assert nxt["obs"][:, 0].tolist() == [1, 1, 1]
    assert nxt["actions"][:, 0].tolist() == [100, 101, 102, 102]


def test_one_window_per_step_and_raw_float32(demo_path):
    ds = DemoDataset(demo_path, split="all", action_horizon=2)
    assert len(ds) == 45
    item = ds[7]
    assert item["obs"].dtype == torch.float32 and item["actions"].dtype == torch.float32


def test_default_obs_keys_follow_obs_layout_and_flatten_per_step(demo_path):
    ds = DemoDataset(demo_path, split="all")
    assert ds.obs_keys == ["pos", "img"]
    assert ds.obs_dim == 6 and ds.act_dim == 3
    assert ds.env_args["env_name"] == "Toy-v0"
    assert ds[2]["obs"][0].tolist() == [0, 2, 2, 2, 2, 2]


def test_default_obs_keys_sorted_without_layout(tmp_path):
    path = write_demo_file(tmp_path / "d.hdf5", [_episode(0, 4)])
    assert DemoDataset(path, split="all").obs_keys == ["img", "pos"]


def test_missing_obs_key_error_names_it_and_lists_available(demo_path):
    with pytest.raises(DataError, match=r"'vel'.*available keys: \['img', 'pos'\]"):
        DemoDataset(demo_path, obs_keys=["pos", "vel"])


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.hdf5"):
        DemoDataset(tmp_path / "nope.hdf5")


def test_non_finite_values_are_rejected(tmp_path):
    path = write_demo_file(tmp_path / "nan.hdf5", [_episode(0, 4)])
    with h5py.File(path, "r+") as f:  # a file damaged after writing (our writer refuses NaN)
        f["data/demo_0/actions"][2, 1] = np.nan
    with pytest.raises(DataError, match="demo_0.*non-finite"):
        DemoDataset(path)


def test_seeded_split_is_disjoint_reproducible_and_covers_all(demo_path):
    train = DemoDataset(demo_path, split="train", valid_fraction=0.3, split_seed=4)
    valid = DemoDataset(demo_path, split="valid", valid_fraction=0.3, split_seed=4)
    assert len(valid.episodes) == 3
    assert set(train.episodes).isdisjoint(valid.episodes)
    assert set(train.episodes) | set(valid.episodes) == {f"demo_{i}" for i in range(10)}
    assert DemoDataset(demo_path, split="valid", valid_fraction=0.3, split_seed=4).episodes == valid.episodes
    other = {
        tuple(DemoDataset(demo_path, split="valid", valid_fraction=0.3, split_seed=s).episodes)
        for s in range(6)
    }
    assert len(other) > 1


def test_split_follows_file_mask(tmp_path):
    episodes = [_episode(i, 3) for i in range(4)]
    path = write_demo_file(tmp_path / "m.hdf5", episodes, masks={"valid": ["demo_2"]})
    assert DemoDataset(path, split="valid", valid_fraction=0.5).episodes == ["demo_2"]
    assert DemoDataset(path, split="train", valid_fraction=0.5).episodes == ["demo_0", "demo_1", "demo_3"]


def test_mask_with_unknown_demo_is_rejected():
    with pytest.raises(DataError, match="demo_9"):
        split_episodes(["demo_0", "demo_1"], {"train": ["demo_9"]}, 0.1, 0)


def test_small_valid_fraction_still_holds_out_one_episode():
    split = split_episodes(["a", "b", "c"], {}, 0.01, 0)
    assert len(split["valid"]) == 1 and len(split["train"]) == 2
    assert split_episodes(["a", "b"], {}, 0.0, 0)["valid"] == []


def test_demos_are_read_in_natural_order(tmp_path):
    path = write_demo_file(tmp_path / "n.hdf5", [_episode(i, 2) for i in range(12)])
    assert [ep.name for ep in read_demo_file(path).episodes][9:] == ["demo_9", "demo_10", "demo_11"]


def test_fit_normalizers_uses_every_step_of_the_split(demo_path):
    ds = DemoDataset(demo_path, obs_keys=["pos"], split="train")
    obs_norm, act_norm = ds.fit_normalizers("meanstd")
    episodes = [ep for ep in read_demo_file(demo_path, ["pos"]).episodes if ep.name in ds.episodes]
    obs, actions = (
        np.concatenate([ep.obs for ep in episodes]),
        np.concatenate([ep.actions for ep in episodes]),
    )
    assert torch.allclose(obs_norm.shift, torch.from_numpy(obs).double().mean(0).float())
    assert torch.allclose(act_norm.scale, torch.from_numpy(actions).double().std(0, unbiased=False).float())


def test_write_refuses_to_overwrite(demo_path):
    with pytest.raises(FileExistsError):
        write_demo_file(demo_path, [_episode(0, 2)])


def test_splits_read_the_file_once_and_match_the_datasets_of_the_path(demo_path, monkeypatch):
    import robo_flows.data.demos as demos

    reads = []
    real = demos.read_demo_file
    monkeypatch.setattr(demos, "read_demo_file", lambda *a: reads.append(a) or real(*a))
    train, valid = DemoDataset.splits(demo_path, obs_horizon=2, action_horizon=3, valid_fraction=0.3)
    assert len(reads) == 1 and train.demo_file is valid.demo_file
    monkeypatch.undo()
    alone = DemoDataset(demo_path, split="valid", obs_horizon=2, action_horizon=3, valid_fraction=0.3)
    assert valid.episodes == alone.episodes and len(valid) == len(alone)
    assert all(torch.equal(valid[i]["actions"], alone[i]["actions"]) for i in range(len(alone)))
    with pytest.raises(ValueError, match="differ from the read file"):
        DemoDataset(train.demo_file, obs_keys=["img"])
