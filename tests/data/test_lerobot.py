"""LeRobotDataset v3.0 folders (``robo_flows.data.lerobot``) on real Detour demonstrations.

* collect -> LeRobot -> robomimic gives the arrays collect -> robomimic gives;
* the writer's folders pass an independent validator of the v3.0 fields (written here from the format's
  description with pyarrow, numpy and PyAV, not with the reader under test);
* camera images round trip exactly through PNG and within the h264 error through mp4;
* training on the folder and on the file of the same demos sees the same windows and reaches the same
  validation loss;
* a wrong version, a missing feature, broken indices and a video that does not match its timestamps are
  DataErrors naming the problem; a failed write leaves nothing behind.
"""

from __future__ import annotations

import io
import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import gymnasium as gym
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import robo_flows_envs  # noqa: F401
import torch
from PIL import Image
from robo_flows_envs.collect import collect_demos

from robo_flows.config import PolicyExperimentConfig, load_config
from robo_flows.data import DemoDataset, DemoRecord
from robo_flows.data.lerobot import (
    QUANTILES,
    LeRobotFolder,
    aggregate_stats,
    feature_stats,
    read_lerobot,
    write_lerobot,
)
from robo_flows.data.robomimic import read_demo_records, write_demo_file
from robo_flows.errors import DataError
from robo_flows.training.experiment import train_policy

ENV = "RoboFlows/PandaDetour-v0"
EPISODES = 3
STATS = ("min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99")


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> tuple[Path, Path]:
    """The same 3 Detour episodes collected to a robomimic file and to a LeRobot folder."""
    root = tmp_path_factory.mktemp("collected")
    common = {"progress": False, "action_noise": 0.05}
    collect_demos(ENV, EPISODES, 0, root / "demos.hdf5", **common)
    collect_demos(ENV, EPISODES, 0, root / "lerobot", format="lerobot", **common)
    return root / "demos.hdf5", root / "lerobot"


def _camera_records(episodes: int, steps: int, size: int = 32) -> tuple[list[DemoRecord], dict]:
    """Expert steps of Detour with both cameras (the env's own rendering), as writer records."""
    env = gym.make(ENV, obs_mode="state+rgb", camera_width=size, camera_height=size)
    records = []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        frames: list[dict] = []
        actions = []
        for _ in range(steps):
            action = env.unwrapped.expert_action()
            frames.append(obs)
            actions.append(action)
            obs, *_ = env.step(action)
        stacked = {k: np.stack([f[k] for f in frames]) for k in frames[0]}
        records.append(DemoRecord(obs=stacked, actions=np.asarray(actions), attrs={"seed": seed}))
    layout = dict(env.unwrapped.obs_layout)
    env.close()
    env_args = {"env_name": ENV, "env_kwargs": {"obs_mode": "state+rgb"}, "obs_layout": layout}
    env_args.update(action_low=[-1.0] * 4, action_high=[1.0] * 4)
    return records, env_args


@pytest.fixture(scope="module")
def camera_folders(tmp_path_factory) -> tuple[list[DemoRecord], Path, Path]:
    records, env_args = _camera_records(episodes=2, steps=6)
    root = tmp_path_factory.mktemp("cameras")
    write_lerobot(root / "mp4", records, env_args, fps=25, masks={"valid": ["demo_1"]})
    write_lerobot(root / "png", records, env_args, fps=25, images="png")
    return records, root / "mp4", root / "png"


# ---- an independent validator of the v3.0 fields --------------------------------------------------


def _arrow_matches(arrow_type: pa.DataType, feature: dict) -> bool:
    dtype, shape = feature["dtype"], feature["shape"]
    if dtype == "image":
        return pa.types.is_struct(arrow_type) and {f.name for f in arrow_type} == {"bytes", "path"}
    scalar = {"float32": pa.float32(), "int64": pa.int64(), "bool": pa.bool_()}[dtype]
    if shape == [1]:
        return arrow_type == scalar
    return pa.types.is_fixed_size_list(arrow_type) and arrow_type.list_size == shape[0]


def _mp4_frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(f.pts * stream.time_base) for f in container.decode(stream))


