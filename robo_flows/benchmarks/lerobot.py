"""LeRobot folder reading speed into training windows and mp4 size, beside PNG parquet and robomimic HDF5.

Input: a LeRobot v3.0 folder with camera videos, e.g. from
``robo-flows collect --env RoboFlows/PandaDetour-v0 --episodes 200 --format lerobot --env-kwargs
'{"obs_mode": "state+rgb"}' --out DIR``.  The benchmark converts it once into the two other stores of the same
demos -- a LeRobot folder with PNG images in the parquet, and a robomimic HDF5 file (one lzf-compressed frame
per chunk) -- and then times, interleaved, one shuffled epoch of training windows from each
(``DemoDataset.__getitems__`` in batches, as the DataLoader calls it; one process, the image caches emptied
before each epoch, so every frame is decoded in it).  Throughput is camera frames delivered in windows per
second: ``windows x obs_horizon x cameras / epoch seconds``, in wall-clock time and per CPU second of the
process (``time.process_time``: on a shared machine, the rate one core gives).  Sizes: the mp4 files against
the raw frames (``frames x H x W x 3`` bytes) and against the other two stores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from robo_flows.benchmarks.harness import (
    format_table,
    median_ratios,
    refuse_existing_result,
    result_payload,
    time_interleaved,
    write_result,
)
from robo_flows.data.demos import DemoDataset, read_demos
from robo_flows.data.lerobot import LeRobotFolder, robomimic_image_key, write_lerobot
from robo_flows.data.robomimic import DemoFile, write_demo_file
from robo_flows.errors import DataError
from robo_flows.training.threads import set_threads


def _bytes(path: Path) -> int:
    return (
        path.stat().st_size
        if path.is_file()
        else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    )


def epoch(demo_file: DemoFile, obs_horizon: int, batch_size: int, seed: int) -> int:
    """One shuffled epoch of windows from cold caches; returns the camera frames delivered."""
    assert demo_file.frames is not None
    demo_file.frames.close()  # empties the decoded-episode cache (LeRobot) / closes the file (HDF5)
    dataset = DemoDataset(demo_file, split="all", obs_horizon=obs_horizon, action_horizon=8)
    order = np.random.default_rng(seed).permutation(len(dataset))
    for start in range(0, len(order), batch_size):
        dataset.__getitems__(order[start : start + batch_size].tolist())
    return len(dataset) * obs_horizon * len(dataset.image_keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robo-flows bench lerobot", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="LeRobot v3.0 folder with camera videos")
    parser.add_argument("--obs-horizon", type=int, default=2, help="observations per window (2)")
    parser.add_argument("--batch-size", type=int, default=64, help="windows per fetched batch (64)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved epochs per store (3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    parser.add_argument("--label", default=None, help="what kind of run this was (kept in the JSON)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/lerobot.json"),
                        help="result JSON (never overwritten)")  # fmt: skip
    args = parser.parse_args(argv)
    refuse_existing_result(args.out)
    threads = set_threads(args.threads)
    source = LeRobotFolder(args.folder)
    cameras = [k for k in source.image_features if source.features[k]["dtype"] == "video"]
    if not cameras:
        raise DataError(f"{args.folder} has no video features to benchmark")
    info = source.info
    with tempfile.TemporaryDirectory(prefix="bench_lerobot_") as tmp:
        png, hdf5 = Path(tmp) / "png", Path(tmp) / "demos.hdf5"
        write_lerobot(png, source.records(), source.env_args, fps=int(source.fps), images="png")
        write_demo_file(hdf5, LeRobotFolder(args.folder).records(), source.env_args)
        keys = [*source.default_obs_keys(), *(robomimic_image_key(k) for k in cameras)]  # as the env names
        stores = {"lerobot mp4": args.folder, "lerobot png": png, "robomimic hdf5": hdf5}
        files = {name: read_demos(path, keys) for name, path in stores.items()}
        frames = epoch(files["lerobot mp4"], args.obs_horizon, args.batch_size, 0)
        cpu: dict[str, list[float]] = {name: [] for name in files}

        def timed(name: str) -> None:
            start = time.process_time()
            epoch(files[name], args.obs_horizon, args.batch_size, 0)
            cpu[name].append(time.process_time() - start)

        timings = time_interleaved(
            {name: (lambda name=name: timed(name)) for name in files}, repeats=args.repeats, warmup=0
        )
        h, w, c = source.features[cameras[0]]["shape"]
        raw = int(info["total_frames"]) * h * w * c * len(cameras)
        video_bytes = _bytes(args.folder / "videos")
        sizes = {
            "raw_frames": raw,
            "mp4": video_bytes,
            "lerobot_png_folder": _bytes(png),
            "robomimic_hdf5": _bytes(hdf5),
            "lerobot_mp4_folder": _bytes(args.folder),
        }
    results: dict[str, Any] = {
        "episodes": int(info["total_episodes"]),
        "frames_per_camera": int(info["total_frames"]),
        "cameras": cameras,
        "image_shape": [h, w, c],
        "frames_per_epoch": frames,
        "timings": {name: t.to_json() for name, t in timings.items()},
        "frames_per_s": {name: frames / float(np.median(t.samples_s)) for name, t in timings.items()},
        "frames_per_cpu_s": {name: frames / float(np.median(c[1:])) for name, c in cpu.items()},  # c[0]: cold
        "time_ratio_to_hdf5": median_ratios(timings, reference="robomimic hdf5"),
        "sizes_bytes": sizes,
        "mp4_compression": raw / video_bytes,
    }
    print(
        f"{results['episodes']} episodes, {len(cameras)} cameras {h}x{w}, obs_horizon {args.obs_horizon}: "
        f"{frames} camera frames per epoch, {threads} thread(s), median of {args.repeats} interleaved cold "
        "epochs"
    )
    print(format_table(
        ["store", "frames/s", "frames/CPU-s", "epoch s (median)", "time / hdf5"],
        [[name, round(results["frames_per_s"][name]), round(results["frames_per_cpu_s"][name]),
          round(float(np.median(t.samples_s)), 3), round(results["time_ratio_to_hdf5"][name], 2)]
         for name, t in timings.items()],
    ))  # fmt: skip
    print(format_table(
        ["store", "MB", "raw frames / store"],
        [[name, round(size / 2**20, 2), round(raw / size, 1)] for name, size in sizes.items()],
    ))  # fmt: skip
    payload = result_payload(
        "lerobot",
        settings={"folder": str(args.folder), "obs_horizon": args.obs_horizon, "batch_size": args.batch_size,
                  "repeats": args.repeats, "threads": threads},
        results=results,
        packages=("pyarrow", "av", "h5py"),
        label=args.label,
    )  # fmt: skip
    print(f"wrote {write_result(args.out, payload)}")
    return 0
