"""Rollout videos: several seeded episodes of one actor, tiled side by side in one mp4.

Each tile is the env's rendered scene (``render_mode="rgb_array"``; the RoboFlows tasks draw a 256 x 256
view from above the workspace) with the episode's seed, outcome and executed mode written on it; for a policy
that sees images (a Dict observation with ``*_image`` keys), the camera images it was given at that step stand
beside the scene, scaled to its height.  Episodes that end early hold their last frame.  The video is an H.264
mp4 written by imageio (its ffmpeg plugin, else its PyAV plugin); a GIF only where neither is installed.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from robo_flows.evaluation.actors import Actor
from robo_flows.evaluation.rollout import make_vector_env

FPS = 12  # every control step is a frame: about half speed of the 25 Hz control rate
IMAGE_SUFFIX = "_image"
MIN_SIDE = 256  # scenes smaller than this are scaled up (nearest neighbour) to it
LABEL_SCALE = 2  # pixels per font pixel of the labels


@dataclass
class EpisodeFrames:
    """One recorded episode: its frames (scene with the policy's camera images beside it) and outcome."""

    seed: int
    frames: list[np.ndarray] = field(default_factory=list)
    success: bool = False
    mode: str | None = None


def record_video(
    env_id: str,
    actor: Actor,
    seeds: Sequence[int],
    path: Path,
    env_kwargs: dict[str, Any] | None = None,
    perturb_steps: int = 0,
    fps: int = FPS,
) -> Path:
    """Run one episode per seed in a rendered env and write them tiled to ``path`` (see :func:`write_video`).
    Returns the path written."""
    kwargs = {**(env_kwargs or {}), "render_mode": "rgb_array"}
    envs = make_vector_env(env_id, 1, kwargs, asynchronous=False, perturb_steps=perturb_steps)
    try:
        episodes = [_record_episode(envs, actor, int(seed)) for seed in seeds]
    finally:
        envs.close()
    return write_video(tile_episodes(episodes), Path(path), fps)


def _record_episode(envs, actor: Actor, seed: int) -> EpisodeFrames:
    obs, _ = envs.reset(seed=[seed])
    actor.reset()
    episode = EpisodeFrames(seed)
    episode.frames.append(_frame(envs, obs))
    done = False
    while not done:
        obs, _, terminated, truncated, info = envs.step(actor.act(obs, envs))
        done = bool(terminated[0] or truncated[0])
        episode.frames.append(_frame(envs, obs))
    episode.success = bool(info["is_success"][0]) if "is_success" in info else False
    episode.mode = str(info["mode"][0]) if "mode" in info else None
    return episode


def _frame(envs, obs: Any) -> np.ndarray:
    """The scene (at least ``MIN_SIDE`` pixels high) with the observation's camera images to its right."""
    scene = _at_least(np.asarray(envs.call("render")[0], dtype=np.uint8), MIN_SIDE)
    if not isinstance(obs, dict):
        return scene
    images = [np.asarray(v)[0] for k, v in obs.items() if k.endswith(IMAGE_SUFFIX)]
    if not images:
        return scene
    h = scene.shape[0]
    column = [
        _resize_nearest(im, h // len(images), round(im.shape[1] * (h // len(images)) / im.shape[0]))
        for im in images
    ]
    width = max(c.shape[1] for c in column)
    side = np.zeros((h, width, 3), np.uint8)
    top = 0
    for c in column:
        side[top : top + c.shape[0], : c.shape[1]] = c
        top += c.shape[0]
    return np.concatenate([scene, side], axis=1)


def _at_least(image: np.ndarray, side: int) -> np.ndarray:
    factor = math.ceil(side / min(image.shape[:2]))
    return image if factor <= 1 else image.repeat(factor, axis=0).repeat(factor, axis=1)


def _resize_nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    rows = np.minimum((np.arange(height) * image.shape[0] / height).astype(int), image.shape[0] - 1)
    cols = np.minimum((np.arange(width) * image.shape[1] / width).astype(int), image.shape[1] - 1)
    return image[rows][:, cols]


def tile_episodes(episodes: Sequence[EpisodeFrames]) -> list[np.ndarray]:
    """Video frames: the episodes on a near-square grid, each labelled, shorter ones holding their last
    frame.  Label: ``seed S: success | failure, mode M``."""
    if not episodes:
        raise ValueError("tile_episodes needs at least one episode")
    h = max(f.shape[0] for e in episodes for f in e.frames)
    w = max(f.shape[1] for e in episodes for f in e.frames)
    cols = math.ceil(math.sqrt(len(episodes)))
    rows = math.ceil(len(episodes) / cols)
    length = max(len(e.frames) for e in episodes)
    labels = [_label_of(e) for e in episodes]
    out = []
    for t in range(length):
        canvas = np.zeros((rows * h, cols * w, 3), np.uint8)
        for i, (e, label) in enumerate(zip(episodes, labels, strict=True)):
            tile = e.frames[min(t, len(e.frames) - 1)].copy()
            done = t >= len(e.frames) - 1
            colour = ((40, 160, 40) if e.success else (200, 40, 40)) if done else (60, 60, 60)
            draw_text(tile, label, 4, 4, colour)  # on the tile: a long label is cut at the tile's edge
            r, c = divmod(i, cols)
            canvas[r * h : r * h + tile.shape[0], c * w : c * w + tile.shape[1]] = tile
        out.append(canvas)
    return out


def _label_of(e: EpisodeFrames) -> str:
    outcome = "success" if e.success else "failure"
    return f"seed {e.seed}: {outcome}" + (f", mode {e.mode}" if e.mode else "")


def draw_text(image: np.ndarray, text: str, top: int, left: int, background: tuple[int, int, int]) -> None:
    """Write ``text`` in white on a ``background`` box at (``top``, ``left``) of ``image`` (in place), with
    Pillow's built-in bitmap font scaled by ``LABEL_SCALE``."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
    mask = Image.new("L", (x1 + 2, y1 + 2), 0)
    ImageDraw.Draw(mask).text((1, 1), text, fill=255, font=font)
    glyphs = np.asarray(mask).repeat(LABEL_SCALE, axis=0).repeat(LABEL_SCALE, axis=1) > 127
    h = min(glyphs.shape[0], image.shape[0] - top)
    w = min(glyphs.shape[1], image.shape[1] - left)
    if h <= 0 or w <= 0:
        return
    region = image[top : top + h, left : left + w]
    region[:] = background
    region[glyphs[:h, :w]] = 255


def write_video(frames: Sequence[np.ndarray], path: Path, fps: int) -> Path:
    """Write ``frames`` as an H.264 mp4 at ``path`` (even-sized, yuv420p, so every player reads it) with
    imageio's ffmpeg or PyAV plugin; a GIF where ``path`` ends in ``.gif`` or neither plugin is installed
    (then at ``path`` with the ``.gif`` suffix)."""
    import imageio.v3 as iio

    frames = [_even(f) for f in frames]
    plugin = next((name for name in ("ffmpeg", "pyav") if _has_writer(name)), None)
    if plugin is None or path.suffix.lower() == ".gif":
        gif = path.with_suffix(".gif")
        iio.imwrite(gif, np.stack(frames), duration=1000.0 / fps, loop=0)
        return gif
    mp4 = path.with_suffix(".mp4")
    if plugin == "ffmpeg":
        iio.imwrite(mp4, np.stack(frames), plugin="FFMPEG", fps=fps, codec="libx264", pixelformat="yuv420p")
    else:
        iio.imwrite(
            mp4, np.stack(frames), plugin="pyav", fps=fps, codec="libx264", out_pixel_format="yuv420p"
        )
    return mp4


def _has_writer(plugin: str) -> bool:
    return importlib.util.find_spec({"ffmpeg": "imageio_ffmpeg", "pyav": "av"}[plugin]) is not None


def _even(frame: np.ndarray) -> np.ndarray:
    """Crop to even height and width (H.264 with 4:2:0 chroma needs both)."""
    return frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2]