def _stored_frames(root: Path, info: dict, episodes: list[dict], name: str, table: pa.Table) -> np.ndarray:
    """Every frame of image feature ``name`` as stored: PNG cells (PIL) or the mp4 files (PyAV)."""
    if info["features"][name]["dtype"] == "image":
        return np.stack(
            [np.asarray(Image.open(io.BytesIO(c["bytes"]))) for c in table.column(name).to_pylist()]
        )
    frames = []
    for video in sorted(
        {(e[f"videos/{name}/chunk_index"], e[f"videos/{name}/file_index"]) for e in episodes}
    ):
        path = root / info["video_path"].format(video_key=name, chunk_index=video[0], file_index=video[1])
        with av.open(str(path)) as container:
            frames.extend(f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0]))
    return np.stack(frames)


def validate_v3(root: Path) -> None:
    """Assert the v3.0 fields of ``root``: info types, parquet columns, index continuity, episode and video
    pointers, and stats recomputed from the stored values."""
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    for key in ("total_episodes", "total_frames", "total_tasks", "chunks_size", "fps"):
        assert type(info[key]) is int and info[key] > 0, key
    assert all(isinstance(v, str) and len(v.split(":")) == 2 for v in info["splits"].values())
    features = info["features"]
    for name, dtype in {
        "timestamp": "float32",
        **dict.fromkeys(("frame_index", "episode_index"), "int64"),
    }.items():
        assert features[name] == {"dtype": dtype, "shape": [1], "names": None}
    for name in ("index", "task_index"):
        assert features[name]["dtype"] == "int64" and features[name]["shape"] == [1]
    for name, feature in features.items():
        assert feature["dtype"] in ("float32", "int64", "bool", "image", "video"), name
        assert all(type(n) is int for n in feature["shape"]), name
        names = feature["names"]
        assert names is None or (
            isinstance(names, list) and len(names) == int(np.prod(feature["shape"][-1:]))
        )
    videos = [k for k, f in features.items() if f["dtype"] == "video"]
    assert (info["video_path"] is None) == (not videos)
    # data: columns and types, global index continuous, frame_index / timestamp per episode
    data_files = sorted(root.glob("data/chunk-*/file-*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in data_files])
    assert set(table.column_names) == {k for k, f in features.items() if f["dtype"] != "video"}
    for name in table.column_names:
        assert _arrow_matches(table.schema.field(name).type, features[name]), name
    assert table.num_rows == info["total_frames"]
    index = table.column("index").to_numpy()
    assert np.array_equal(index, np.arange(info["total_frames"]))
    # episodes: contiguous [from, to), lengths, pointers to data rows and video segments
    episodes = pa.concat_tables(
        [pq.read_table(f) for f in sorted(root.glob("meta/episodes/chunk-*/file-*.parquet"))]
    ).to_pylist()
    assert [e["episode_index"] for e in episodes] == list(range(info["total_episodes"]))
    assert sum(e["length"] for e in episodes) == info["total_frames"]
    episode_index = table.column("episode_index").to_numpy()
    frame_index = table.column("frame_index").to_numpy()
    timestamp = table.column("timestamp").to_numpy()
    end = 0
    for e in episodes:
        assert e["dataset_from_index"] == end and e["dataset_to_index"] == end + e["length"]
        rows = slice(e["dataset_from_index"], e["dataset_to_index"])
        end = e["dataset_to_index"]
        assert (episode_index[rows] == e["episode_index"]).all()
        assert np.array_equal(frame_index[rows], np.arange(e["length"]))
        assert np.array_equal(timestamp[rows], (np.arange(e["length"]) / info["fps"]).astype(np.float32))
        data_file = root / info["data_path"].format(
            chunk_index=e["data/chunk_index"], file_index=e["data/file_index"]
        )
        assert data_file.is_file()
    for key in videos:
        starts = {}
        for e in episodes:
            video = root / info["video_path"].format(
                video_key=key,
                chunk_index=e[f"videos/{key}/chunk_index"],
                file_index=e[f"videos/{key}/file_index"],
            )
            start, stop = e[f"videos/{key}/from_timestamp"], e[f"videos/{key}/to_timestamp"]
            assert stop - start == pytest.approx(e["length"] / info["fps"])
            assert start == pytest.approx(starts.get(video, 0.0))  # segments follow each other in a file
            starts[video] = stop
        for video, stop in starts.items():
            times = _mp4_frame_times(video)
            assert np.allclose(times, np.arange(round(stop * info["fps"])) / info["fps"], atol=1e-4)
    # stats: stats.json and the per-episode columns agree with values recomputed from the stored data
    stats = json.loads((root / "meta/stats.json").read_text())
    assert set(stats) == set(features)
    for name, feature in features.items():
        assert set(stats[name]) == set(STATS), name
        assert stats[name]["count"] == [info["total_frames"]]
        if feature["dtype"] in ("image", "video"):
            for stat in STATS[:4]:
                value = np.asarray(stats[name][stat])
                assert value.shape == (3, 1, 1) and (value >= 0).all() and (value <= 1).all()
            pixels = _stored_frames(root, info, episodes, name, table).reshape(-1, 3) / 255.0
            tolerance = 1e-6 if feature["dtype"] == "image" else 0.01  # mp4: the frames before encoding
            assert np.allclose(
                np.asarray(stats[name]["mean"]).reshape(-1), pixels.mean(axis=0), atol=tolerance
            )
            assert np.allclose(np.asarray(stats[name]["std"]).reshape(-1), pixels.std(axis=0), atol=tolerance)
            continue
        column = table.column(name).combine_chunks()
        values = (
            np.asarray(column.flatten()).reshape(len(column), -1)
            if feature["shape"] != [1]
            else np.asarray(column)
        ).astype(np.float64)
        values = values.reshape(len(values), -1)
        assert np.allclose(np.asarray(stats[name]["mean"]).reshape(-1), values.mean(axis=0), atol=1e-6)
        assert np.allclose(np.asarray(stats[name]["std"]).reshape(-1), values.std(axis=0), atol=1e-6)
        assert np.allclose(np.asarray(stats[name]["min"]).reshape(-1), values.min(axis=0))
        assert np.allclose(np.asarray(stats[name]["max"]).reshape(-1), values.max(axis=0))
        for e in episodes:
            rows = values[e["dataset_from_index"] : e["dataset_to_index"]]
            assert e[f"stats/{name}/count"] == [e["length"]]
            assert np.allclose(np.asarray(e[f"stats/{name}/mean"]).reshape(-1), rows.mean(axis=0), atol=1e-6)
            for q in QUANTILES:
                stored = np.asarray(e[f"stats/{name}/q{round(q * 100):02d}"]).reshape(-1)
                assert np.allclose(stored, np.quantile(rows, q, axis=0), atol=1e-6)
    tasks = pq.read_table(root / "meta/tasks.parquet").to_pydict()
    assert tasks["task_index"] == list(range(info["total_tasks"]))


# ---- tests ------------------------------------------------------------------------------------------


def test_collect_to_lerobot_then_robomimic_gives_the_arrays_of_collect_to_robomimic(collected, tmp_path):
    direct, folder = collected
    converted = write_demo_file(
        tmp_path / "back.hdf5",
        LeRobotFolder(folder).records(),
        LeRobotFolder(folder).env_args,
        attrs=LeRobotFolder(folder).attrs,
    )
    env_a, attrs_a, _, records_a = read_demo_records(direct)
    env_b, attrs_b, _, records_b = read_demo_records(converted)
    assert env_a == env_b and attrs_a == attrs_b
    pairs = list(zip(records_a, records_b, strict=True))
    assert len(pairs) == EPISODES
    for a, b in pairs:
        assert a.obs.keys() == b.obs.keys() and a.attrs == b.attrs
        for key in a.obs:
            assert a.obs[key].dtype == b.obs[key].dtype and np.array_equal(a.obs[key], b.obs[key]), key
        for part in ("actions", "rewards", "dones"):
            assert np.array_equal(getattr(a, part), getattr(b, part)), part


@pytest.mark.parametrize("which", ["collected", "mp4", "png"])
def test_the_writers_folders_pass_the_v3_validator(which, collected, camera_folders):
    validate_v3(collected[1] if which == "collected" else camera_folders[1 if which == "mp4" else 2])


def test_the_validator_catches_a_broken_index(collected, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(collected[1], broken)
    data = broken / "data/chunk-000/file-000.parquet"
    table = pq.read_table(data)
    index = table.column("index").to_numpy().copy()
    index[5] += 1
    pq.write_table(table.set_column(table.column_names.index("index"), "index", pa.array(index)), data)
    with pytest.raises(AssertionError):
        validate_v3(broken)
    with pytest.raises(DataError, match="index continuity"):
        read_lerobot(broken)


def test_images_are_exact_through_png_and_close_through_mp4(camera_folders):
    records, mp4, png = camera_folders
    for folder, exact in ((png, True), (mp4, False)):
        back = list(LeRobotFolder(folder).records())
        for a, b in zip(records, back, strict=True):
            for key in ("agentview_image", "eye_in_hand_image"):
                error = np.abs(a.obs[key].astype(int) - b.obs[key].astype(int))
                if exact:
                    assert error.max() == 0, key
                else:  # h264 at crf 18: a few grey levels on average
                    assert error.mean() < 4.0 and error.max() < 100, (key, error.mean(), error.max())
            assert np.array_equal(a.obs["ee_pos"], b.obs["ee_pos"].astype(np.float32))


def test_an_open_video_decodes_episodes_in_any_order_as_a_fresh_open_does(camera_folders):
    _, mp4, _ = camera_folders
    key = "observation.images.agentview"
    fresh = [LeRobotFolder(mp4).episode_frames(key, e) for e in (0, 1)]
    folder = LeRobotFolder(mp4, cache_mb=0)  # no cache: every call seeks the one open file again
    for e in (1, 0, 1, 0):
        assert np.array_equal(folder.episode_frames(key, e), fresh[e])


def test_lerobots_default_av1_videos_read_like_ours(tmp_path):
    """LeRobot writes AV1 (libsvtav1) with its own key-frame spacing: re-encode our video so and read it."""
    try:
        av.codec.Codec("libsvtav1", "w")
    except av.FFmpegError:
        pytest.skip("this PyAV build has no AV1 encoder")
    rng = np.random.default_rng(0)
    frames = [np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], 64, 0) for _ in range(9)]
    frames = np.stack([np.roll(f, 3 * t, axis=1).repeat(3, axis=2) for t, f in enumerate(frames)])
    records = [
        DemoRecord(
            obs={"pos": rng.normal(size=(n, 2)), "top_image": frames[:n]}, actions=rng.uniform(-1, 1, (n, 2))
        )
        for n in (4, 9)
    ]
    folder = write_lerobot(tmp_path / "av1", records, fps=10)
    video = folder / "videos/observation.images.top/chunk-000/file-000.mp4"
    decoded = [f.to_ndarray(format="rgb24") for f in av.open(str(video)).decode(video=0)]
    video.unlink()
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libsvtav1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 10)
        for t, image in enumerate(decoded):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = t
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    back = LeRobotFolder(folder)
    for e, n in enumerate((4, 9)):
        start = 4 if e else 0
        error = np.abs(back.episode_frames("observation.images.top", e).astype(int) - frames[:n].astype(int))
        assert error.mean() < 6.0, (e, error.mean())
        assert start == round(back.episodes[e].videos["observation.images.top"][1] * 10)


