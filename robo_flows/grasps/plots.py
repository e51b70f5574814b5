"""Matplotlib 3-D pictures of parallel-jaw grasps over an object: a primitive (box, cylinder, sphere) drawn as
its surface, or any object (kind "points") drawn as its point cloud.

A grasp (R, t) is the TCP pose in the object frame: the jaws close along y = R[:, 1] and approach along
z = R[:, 2].  It is drawn as a fork: two fingers at ±``opening``/2 along y reaching from ``finger`` metres
behind the TCP to the TCP, a palm bar joining their roots, and a stem further back along -z.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OBJECT_KINDS = ("box", "cylinder", "sphere", "points")


def gripper_segments(R: np.ndarray, t: np.ndarray, opening: float = 0.08, finger: float = 0.05) -> np.ndarray:
    """Line segments [4, 2, 3] of one grasp's fork drawing (left finger, right finger, palm, stem)."""
    y, z = R[:, 1], R[:, 2]
    tips = t + np.outer((-0.5, 0.5), opening * y)  # [2, 3]
    roots = tips - finger * z
    base = 0.5 * (roots[0] + roots[1])
    return np.stack(
        [(roots[0], tips[0]), (roots[1], tips[1]), (roots[0], roots[1]), (base, base - finger * z)]
    )


def _object_surface(kind: str, dims: tuple[float, ...]):
    """(X, Y, Z) grids of the object's surface, or box corner lines for a box."""
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, 32), np.linspace(0, 1, 12))
    if kind == "sphere":
        r = dims[0]
        theta = np.pi * v
        return r * np.cos(u) * np.sin(theta), r * np.sin(u) * np.sin(theta), r * np.cos(theta)
    if kind == "cylinder":
        r, h = dims[0], dims[1]
        return r * np.cos(u), r * np.sin(u), h * (v - 0.5)
    raise ValueError(f"no surface for kind {kind!r}")


def _draw_object(ax, kind: str, dims: tuple[float, ...], points: np.ndarray | None) -> None:
    if kind not in OBJECT_KINDS:
        raise ValueError(f"unknown object kind {kind!r}; expected one of {OBJECT_KINDS}")
    if kind == "points":
        if points is None:
            raise ValueError('kind "points" needs the object\'s points [N, 3]')
        ax.scatter(*np.asarray(points, dtype=float).T, s=1, color="0.4", alpha=0.5)
        return
    if kind == "box":
        half = np.asarray(dims[:3]) / 2
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * half
        for i in range(8):
            for j in range(i + 1, 8):
                if np.sum(np.abs(np.sign(corners[i]) - np.sign(corners[j]))) == 2:  # corners sharing an edge
                    ax.plot(*zip(corners[i], corners[j], strict=True), color="0.3", lw=1.2)
        return
    ax.plot_surface(*_object_surface(kind, dims), color="0.7", alpha=0.35, linewidth=0)


def plot_grasps(
    kind: str,
    dims: tuple[float, ...],
    R: np.ndarray,
    t: np.ndarray,
    path: str | Path,
    scores: np.ndarray | None = None,
    max_grasps: int = 60,
    title: str | None = None,
    points: np.ndarray | None = None,
) -> Path:
    """Draw the first ``max_grasps`` grasps (R [N,3,3], t [N,3]) over the object; save a PNG at ``path``.

    For i.i.d. samples the first ones are a fair picture of the distribution.  With ``scores`` (e.g.
    log-densities) each grasp is coloured by its score (viridis, low to high).  ``kind="points"`` draws
    the object as ``points`` [N, 3] (``dims`` is then only named in the title).
    """
    R, t = np.asarray(R, dtype=float), np.asarray(t, dtype=float)
    order = np.arange(min(len(R), max_grasps))
    fig = plt.figure(figsize=(6, 6))
    ax = fig.add_subplot(projection="3d")
    _draw_object(ax, kind, dims, points)
    cmap = plt.get_cmap("viridis")
    if scores is not None and len(order):
        low, high = scores[order].min(), scores[order].max()
        colours = [cmap((scores[i] - low) / max(high - low, 1e-9)) for i in order]
    else:
        colours = ["tab:blue"] * len(order)
    for i, colour in zip(order, colours, strict=True):
        for a, b in gripper_segments(R[i], t[i]):
            ax.plot(*zip(a, b, strict=True), color=colour, lw=1.0)
    extent = max(0.12, float(np.abs(t).max()) + 0.06) if len(t) else 0.12
    ax.set(xlim=(-extent, extent), ylim=(-extent, extent), zlim=(-extent, extent), xlabel="x [m]",
           ylabel="y [m]", zlabel="z [m]")  # fmt: skip
    ax.set_box_aspect((1, 1, 1))
    ax.set_title(title or f"{kind} {', '.join(f'{d:.3g}' for d in dims)} m: {len(order)} grasps")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
