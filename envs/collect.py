"""Scripted-expert demonstrations -> a demo file in the robomimic layout (``robo-flows collect``).

The file is written by the format's one writer, ``robo_flows.data.robomimic.write_demo_file`` (schema in its
module doc; atomic, the user's umask), with::

    data/            attrs: env_args (JSON: env_name, env_kwargs, obs_layout, action_low, action_high,
                            action_noise), episodes_attempted, action_noise
      demo_<i>/      attrs: seed, expert_mode, success, and mode (the executed mode) for tasks with modes
        obs/<name>   float32 [T, size], one dataset per obs_layout part, in layout order; with a Dict
                     observation (``obs_mode`` "rgb" / "state+rgb" in ``env_kwargs``) one per key of it:
                     its state parts, and its camera images ``<camera>_image`` as uint8 [T, H, W, 3]
                     (one compressed frame per chunk, see the writer)

``action_low`` / ``action_high`` are the env's ``action_space`` bounds: the action box of every policy
trained on the file.

Step t pairs the observation before the action with the action, its reward and done flag.  Episode i is
reset with seed ``seed + i`` whichever worker runs it, so a file is reproducible from its arguments; demos
are numbered in episode order over the kept ones.

Noise injection (DART-style, ``action_noise = sigma > 0``): the env executes ``clip(a* + eps, low, high)``
(the action space's box) with
``eps ~ N(0, sigma^2 I)`` drawn from ``numpy.random.default_rng(seed + i)``, while the file records the clean
expert action ``a*`` for the state reached.  The demonstrations then visit the states a slightly wrong policy
drifts into, labelled with the expert's correction.  An episode's ``success`` is that of the executed (noisy)
rollout; ``sigma`` is stored in ``data`` attrs (``action_noise``) and in ``env_args``.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import robo_flows_envs  # noqa: F401  (registers the RoboFlows ids)

from robo_flows.commands.output import claim_output
from robo_flows.data.image_windows import is_image_key
from robo_flows.data.robomimic import DemoRecord, write_demo_file
from robo_flows.errors import EnvError
from robo_flows.training.progress import Progress

FORMATS: tuple[str, ...] = ("robomimic", "lerobot")


@dataclass
class Episode:
    """One expert episode: ``obs`` [T, obs_dim] (a flat observation) or ``{key: [T, ...]}`` (a Dict one),
    ``actions`` [T, 4], ``rewards`` [T], ``dones`` [T]."""

    seed: int
    obs: np.ndarray | dict[str, np.ndarray]
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    success: bool
    expert_mode: str
    mode: str | None


def run_expert_episode(env: gym.Env, seed: int, action_noise: float = 0.0) -> Episode:
    """Roll the env's scripted expert from ``reset(seed=seed)`` until termination or truncation.

    With ``action_noise = sigma > 0`` the env executes ``clip(a* + N(0, sigma^2 I), low, high)`` (the action
    space's box; noise from ``default_rng(seed)``) and the episode records the clean expert action ``a*``."""
    noise = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    obs, info = env.reset(seed=seed)
    expert_mode = info["expert_mode"]
    observations, actions, rewards, dones = [], [], [], []
    done = False
    while not done:
        action = env.unwrapped.expert_action()
        observations.append(obs)
        actions.append(action)
        executed = action
        if action_noise > 0.0:
            executed = np.clip(action + action_noise * noise.standard_normal(action.shape), low, high)
        obs, reward, terminated, truncated, info = env.step(executed)
        done = terminated or truncated
        rewards.append(reward)
        dones.append(done)
    return Episode(
        seed=seed,
        obs=_stacked(observations),
        actions=np.asarray(actions, dtype=np.float32),
        rewards=np.asarray(rewards, dtype=np.float32),
        dones=np.asarray(dones, dtype=np.uint8),
        success=bool(info["is_success"]),
        expert_mode=expert_mode,
        mode=info.get("mode"),
    )


def _stacked(observations: list[Any]) -> np.ndarray | dict[str, np.ndarray]:
    """Per-step observations stacked over time: float32 ``[T, obs_dim]``, or per key of a Dict observation
    (camera images keep their uint8, state parts become float32)."""
    if isinstance(observations[0], dict):
        return {
            key: np.stack([o[key] for o in observations]).astype(
                np.uint8 if is_image_key(key) else np.float32, copy=False
            )
            for key in observations[0]
        }
    return np.asarray(observations, dtype=np.float32)


# one env per worker process, made by the pool initializer
_worker_env: gym.Env | None = None


_worker_noise = 0.0


def _init_worker(env_id: str, env_kwargs: dict[str, Any], action_noise: float) -> None:
    global _worker_env, _worker_noise
    _worker_env = gym.make(env_id, **env_kwargs)
    _worker_noise = action_noise


def _worker_episode(seed: int) -> Episode:
    assert _worker_env is not None, "worker used before _init_worker"
    return run_expert_episode(_worker_env, seed, _worker_noise)


def demo_record(episode: Episode, layout: dict[str, int]) -> DemoRecord:
    """The episode as the writer's record: its flat observation split into the ``layout`` parts, or its
    Dict observation's keys (state parts in ``layout`` order, then the camera images)."""
    if isinstance(episode.obs, dict):
        order = [k for k in layout if k in episode.obs] + [k for k in episode.obs if k not in layout]
        obs = {key: episode.obs[key] for key in order}
    else:
        bounds = np.cumsum([0, *layout.values()])
        obs = {name: episode.obs[:, bounds[i] : bounds[i + 1]] for i, name in enumerate(layout)}
    attrs: dict[str, Any] = {
        "seed": episode.seed,
        "expert_mode": episode.expert_mode,
        "success": episode.success,
    }
    if episode.mode is not None:
        attrs["mode"] = episode.mode
    return DemoRecord(
        obs=obs, actions=episode.actions, rewards=episode.rewards, dones=episode.dones, attrs=attrs
    )


def _check_arguments(env_id: str, episodes: int, workers: int, action_noise: float) -> None:
    if env_id not in gym.registry:
        known = sorted(i for i in gym.registry if i.startswith("RoboFlows/"))
        raise EnvError(f"unknown env id {env_id!r}; registered RoboFlows ids: {known}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not (np.isfinite(action_noise) and action_noise >= 0.0):
        raise ValueError(f"action_noise must be a finite standard deviation >= 0, got {action_noise}")


def collect_demos(
    env_id: str,
    episodes: int,
    seed: int,
    out: str | Path,
    workers: int = 1,
    keep_failures: bool = False,
    force: bool = False,
    progress: bool = True,
    env_kwargs: dict[str, Any] | None = None,
    action_noise: float = 0.0,
    format: str = "robomimic",
    images: str = "mp4",
) -> dict[str, Any]:
    """Run ``episodes`` expert episodes of ``env_id`` (episode i with seed ``seed + i``) on ``workers``
    processes and write the successful ones (all with ``keep_failures``) to ``out``.  ``action_noise``:
    standard deviation of the Gaussian noise added to the executed (not the recorded) actions, see above.
    ``format="lerobot"`` writes a LeRobotDataset v3.0 folder instead (``data.lerobot.write_lerobot``, the
    same records; ``fps`` = the env's ``metadata["render_fps"]``, its control rate; camera images as
    ``images`` = "mp4" or "png").

    The file is written by ``write_demo_file`` (atomic: ``out`` is never left half-written) with the env's
    action box in ``env_args``.  An existing ``out`` is refused (``FileExistsError``) unless ``force``, which
    removes it once the arguments and the env were checked, before collecting; a folder is always refused.

    Returns a summary: attempted, kept, success_rate (over attempted),
    mean_length / max_length (steps, over attempted), modes (expert-mode counts of the kept demos),
    executed_modes (same for the executed modes), path.
    """
    out = Path(out)
    env_kwargs = dict(env_kwargs or {})
    _check_arguments(env_id, episodes, workers, action_noise)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    seeds = [seed + i for i in range(episodes)]
    try:
        probe = gym.make(env_id, **env_kwargs)
    except TypeError as error:  # an unknown keyword of the env's constructor
        raise EnvError(f"cannot make {env_id} with env kwargs {env_kwargs}: {error}") from error
    layout = dict(probe.unwrapped.obs_layout)
    space = probe.action_space
    fps = probe.metadata["render_fps"]
    probe.close()
    kind = "file" if format == "robomimic" else "dir"
    claim_output(out, force=force, kind=kind)  # every input is valid: only now is an old file removed
    env_args = {
        "env_name": env_id,
        "env_kwargs": env_kwargs,
        "obs_layout": layout,
        "action_low": space.low.astype(float).tolist(),
        "action_high": space.high.astype(float).tolist(),
        "action_noise": action_noise,
    }
    attempted = successes = kept = 0
    lengths: list[int] = []
    modes: Counter[str] = Counter()
    executed: Counter[str] = Counter()

    def kept_records() -> Iterator[DemoRecord]:
        nonlocal attempted, successes, kept
        for episode in _episodes(env_id, env_kwargs, seeds, workers, action_noise):
            attempted += 1
            successes += episode.success
            lengths.append(len(episode.actions))
            bar.update(1)
            bar.set_postfix(success=f"{successes / attempted:.2f}")
            if episode.success or keep_failures:
                kept += 1
                modes[episode.expert_mode] += 1
                if episode.mode is not None:
                    executed[episode.mode] += 1
                yield demo_record(episode, layout)

    bar = Progress(episodes, f"collect {env_id}", enabled=progress)
    try:
        attrs = {"episodes_attempted": episodes, "action_noise": action_noise}
        if format == "lerobot":
            from robo_flows.data.lerobot import write_lerobot  # the lerobot extra

            write_lerobot(out, kept_records(), env_args, fps=fps, images=images, attrs=attrs, overwrite=force)
        else:
            write_demo_file(out, kept_records(), env_args, attrs=attrs, overwrite=force)
    finally:
        bar.close()
    return {
        "attempted": attempted,
        "kept": kept,
        "success_rate": successes / attempted,
        "mean_length": float(np.mean(lengths)),
        "max_length": max(lengths),
        "modes": dict(modes),
        "executed_modes": dict(executed),
        "path": str(out),
    }


def _episodes(
    env_id: str, env_kwargs: dict[str, Any], seeds: list[int], workers: int, action_noise: float
) -> Iterator[Episode]:
    """Episodes in seed order, from this process (``workers == 1``) or a pool of spawned workers."""
    if workers == 1:
        env = gym.make(env_id, **env_kwargs)
        try:
            for s in seeds:
                yield run_expert_episode(env, s, action_noise)
        finally:
            env.close()
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(env_id, env_kwargs, action_noise)) as pool:
        yield from pool.imap(_worker_episode, seeds)