def test_image_windows_of_the_folder_are_its_decoded_frames(camera_folders):
    records, mp4, png = camera_folders
    every = DemoDataset(
        png, ["observation.state", "observation.images.agentview"], obs_horizon=2, split="all"
    )
    assert every.episodes == ["episode_0", "episode_1"]
    assert every.obs_keys == [*every.env_args["obs_layout"], "agentview_image"]  # env names: runs on the env
    item = every[3]
    assert set(item["obs"]) == {"state", "agentview_image"}
    frames = item["obs"]["agentview_image"].numpy()
    assert np.array_equal(frames, records[0].obs["agentview_image"][2:4])
    masked, held = DemoDataset.splits(mp4, ["ee_pos", "eye_in_hand_image"], obs_horizon=1)
    assert held.episodes == ["episode_1"]  # the file's mask came through the folder


def test_stats_aggregate_as_lerobot_does():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 3)), rng.normal(2.0, 3.0, size=(11, 3))
    whole = feature_stats(np.concatenate([a, b]))
    merged = aggregate_stats([feature_stats(a), feature_stats(b)])
    for stat in ("mean", "std", "min", "max", "count"):
        assert np.allclose(merged[stat], whole[stat]), stat
    assert (merged["q01"] <= whole["q01"] + 1e-12).all() and (merged["q99"] >= whole["q99"] - 1e-12).all()


