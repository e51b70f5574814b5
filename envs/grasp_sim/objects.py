"""Procedural primitive objects (box, cylinder, sphere): specs, random graspable sizes, descriptors.

Pure numpy. Every primitive is centred on its object frame's origin; a cylinder's axis is the object z
axis. Dimensions are metres: a box has full side lengths (x, y, z), a cylinder (radius, height), a sphere
(radius,). A primitive is *graspable* when some extent the Panda can close across is at most
``MAX_GRASP_WIDTH`` (the 0.08 m opening less a clearance on each side).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from robo_flows_envs.grasp_sim.gripper import MAX_GRASP_WIDTH, MAX_OPENING, MIN_CLEARANCE

KINDS: tuple[str, ...] = ("box", "cylinder", "sphere")
DIM_NAMES: dict[str, tuple[str, ...]] = {
    "box": ("x", "y", "z"),
    "cylinder": ("radius", "height"),
    "sphere": ("radius",),
}
MIN_DIM = 0.01
"""Smallest dimension a primitive may have, metres (thinner parts slip out of the pads)."""
MAX_DIM = 0.3
"""Largest dimension a primitive may have, metres (the evaluator is built for hand-sized objects)."""

DESCRIPTOR_DIM = len(KINDS) + 3
"""Length of ``describe(p)``: one-hot kind, then the dimensions zero padded to 3."""

# Ranges the random primitives are drawn from, per kind and dimension (metres). Widths the hand closes
# across stay at or below 0.065 m, so open fingers keep >= 7.5 mm from the object on each side.
_SIZE_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "box": ((0.02, 0.065), (0.02, 0.065), (0.03, 0.15)),
    "cylinder": ((0.012, 0.0325), (0.03, 0.15)),
    "sphere": ((0.015, 0.0325),),
}
_BANDS = 6
"""Each size range is cut into this many equal bands; training sizes use the even bands, held-out the odd."""


@dataclass(frozen=True)
class Primitive:
    """A box, cylinder or sphere centred on the object frame; validated on construction.

    kind: one of ``KINDS``; dims: box (x, y, z) full sizes, cylinder (radius, height), sphere (radius,).
    """

    kind: str
    dims: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown primitive kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        names = DIM_NAMES[self.kind]
        if len(self.dims) != len(names):
            raise ValueError(
                f"a {self.kind} takes {len(names)} dimension(s) ({', '.join(names)}), got {len(self.dims)}: "
                f"{tuple(self.dims)}"
            )
        dims = tuple(float(d) for d in self.dims)
        object.__setattr__(self, "dims", dims)
        for name, value in zip(names, dims, strict=True):
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{self.kind} {name} must be a positive number of metres, got {value}")
            if not MIN_DIM <= value <= MAX_DIM:
                raise ValueError(
                    f"{self.kind} {name} = {value} m is outside [{MIN_DIM}, {MAX_DIM}] m "
                    "(hand-sized objects only)"
                )
        widths = grasp_widths(self)
        if min(widths.values()) > MAX_GRASP_WIDTH:
            shown = ", ".join(f"{k} {v:.4g} m" for k, v in widths.items())
            raise ValueError(
                f"{self.spec} is not graspable: its extents across which the hand could close are {shown}, "
                f"but the Panda opening is {MAX_OPENING} m and a grasp needs at most {MAX_GRASP_WIDTH} m "
                f"({MIN_CLEARANCE} m clearance per finger)"
            )

    @property
    def spec(self) -> str:
        """The text form ``kind:d1,d2,...`` that ``parse_object_spec`` reads back."""
        return f"{self.kind}:" + ",".join(f"{d:.6g}" for d in self.dims)

    def padded_dims(self) -> np.ndarray:
        """Dimensions zero padded to 3 values, float64 [3]."""
        out = np.zeros(3)
        out[: len(self.dims)] = self.dims
        return out

    def volume(self) -> float:
        """Volume in m³."""
        if self.kind == "box":
            return float(np.prod(self.dims))
        if self.kind == "cylinder":
            r, h = self.dims
            return float(np.pi * r * r * h)
        return float(4.0 / 3.0 * np.pi * self.dims[0] ** 3)


def grasp_widths(p: Primitive) -> dict[str, float]:
    """Extents of ``p`` that parallel jaws can close across, by name (box: its sides, cylinder: the
    diameter and the height, sphere: the diameter)."""
    if p.kind == "box":
        return dict(zip(("x", "y", "z"), p.dims, strict=True))
    if p.kind == "cylinder":
        return {"diameter": 2 * p.dims[0], "height": p.dims[1]}
    return {"diameter": 2 * p.dims[0]}


def parse_object_spec(spec: str) -> Primitive:
    """Parse ``"box:0.05,0.04,0.12"``, ``"cylinder:0.03,0.1"`` or ``"sphere:0.03"`` (metres) into a Primitive.

    Raises ValueError naming the offending part for unknown kinds, wrong counts, non-numbers,
    non-positive, out-of-range or ungraspable dimensions.
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(
            f"object spec must look like 'box:0.05,0.04,0.12', 'cylinder:R,H' or 'sphere:R', got {spec!r}"
        )
    kind, _, values = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ValueError(f"unknown primitive kind {kind!r} in {spec!r}; expected one of {', '.join(KINDS)}")
    try:
        dims = tuple(float(v) for v in values.split(","))
    except ValueError:
        raise ValueError(f"object spec {spec!r}: dimensions must be comma separated numbers") from None
    return Primitive(kind, dims)


def _draw_size(rng: np.random.Generator, low: float, high: float, held_out: bool) -> float:
    """A size from [low, high) restricted to the training (even) or held-out (odd) bands."""
    width = (high - low) / _BANDS
    bands = np.arange(1 if held_out else 0, _BANDS, 2)
    band = rng.choice(bands)
    return float(low + width * (band + rng.random()))


def sample_primitives(rng: np.random.Generator, n: int, held_out: bool = False) -> list[Primitive]:
    """``n`` random graspable primitives, kinds uniform.

    Each dimension is drawn from its kind's size range cut into ``_BANDS`` bands; training objects
    (``held_out=False``) take only even bands, held-out objects only odd ones, so no held-out dimension
    lies in a band seen in training.
    """
    if n < 0:
        raise ValueError(f"number of primitives must be >= 0, got {n}")
    out = []
    for _ in range(n):
        kind = KINDS[int(rng.integers(len(KINDS)))]
        dims = tuple(_draw_size(rng, lo, hi, held_out) for lo, hi in _SIZE_RANGES[kind])
        out.append(Primitive(kind, dims))
    return out


def describe(p: Primitive) -> np.ndarray:
    """Conditioning descriptor: [one-hot kind (3), dims zero padded to 3], float32 [DESCRIPTOR_DIM]."""
    out = np.zeros(DESCRIPTOR_DIM, dtype=np.float32)
    out[KINDS.index(p.kind)] = 1.0
    out[len(KINDS) :] = p.padded_dims()
    return out
