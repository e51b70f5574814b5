"""Camera images in demo files: chunked, compressed round trips; lazy windows equal eager reads; the bounded
LRU cache; one read per distinct frame per batch; DataLoader workers; refusals naming the key."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from robo_flows.data import DemoDataset, read_demo_file, write_demo_file
from robo_flows.data.image_windows import HDF5Frames, ImageWindows, is_image_key, split_keys
from robo_flows.data.windows import window_indices
from robo_flows.errors import DataError

H, W = 12, 10
LENGTHS = [5, 3, 7, 4]


def _frames(i: int, length: int, camera: int) -> np.ndarray:
    """uint8 [T, H, W, 3] whose pixels encode (demo, step, camera, row, column): every frame differs."""
    t = np.arange(length)[:, None, None, None]
    r = np.arange(H)[None, :, None, None]
    c = np.arange(W)[None, None, :, None]
    ch = np.arange(3)[None, None, None, :]
    return ((40 * i + 7 * t + 3 * r + 5 * c + 11 * ch + 101 * camera) % 256).astype(np.uint8)


def _episode(i: int, length: int) -> dict:
    t = np.arange(length, dtype=np.float32)
    return {
        "obs": {
            "pos": np.stack([np.full(length, i), t], 1),
            "agentview_image": _frames(i, length, 0),
            "eye_in_hand_image": _frames(i, length, 1),
        },
        "actions": np.stack([100 * i + t, t], 1),
    }


@pytest.fixture
def image_path(tmp_path):
    env_args = {"env_name": "Toy-v0", "env_kwargs": {"obs_mode": "state+rgb"}, "obs_layout": {"pos": 2}}
    return write_demo_file(
        tmp_path / "images.hdf5", [_episode(i, n) for i, n in enumerate(LENGTHS)], env_args
    )


KEYS = ["pos", "agentview_image", "eye_in_hand_image"]


def test_image_keys_are_recognised_in_both_namings():
    assert is_image_key("agentview_image") and is_image_key("observation.images.top")
    assert not is_image_key("ee_pos") and not is_image_key("observation.state")
    assert split_keys(["a_image", "pos", "b_image", "vel"]) == (["pos", "vel"], ["a_image", "b_image"])


def test_image_demo_file_round_trips_chunked_and_compressed(image_path):
    with h5py.File(image_path, "r") as f:
        ds = f["data/demo_2/obs/agentview_image"]
        assert ds.dtype == np.uint8 and ds.shape == (7, H, W, 3)
        assert ds.chunks == (1, H, W, 3) and ds.compression is not None
        np.testing.assert_array_equal(ds[()], _frames(2, 7, 0))
        assert f["data/demo_2/obs/pos"].dtype == np.float32
    demo_file = read_demo_file(image_path, KEYS)
    assert demo_file.state_keys == ["pos"] and demo_file.image_keys == KEYS[1:]
    assert demo_file.image_shapes == {"agentview_image": (H, W, 3), "eye_in_hand_image": (H, W, 3)}
    assert demo_file.episodes[2].obs.shape == (7, 2)  # state only, images stay in the file
    np.testing.assert_array_equal(
        demo_file.frames.frames("demo_2", "eye_in_hand_image", np.array([1, 4])), _frames(2, 7, 1)[[1, 4]]
    )


def test_lazy_windows_equal_eager_reads(image_path):
    ds = DemoDataset(image_path, KEYS, obs_horizon=3, action_horizon=2, split="all", image_cache_mb=0.01)
    obs_idx, _ = window_indices(LENGTHS, 3, 2)
    eager = {
        key: np.concatenate([_frames(i, n, cam) for i, n in enumerate(LENGTHS)])
        for cam, key in enumerate(KEYS[1:])
    }
    for index in [0, 1, 4, 5, 9, len(ds) - 1]:
        item = ds[index]
        assert item["obs"]["state"].shape == (3, 2) and item["obs"]["state"].dtype == torch.float32
        for key in KEYS[1:]:
            assert item["obs"][key].dtype == torch.uint8 and item["obs"][key].shape == (3, H, W, 3)
            np.testing.assert_array_equal(item["obs"][key].numpy(), eager[key][obs_idx[index]])
    batch = ds.__getitems__(list(range(len(ds))))
    for index, item in enumerate(batch):
        np.testing.assert_array_equal(
            item["obs"]["agentview_image"].numpy(), eager["agentview_image"][obs_idx[index]]
        )


def test_a_batch_reads_each_distinct_frame_once_and_the_cache_is_bounded(image_path):
    ds = DemoDataset(image_path, KEYS, obs_horizon=2, split="all", image_cache_mb=0)
    ds.__getitems__(list(range(len(ds))))  # 19 windows of 2 frames overlap: 19 distinct frames per key
    assert ds.images.reads == 2 * sum(LENGTHS)
    frame_bytes = H * W * 3
    one_camera = KEYS[:2]
    cached = DemoDataset(
        image_path, one_camera, obs_horizon=2, split="all", image_cache_mb=5 * frame_bytes / 1e6
    )
    cached.__getitems__(list(range(len(cached))))
    assert 0 < cached.images.cached_bytes <= 5 * frame_bytes
    before = cached.images.reads
    cached.__getitems__([len(cached) - 1])  # the most recent frames are still cached
    assert cached.images.reads == before
    big = DemoDataset(image_path, KEYS, obs_horizon=2, split="all")
    big.__getitems__(list(range(len(big))))
    before = big.images.reads
    big.__getitems__(list(range(len(big))))  # everything cached: no second read
    assert big.images.reads == before


def test_cache_evicts_least_recently_used_frames():
    class Counting:
        def __init__(self):
            self.asked = []

        def frames(self, episode, key, steps):
            self.asked.append((episode, tuple(steps.tolist())))
            return np.full((len(steps), 1, 1, 3), steps[:, None, None, None], dtype=np.uint8)

        def close(self):
            pass

    source = Counting()
    windows = ImageWindows(source, ["k_image"], ["e0"], [10], {"k_image": (1, 1, 3)}, cache_mb=2 * 3 / 1e6)
    windows.gather(np.array([0, 1]))
    windows.gather(np.array([0]))  # 0 becomes the most recent
    windows.gather(np.array([2]))  # evicts 1
    out = windows.gather(np.array([0, 1]))
    assert source.asked == [("e0", (0, 1)), ("e0", (2,)), ("e0", (1,))]
    assert out["k_image"][:, 0, 0, 0].tolist() == [0, 1]


def test_dataloader_with_workers_reads_images(image_path):
    ds = DemoDataset(image_path, KEYS, obs_horizon=2, split="all")
    loader = DataLoader(ds, batch_size=8, shuffle=False, num_workers=2)
    batches = list(loader)
    images = torch.cat([b["obs"]["agentview_image"] for b in batches])
    assert images.shape == (len(ds), 2, H, W, 3)
    np.testing.assert_array_equal(images[len(ds) - 1, -1].numpy(), _frames(3, 4, 0)[-1])
    assert ds.images.reads == 0  # the workers read, each with its own handle; the parent never opened it


def test_hdf5_frames_reopen_after_pickling(image_path):
    import pickle

    source = HDF5Frames(str(image_path))
    first = source.frames("demo_0", "agentview_image", np.array([0]))
    copy = pickle.loads(pickle.dumps(source))
    np.testing.assert_array_equal(copy.frames("demo_0", "agentview_image", np.array([0])), first)
    with pytest.raises(DataError, match="increasing distinct steps"):
        source.frames("demo_0", "agentview_image", np.array([2, 1]))
    source.close()


def test_current_observations_read_no_image(image_path):
    ds = DemoDataset(image_path, KEYS, obs_horizon=2, split="all")
    current = ds.current_observations()
    assert current.shape == (len(ds), 2) and ds.images.reads == 0
    assert current[6].tolist() == [1.0, 1.0]  # demo_1 step 1


def test_writer_refuses_non_uint8_or_misshaped_images(tmp_path):
    bad = _episode(0, 3)
    bad["obs"]["agentview_image"] = bad["obs"]["agentview_image"].astype(np.float32)
    with pytest.raises(DataError, match="agentview_image must be uint8"):
        write_demo_file(tmp_path / "a.hdf5", [bad])
    flat = _episode(0, 3)
    flat["obs"]["agentview_image"] = flat["obs"]["agentview_image"].reshape(3, -1)
    with pytest.raises(DataError, match=r"agentview_image must be uint8 \[T, H, W, 3\]"):
        write_demo_file(tmp_path / "b.hdf5", [flat])
    assert not (tmp_path / "a.hdf5").exists() and not (tmp_path / "b.hdf5").exists()


def test_reader_refuses_images_of_changing_size_or_missing_key(tmp_path, image_path):
    small = _episode(1, 3)
    small["obs"]["agentview_image"] = small["obs"]["agentview_image"][:, :6]
    path = write_demo_file(tmp_path / "sizes.hdf5", [_episode(0, 4), small])
    with pytest.raises(DataError, match=r"demo 'demo_1' obs/agentview_image has frames of \[6, 10, 3\]"):
        read_demo_file(path, ["pos", "agentview_image"])
    with pytest.raises(DataError, match="'wrist_image' not found"):
        read_demo_file(image_path, ["pos", "wrist_image"])
    with pytest.raises(DataError, match="hold no state key"):
        read_demo_file(image_path, ["agentview_image"])
