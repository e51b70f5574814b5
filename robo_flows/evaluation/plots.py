"""Figures of an evaluation: top-down end-effector paths coloured by executed mode, and a mode histogram."""

from __future__ import annotations

from pathlib import Path

import matplotlib

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


def plot_paths(records: list[EpisodeRecord], path: Path, title: str) -> Path:
    """Top-down (x, y) end-effector paths, one line per episode, coloured by mode; failures dashed."""
    labels = sorted({r.mode or NO_MODE_LABEL for r in records})
    colours = _colours(labels)
    fig, ax = plt.subplots(figsize=(5, 5))
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
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"{title}: end-effector paths (dashed = failure)")
    if seen:
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
