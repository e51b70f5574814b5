"""Figures of an evaluation: top-down end-effector paths coloured by executed mode, over the scene (goals,
obstacles), and a mode histogram."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)

from robo_flows.evaluation.rollout import EpisodeRecord  # noqa: E402

NO_MODE_LABEL = "no mode"
UNDECIDED = ("none", NO_MODE_LABEL)  # episodes that never committed to a mode are drawn grey


def _colours(labels: list[str]) -> dict[str, tuple[float, ...]]:
    """Sorted mode names -> tab10 colours (the same for every actor), undecided episodes grey."""
    cmap = plt.get_cmap("tab10")
    named = sorted(label for label in labels if label not in UNDECIDED)
    colours = {label: cmap(i % 10) for i, label in enumerate(named)}
    colours.update({label: (0.5, 0.5, 0.5, 1.0) for label in labels if label in UNDECIDED})
    return colours


GOAL_PART = "goal"


def observation_part(obs: Any, layout: Mapping[str, int] | None, name: str) -> np.ndarray | None:
    """The part ``name`` of one observation: a Dict's key, or the slice ``layout`` gives a flat vector;
    None where the observation does not hold it."""
    if isinstance(obs, Mapping):
        return np.asarray(obs[name], dtype=np.float64) if name in obs else None
    if obs is None or not layout or name not in layout:
        return None
    start = 0
    for part, size in layout.items():
        if part == name:
            return np.asarray(obs, dtype=np.float64)[start : start + size]
        start += size
    return None


CAMERA_KWARGS = ("obs_mode", "cameras", "camera_width", "camera_height")  # what "state" copies leave out


def scene_observations(
    env_id: str, env_kwargs: Mapping[str, Any] | None, seeds: Sequence[int]
) -> list[np.ndarray] | None:
    """For an env observed through cameras (``obs_mode`` "rgb" / "state+rgb", whose Dict need not hold the
    goal or the obstacles): the first observation of each seed's episode in a copy of the env with
    ``obs_mode="state"``, from which :func:`draw_scene` reads the scene.  An episode's start is a function
    of its seed alone (the cameras draw no random numbers), so these are the scenes the episodes began in.
    None for an env observed in state (its own first observations hold the scene)."""
    kwargs = dict(env_kwargs or {})
    if kwargs.get("obs_mode", "state") == "state":
        return None
    import gymnasium as gym

    env = gym.make(env_id, **{k: v for k, v in kwargs.items() if k not in CAMERA_KWARGS})
    try:
        return [np.asarray(env.reset(seed=int(s))[0]) for s in seeds]
    finally:
        env.close()


def draw_scene(
    ax: Any,
    records: list[EpisodeRecord],
    layout: Mapping[str, int] | None,
    footprints: Mapping[str, tuple[float, float]],
    scenes: Sequence[Any] | None = None,
) -> None:
    """Each episode's goal (the ``goal`` part of its first observation, or of ``scenes[i]`` where given, a
    green star) and the top-down footprint of each object in ``footprints`` (obs part holding its centre ->
    half extents in x and y), light, so the spread over episodes shows."""
    from matplotlib.patches import Rectangle

    goal_label, object_label = "goal", "obstacle / object at the start"
    firsts = [r.first_obs for r in records] if scenes is None else list(scenes)
    for first in firsts:
        goal = observation_part(first, layout, GOAL_PART)
        if goal is not None:
            ax.plot(goal[0], goal[1], "*", color="tab:green", markersize=7, alpha=0.7, label=goal_label)
            goal_label = None
        for name, (hx, hy) in footprints.items():
            centre = observation_part(first, layout, name)
            if centre is None:
                continue
            box = Rectangle((centre[0] - hx, centre[1] - hy), 2 * hx, 2 * hy, alpha=0.15, label=object_label)
            box.set(facecolor="tab:red", edgecolor="tab:red", linewidth=0.5)
            ax.add_patch(box)
            object_label = None


def missing_paths_reason(records: list[EpisodeRecord], layout: Mapping[str, int] | None = None) -> str | None:
    """Why ``paths.png`` shows no end-effector path (None when at least one episode has a path).

    A path needs the end effector's position in the observation: an ``ee_pos`` part of the env's flat
    ``obs_layout``, or a Dict observation whose ``observation`` entry starts with it (panda-gym).
    """
    if any(len(r.ee_path) for r in records):
        return None
    parts = f"; the env's obs_layout has {', '.join(layout)}" if layout else "; the env gives no obs_layout"
    return (
        "paths.png has no end-effector paths: the observations do not say where the end effector is "
        f"(no 'ee_pos' part in a flat observation, no 'observation' entry in a Dict one){parts}"
    )


def plot_paths(
    records: list[EpisodeRecord],
    path: Path,
    title: str,
    layout: Mapping[str, int] | None = None,
    footprints: Mapping[str, tuple[float, float]] | None = None,
    scenes: Sequence[Any] | None = None,
) -> Path:
    """Top-down (x, y) end-effector paths, one line per episode, coloured by mode; failures dashed; over
    the scene (:func:`draw_scene`) read from the episodes' first observations (or ``scenes``, one per
    record: :func:`scene_observations`) with the env's ``layout`` and ``footprints`` (the env's
    ``scene_footprints``; no objects drawn without them)."""
    labels = sorted({r.mode or NO_MODE_LABEL for r in records})
    colours = _colours(labels)
    fig, ax = plt.subplots(figsize=(5, 5))
    draw_scene(ax, records, layout, footprints or {}, scenes)
    seen: set[str] = set()
    for r in records:
        if len(r.ee_path) == 0:
            continue
        label = r.mode or NO_MODE_LABEL
        ax.plot(
            r.ee_path[:, 0],
            r.ee_path[:, 1],
            color=colours[label],
            linestyle="-" if r.success else "--",
            linewidth=1.0,
            alpha=0.8,
            label=None if label in seen else label,
        )
        ax.plot(*r.ee_path[0], "o", color="black", markersize=2)
        seen.add(label)
    reason = missing_paths_reason(records, layout)
    if reason is not None:  # say so in the figure itself rather than leave it blank
        ax.text(0.5, 0.5, textwrap.fill(reason, 60), ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"{title}: end-effector paths (dashed = failure)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_mode_histogram(modes: dict[str, int], path: Path, title: str) -> Path:
    """Bar chart of episodes per executed mode."""
    fig, ax = plt.subplots(figsize=(4, 3))
    labels = list(modes) or [NO_MODE_LABEL]
    counts = [modes.get(m, 0) for m in labels]
    ax.bar(labels, counts, color=[_colours(labels)[m] for m in labels])
    ax.set_ylabel("episodes")
    ax.set_title(f"{title}: modes")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
