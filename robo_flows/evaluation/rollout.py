"""Running seeded episodes on a gymnasium vector environment and recording what the metrics and plots need.

Sub-environments run with autoreset disabled: when one finishes, it is reset (``reset_mask``) with the next
pending episode seed, so every episode gets exactly its own seed whatever the number of sub-environments.
Sub-environments left without a pending episode keep running on a spare seed and are ignored.

Success is read from the info of an episode's last step.  ``success_key="auto"`` takes the first of
:data:`SUCCESS_INFO_KEYS` that the env reports at the end of the first finished episode; a name takes that
info key; ``"reward"`` counts an episode as a success when its terminal reward is > 0.  An env that reports
none of them is an ``EnvError``, never a silent 0% success.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from robo_flows.errors import EnvError
from robo_flows.evaluation.actors import Actor
from robo_flows.evaluation.shift import PerturbedStart

SPARE_SEED = 0  # reset seed of an idle sub-environment; its episodes are never recorded
SUCCESS_INFO_KEYS: tuple[str, ...] = ("is_success", "success")  # what "auto" looks for, in this order
REWARD_SUCCESS = "reward"  # success_key meaning: the terminal reward is > 0


@dataclass
class EpisodeRecord:
    """One finished episode: its seed, outcome, executed mode and top-down end-effector path ``[T+1, 2]``."""

    seed: int
    success: bool
    mode: str | None
    length: int
    ee_path: np.ndarray
    first_obs: Any = field(repr=False, default=None)


def make_vector_env(
    env_id: str,
    num_envs: int,
    env_kwargs: dict[str, Any] | None = None,
    asynchronous: bool | None = None,
    perturb_steps: int = 0,
) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env_id``: sync for one, async for more unless ``asynchronous`` says otherwise.

    ``perturb_steps > 0`` wraps each copy in :class:`PerturbedStart` (a shifted start distribution).
    """
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    make_one = _env_factory(env_id, env_kwargs or {}, perturb_steps)
    fns = [make_one] * num_envs
    mode = gym.vector.AutoresetMode.DISABLED
    if asynchronous if asynchronous is not None else num_envs > 1:
        return gym.vector.AsyncVectorEnv(fns, autoreset_mode=mode)
    return gym.vector.SyncVectorEnv(fns, autoreset_mode=mode)


def _env_factory(env_id: str, env_kwargs: dict[str, Any], perturb_steps: int) -> Callable[[], gym.Env]:
    def make() -> gym.Env:
        if env_id.startswith("RoboFlows/"):
            import robo_flows_envs  # noqa: F401  (registers the ids; only imported when such an env is made)
        env = gym.make(env_id, **env_kwargs)
        return PerturbedStart(env, perturb_steps) if perturb_steps > 0 else env

    return make


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None, perturb_steps: int = 0) -> gym.Env:
    """One instance of ``env_id`` (``module:Id`` imports the module first); an unknown id, a module that does
    not import or a keyword the env does not take is an ``EnvError`` naming the id and the kwargs."""
    kwargs = dict(env_kwargs or {})
    try:
        return _env_factory(env_id, kwargs, perturb_steps)()
    except gym.error.Error as error:  # unregistered id or namespace, deprecated version, ...
        raise EnvError(f"cannot make env {env_id!r}: {error}") from error
    except ModuleNotFoundError as error:
        raise EnvError(
            f"cannot make env {env_id!r}: the module of 'module:Id' does not import ({error})"
        ) from error
    except TypeError as error:  # the env's constructor does not take a keyword
        raise EnvError(f"cannot make env {env_id!r} with env kwargs {kwargs}: {error}") from error


@dataclass
class EnvDescription:
    """What evaluation needs to know of an env id: its ``obs_layout`` (None if it declares none), its
    ``mode_names`` (empty without discrete modes), whether it has a scripted ``expert_action``, and the
    top-down ``footprints`` of its scene objects (obs part holding the centre -> half extents in x, y)."""

    layout: dict[str, int] | None
    mode_names: list[str]
    has_expert: bool
    footprints: dict[str, tuple[float, float]] = field(default_factory=dict)


def describe_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> EnvDescription:
    """Probe one instance of ``env_id`` (attribute lookups on async vector envs would kill their workers);
    ``EnvError`` if it cannot be made (see :func:`make_env`)."""
    env = make_env(env_id, env_kwargs)
    try:
        base = env.unwrapped
        layout = getattr(base, "obs_layout", None)
        return EnvDescription(
            layout=dict(layout) if layout else None,
            mode_names=[str(m) for m in getattr(base, "mode_names", ())],
            has_expert=callable(getattr(base, "expert_action", None)),
            footprints=dict(getattr(base, "scene_footprints", {})),
        )
    finally:
        env.close()


def end_effector_xy(obs: Any, layout: dict[str, int] | None) -> np.ndarray | None:
    """Top-down end-effector positions ``[K, 2]`` from batched observations, or None when unknown.

    Uses the ``ee_pos`` slice of a flat observation with a layout, a Dict observation's ``ee_pos`` key (the
    RoboFlows image modes), else the first values of its ``observation`` entry (the panda-gym convention:
    gripper position first).
    """
    if isinstance(obs, dict):
        if "ee_pos" in obs:
            return np.asarray(obs["ee_pos"])[:, :2]
        return np.asarray(obs["observation"])[:, :2] if "observation" in obs else None
    if layout and "ee_pos" in layout:
        start = 0
        for name, size in layout.items():
            if name == "ee_pos":
                return np.asarray(obs)[:, start : start + 2]
            start += size
    return None