def _tiny_config(path: Path) -> PolicyExperimentConfig:
    return load_config(
        {
            "data": {"path": str(path), "obs_horizon": 2, "action_horizon": 4, "valid_fraction": 0.34},
            "sampling": {"n_action_steps": 2},
            "model": {
                "kind": "flow",
                "flow_layers": 2,
                "hidden_features": [16],
                "encoder_hidden": [16],
                "context_features": 8,
                "obs_monitor": False,
            },
            "train": {
                "steps": 12,
                "batch_size": 16,
                "valid_every": 6,
                "checkpoint_every": 0,
                "device": "cpu",
            },
        },
        PolicyExperimentConfig,
    )


def test_training_on_the_folder_and_on_the_file_is_the_same(collected, tmp_path):
    torch.set_num_threads(1)
    direct, folder = collected
    sets = {}
    for name, path in (("file", direct), ("folder", folder)):
        cfg = _tiny_config(path)
        sets[name] = DemoDataset.splits(path, obs_horizon=2, action_horizon=4, valid_fraction=0.34)
    for split in (0, 1):
        a, b = sets["file"][split], sets["folder"][split]
        assert len(a) == len(b) > 0 and a.obs_keys == b.obs_keys and a.env_args == b.env_args
        for i in range(len(a)):
            assert torch.equal(a[i]["obs"], b[i]["obs"]) and torch.equal(a[i]["actions"], b[i]["actions"])
    summaries = {}
    for name, path in (("file", direct), ("folder", folder)):
        cfg = _tiny_config(path)
        summaries[name] = train_policy(cfg, tmp_path / name)
    assert summaries["file"]["last_valid"] == summaries["folder"]["last_valid"]
    assert summaries["file"]["train_loss"] == summaries["folder"]["train_loss"]


