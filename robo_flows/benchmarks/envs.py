"""``robo-flows bench envs``: RoboFlows Panda tasks against panda-gym, side by side, as ratios.

Every figure is environment steps per second (``reset`` excluded, done on termination or truncation) with
uniformly random actions, both suites at the same 0.04 s control period.  Pairs are timed interleaved
(round-robin, ``--rounds`` rounds of ``--steps`` steps each) and the median round is reported, so a noisy
shared machine slows both sides alike.  Also: steps/s while rendering an ``--render-size`` square rgb frame
every step, and the total steps/s of a gymnasium ``AsyncVectorEnv`` with 1 and 2 worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import robo_flows_envs  # noqa: F401  (registers the RoboFlows ids)

# RoboFlows id -> nearest panda-gym id (None: no counterpart)
PAIRS: dict[str, str | None] = {
    "RoboFlows/PandaReach-v0": "PandaReach-v3",
    "RoboFlows/PandaDetour-v0": None,
    "RoboFlows/PandaPush-v0": "PandaPush-v3",
    "RoboFlows/PandaPickPlace-v0": "PandaPickAndPlace-v3",
}
TARGET_RATIO = 1.5


def make(env_id: str, render_size: int | None = None, detailed_meshes: bool = False) -> gym.Env:
    """An env of either suite; with ``render_size`` it renders ``render_size``^2 rgb frames.
    ``detailed_meshes`` draws the RoboFlows Panda with its full visual meshes, as panda-gym does."""
    if env_id.startswith("RoboFlows/"):
        if render_size is None:
            return gym.make(env_id)
        return gym.make(
            env_id,
            render_mode="rgb_array",
            width=render_size,
            height=render_size,
            detailed_meshes=detailed_meshes,
        )
    import panda_gym  # noqa: F401  (registers the panda-gym ids)

    if render_size is None:
        return gym.make(env_id)
    return gym.make(env_id, render_mode="rgb_array", render_width=render_size, render_height=render_size)


class Stepper:
    """Keeps one env running across timed rounds, with a seeded stream of random actions."""

    def __init__(self, env: gym.Env, seed: int, render: bool) -> None:
        self.env, self.render = env, render
        self.env.action_space.seed(seed)
        self.env.reset(seed=seed)

    def steps_per_second(self, steps: int) -> float:
        elapsed = 0.0
        for _ in range(steps):
            action = self.env.action_space.sample()
            t0 = time.perf_counter()
            _, _, terminated, truncated, _ = self.env.step(action)
            if self.render:
                self.env.render()
            elapsed += time.perf_counter() - t0
            if terminated or truncated:
                self.env.reset()
        return steps / elapsed


def interleaved(stepper_by_name: dict[str, Stepper], steps: int, rounds: int) -> dict[str, float]:
    """Median steps/s per stepper over ``rounds`` round-robin rounds."""
    samples: dict[str, list[float]] = {name: [] for name in stepper_by_name}
    for _ in range(rounds):
        for name, stepper in stepper_by_name.items():
            samples[name].append(stepper.steps_per_second(steps))
    return {name: statistics.median(s) for name, s in samples.items()}


def vector_steps_per_second(env_id: str, workers: int, steps: int, seed: int) -> float:
    """Total env steps/s of an ``AsyncVectorEnv`` with ``workers`` processes (``steps`` vector steps)."""
    envs = gym.vector.AsyncVectorEnv([lambda: make(env_id)] * workers)
    try:
        envs.action_space.seed(seed)
        envs.reset(seed=seed)
        envs.step(envs.action_space.sample())  # warm-up: worker start-up is not stepping
        t0 = time.perf_counter()
        for _ in range(steps):
            envs.step(envs.action_space.sample())
        return workers * steps / (time.perf_counter() - t0)
    finally:
        envs.close()


def _timed_suite(
    build: Callable[[str], gym.Env], ids: list[str], steps: int, rounds: int, seed: int, render: bool
):
    envs = {env_id: build(env_id) for env_id in ids}
    try:
        steppers = {env_id: Stepper(env, seed, render) for env_id, env in envs.items()}
        return interleaved(steppers, steps, rounds)
    finally:
        for env in envs.values():
            env.close()


def run_benchmark(
    steps: int, rounds: int, render_size: int, vector_steps: int, seed: int, detailed_meshes: bool = False
) -> dict:
    """All measurements as a JSON-able dict (rendered rounds are a tenth as long: frames are slow)."""
    ids = [i for pair in PAIRS.items() for i in pair if i is not None]
    plain = _timed_suite(make, ids, steps, rounds, seed, render=False)
    rendered = _timed_suite(
        lambda i: make(i, render_size, detailed_meshes), ids, max(steps // 10, 1), rounds, seed, render=True
    )
    rows = []
    for ours, theirs in PAIRS.items():
        row = {
            "env": ours,
            "panda_gym": theirs,
            "steps_per_s": plain[ours],
            "render_steps_per_s": rendered[ours],
        }
        if theirs is not None:
            row.update(
                panda_gym_steps_per_s=plain[theirs],
                ratio=plain[ours] / plain[theirs],
                panda_gym_render_steps_per_s=rendered[theirs],
                render_ratio=rendered[ours] / rendered[theirs],
            )
        rows.append(row)
    vector = {}
    for env_id in ("RoboFlows/PandaPickPlace-v0", "PandaPickAndPlace-v3"):
        one = vector_steps_per_second(env_id, 1, vector_steps, seed)
        two = vector_steps_per_second(env_id, 2, vector_steps, seed)
        vector[env_id] = {"workers_1": one, "workers_2": two, "scaling": two / one}
    return {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "settings": {
            "steps": steps,
            "rounds": rounds,
            "render_size": render_size,
            "vector_steps": vector_steps,
            "detailed_meshes": detailed_meshes,
        },
        "pairs": rows,
        "async_vector": vector,
        "target_ratio": TARGET_RATIO,
    }


def _cells(values: list[float | None], fmt: str) -> str:
    return " ".join(f"{'-':>10s}" if v is None else format(v, fmt) for v in values)


def format_table(result: dict) -> str:
    """The result as a plain-text table: steps/s, panda-gym's, their ratio; the same while rendering."""
    size = result["settings"]["render_size"]
    heads = ["steps/s", "panda-gym", "ratio", f"{size}px/s", "panda-gym", "ratio"]
    lines = [f"{'env':30s} " + " ".join(f"{h:>10s}" for h in heads)]
    for r in result["pairs"]:
        values = [
            r["steps_per_s"],
            r.get("panda_gym_steps_per_s"),
            r.get("ratio"),
            r["render_steps_per_s"],
            r.get("panda_gym_render_steps_per_s"),
            r.get("render_ratio"),
        ]
        lines.append(f"{r['env']:30s} " + _cells(values, "10.2f"))
    lines += [
        "",
        f"{'AsyncVectorEnv steps/s':30s} "
        + " ".join(f"{h:>10s}" for h in ("1 worker", "2 workers", "scaling")),
    ]
    for env_id, v in result["async_vector"].items():
        lines.append(f"{env_id:30s} " + _cells([v["workers_1"], v["workers_2"], v["scaling"]], "10.2f"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robo-flows bench envs", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=500, help="env steps per timed round (rendered: a tenth)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the median is reported")
    parser.add_argument("--render-size", type=int, default=84, help="rendered frame width = height (pixels)")
    parser.add_argument(
        "--vector-steps", type=int, default=300, help="vector steps per AsyncVectorEnv timing"
    )
    parser.add_argument("--detailed-meshes", action="store_true", help="render our Panda's full meshes too")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/envs.json"), help="JSON results file")
    args = parser.parse_args(argv)
    for name in ("steps", "rounds", "render_size", "vector_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    result = run_benchmark(
        args.steps, args.rounds, args.render_size, args.vector_steps, args.seed, args.detailed_meshes
    )
    print(format_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