def _row(obs: Any, i: int) -> Any:
    return {k: np.asarray(v)[i] for k, v in obs.items()} if isinstance(obs, dict) else np.asarray(obs)[i]


def _info_value(info: dict[str, Any], key: str, i: int) -> Any:
    if key in info and info.get(f"_{key}", np.ones(i + 1, bool))[i]:
        return info[key][i]
    return None


class SuccessSignal:
    """Reads an episode's success from its last step: an info key, or the terminal reward (module doc).

    ``key`` is "auto", an info key, or "reward"; after the first finished episode :attr:`resolved` holds the
    key actually read ("auto" resolved to one of :data:`SUCCESS_INFO_KEYS`).
    """

    def __init__(self, key: str = "auto", env_id: str = "the env") -> None:
        if not key:
            raise ValueError("success_key must be 'auto', 'reward' or an info key, got ''")
        self.key, self.env_id = key, env_id
        self.resolved: str | None = None if key == "auto" else key

    def __call__(self, info: dict[str, Any], reward: float, i: int) -> bool:
        """Success of sub-environment ``i`` whose episode just ended with ``reward``; ``info`` is batched."""
        if self.resolved is None:
            found = [k for k in SUCCESS_INFO_KEYS if _info_value(info, k, i) is not None]
            if not found:
                raise EnvError(self._missing(info, i, f"none of {list(SUCCESS_INFO_KEYS)}"))
            self.resolved = found[0]
        if self.resolved == REWARD_SUCCESS:
            return bool(reward > 0)
        value = _info_value(info, self.resolved, i)
        if value is None:
            raise EnvError(self._missing(info, i, f"{self.resolved!r}"))
        return bool(value)

    def _missing(self, info: dict[str, Any], i: int, wanted: str) -> str:
        present = sorted(k for k in info if not k.startswith("_") and _info_value(info, k, i) is not None)
        return (
            f"{self.env_id} reports no success signal: the info at the end of an episode has {wanted}, "
            f"only {present}; name the key with --success-key KEY, or --success-key reward to count a "
            "terminal reward > 0 as success"
        )


def run_episodes(
    envs: gym.vector.VectorEnv,
    actor: Actor,
    seeds: Sequence[int],
    layout: dict[str, int] | None = None,
    success: SuccessSignal | None = None,
) -> list[EpisodeRecord]:
    """Run one episode per seed with ``actor``; records come back in seed order.

    ``layout`` (the env's ``obs_layout``) locates the end effector in flat observations for the path plots;
    ``success`` reads each episode's outcome (default: ``SuccessSignal("auto")``).
    """
    success = SuccessSignal() if success is None else success
    k = envs.num_envs
    pending = list(seeds)
    slot_seed: list[int | None] = [pending.pop(0) if pending else None for _ in range(k)]
    obs, _ = envs.reset(seed=[SPARE_SEED if s is None else s for s in slot_seed])
    actor.reset()
    paths: list[list[np.ndarray]] = [[] for _ in range(k)]
    firsts: list[Any] = [_row(obs, i) for i in range(k)]
    lengths = np.zeros(k, dtype=np.int64)
    records: dict[int, EpisodeRecord] = {}
    _append_positions(paths, end_effector_xy(obs, layout))
    while any(s is not None for s in slot_seed):
        actions = actor.act(obs, envs)
        obs, rewards, terminated, truncated, info = envs.step(actions)
        lengths += 1
        _append_positions(paths, end_effector_xy(obs, layout))
        done = np.asarray(terminated) | np.asarray(truncated)
        if not done.any():
            continue
        for i in np.flatnonzero(done):
            if slot_seed[i] is not None:
                mode = _info_value(info, "mode", i)
                records[slot_seed[i]] = EpisodeRecord(
                    seed=int(slot_seed[i]),
                    success=success(info, float(np.asarray(rewards)[i]), i),
                    mode=None if mode is None else str(mode),
                    length=int(lengths[i]),
                    ee_path=np.asarray(paths[i]) if paths[i] else np.zeros((0, 2)),
                    first_obs=firsts[i],
                )
            slot_seed[i] = pending.pop(0) if pending else None
        reset_seeds = [
            SPARE_SEED if (s is None or not d) else s for s, d in zip(slot_seed, done, strict=True)
        ]
        obs, _ = envs.reset(seed=reset_seeds, options={"reset_mask": done})
        actor.reset(np.flatnonzero(done))
        ee = end_effector_xy(obs, layout)
        for i in np.flatnonzero(done):
            paths[i] = [] if ee is None else [ee[i]]
            firsts[i] = _row(obs, i)
            lengths[i] = 0
    return [records[s] for s in seeds]


def _append_positions(paths: list[list[np.ndarray]], ee: np.ndarray | None) -> None:
    if ee is not None:
        for i, path in enumerate(paths):
            path.append(np.array(ee[i], dtype=np.float64))