def test_a_version_other_than_v3_is_refused(collected, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(collected[1], old)
    info = json.loads((old / "meta/info.json").read_text())
    info["codebase_version"] = "v2.1"
    (old / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(DataError, match="'v2.1' is not supported, expected 'v3.0'"):
        read_lerobot(old)


def test_a_missing_feature_names_the_features_there_are(collected):
    with pytest.raises(DataError, match=r"feature 'observation.images.top' not found.*observation.state"):
        read_lerobot(collected[1], ["observation.state", "observation.images.top"])
    with pytest.raises(DataError, match="feature 'velocity' not found"):
        read_lerobot(collected[1], ["velocity"])


def test_a_video_that_does_not_match_its_timestamps_is_refused(camera_folders, tmp_path):
    shifted = tmp_path / "shifted"
    shutil.copytree(camera_folders[1], shifted)
    episodes = shifted / "meta/episodes/chunk-000/file-000.parquet"
    table = pq.read_table(episodes)
    key = "videos/observation.images.agentview/from_timestamp"
    moved = pa.array([t + 0.5 / 25 for t in table.column(key).to_pylist()])  # half a frame late
    pq.write_table(table.set_column(table.column_names.index(key), key, moved), episodes)
    folder = LeRobotFolder(shifted)
    with pytest.raises(DataError, match="does not match the frame timestamps"):
        folder.episode_frames("observation.images.agentview", 1)
    folder.episode_frames("observation.images.eye_in_hand", 1)  # the other camera is untouched


def test_a_failed_write_leaves_no_folder_and_an_existing_one_is_refused(tmp_path):
    records, env_args = _camera_records(episodes=1, steps=3, size=16)
    bad = DemoRecord(obs=records[0].obs, actions=np.full((3, 4), 2.0))  # outside the box of env_args

    with pytest.raises(DataError, match="outside the action box"):
        write_lerobot(tmp_path / "out", [records[0], bad], env_args, fps=25)
    assert list(tmp_path.iterdir()) == []
    write_lerobot(tmp_path / "out", records, env_args, fps=25)
    with pytest.raises(FileExistsError):
        write_lerobot(tmp_path / "out", records, env_args, fps=25)
    write_lerobot(tmp_path / "out", records, env_args, fps=25, images="png", overwrite=True)
    assert (
        json.loads((tmp_path / "out/meta/info.json").read_text())["features"]["observation.images.agentview"][
            "dtype"
        ]
        == "image"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
