"""From what an environment or a user hands over to the flat observation vector a policy was trained on.

A policy is trained on the concatenation of ``obs_keys`` (in that order), ``obs_dim`` values per step.
Three input forms are accepted, each single ``[...]`` or batched ``[N, ...]``:

* a dict ``{key: array}`` (e.g. a gymnasium ``Dict`` observation): the ``obs_keys`` are picked and
  concatenated in order, extra keys are ignored;
* a flat array in the environment's ``obs_layout`` order (an ordered ``{key: size}`` recorded with the
  demonstrations), which is split by that layout and re-assembled by ``obs_keys`` -- so a policy trained on
  a subset or a reordering of the keys runs on the environment's full observation;
* without a layout, a flat array that already is the concatenation of ``obs_keys``.

A policy that sees cameras (image keys, ``*_image``, among its ``obs_keys``) needs the dict form: its state
keys are concatenated as above, each image key must be uint8 ``[H, W, 3]`` (``[N, H, W, 3]`` batched) of the
size it was trained on.  Every wrong shape, dtype or value is a ValueError naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from robo_flows.data.image_windows import split_keys


def as_finite_float32(values: object, what: str = "observation") -> np.ndarray:
    """``values`` as a float32 array, or a ValueError naming ``what``: for a non-numeric dtype (strings,
    objects, complex numbers) and for NaN / inf *after* the cast (a float64 1e39 overflows to inf in float32).

    The one check every array a policy is handed goes through.
    """
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold real numbers, got an array of dtype {array.dtype}")
    with np.errstate(over="ignore"):  # an overflow becomes inf, reported below with its positions
        array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        bad = sorted({int(j) for j in np.argwhere(~np.isfinite(np.atleast_1d(array)))[:, -1]})
        raise ValueError(f"{what} holds NaN or inf (after the cast to float32) at positions {bad}")
    return array


class AdaptedObservation(NamedTuple):
    """An observation as a model takes it: ``state`` float32 ``[N, obs_dim]``, ``images`` uint8
    ``{key: [N, H, W, 3]}`` (empty for a state policy) and whether the input was ``batched``."""

    state: np.ndarray
    images: dict[str, np.ndarray]
    batched: bool


class ObservationAdapter:
    """Flattens, validates and batches observations into ``float32 [N, obs_dim]`` (and the camera images).

    ``image_shapes``: ``{image key: (H, W, 3)}`` of the image keys among ``obs_keys``.
    """

    def __init__(
        self,
        obs_keys: Sequence[str],
        obs_dim: int,
        layout: Mapping[str, int] | None = None,
        image_shapes: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        self.obs_keys = list(obs_keys)
        self.state_keys, self.image_keys = split_keys(self.obs_keys)
        self.obs_dim = int(obs_dim)
        self.layout = {str(k): int(v) for k, v in layout.items()} if layout else None
        shapes = dict(image_shapes or {})
        missing_shapes = [k for k in self.image_keys if k not in shapes]
        if missing_shapes:
            raise ValueError(f"image keys {missing_shapes} have no recorded image shape")
        self.image_shapes = {k: tuple(int(d) for d in shapes[k]) for k in self.image_keys}
        if self.layout is not None:
            missing = [k for k in self.state_keys if k not in self.layout]
            if missing:
                raise ValueError(f"obs_keys {missing} are not in the observation layout {list(self.layout)}")
            subset = sum(self.layout[k] for k in self.state_keys)
            if subset != self.obs_dim:
                raise ValueError(
                    f"obs_keys {self.state_keys} cover {subset} values of the layout {self.layout}, "
                    f"but the policy was trained on {self.obs_dim}"
                )
        # size of a full flat observation in layout order, and the columns of obs_keys in it (or None)
        self.layout_dim: int | None = None
        self._columns: np.ndarray | None = None
        if self.layout is not None:
            self.layout_dim = sum(self.layout.values())
            start = dict(zip(self.layout, np.cumsum([0, *self.layout.values()])[:-1], strict=True))
            self._columns = np.concatenate(
                [np.arange(start[k], start[k] + self.layout[k]) for k in self.state_keys]
            )

    def __call__(self, obs: np.ndarray | Mapping[str, np.ndarray]) -> AdaptedObservation:
        """The validated ``(state [N, obs_dim] float32, images, batched)``; ``batched`` is False for a single
        observation (then ``N = 1``)."""
        if isinstance(obs, Mapping):
            return self._from_dict(obs)
        if self.image_keys:
            raise ValueError(
                f"this policy sees the cameras {self.image_keys}: pass the Dict observation (obs_mode "
                f"'rgb' or 'state+rgb') with them and the state keys {self.state_keys}, not an array"
            )
        flat, batched = self._from_array(np.asarray(obs))
        return AdaptedObservation(
            as_finite_float32(flat, f"observation (obs_keys: {self.obs_keys})"), {}, batched
        )

    def _from_dict(self, obs: Mapping[str, np.ndarray]) -> AdaptedObservation:
        missing = [k for k in self.obs_keys if k not in obs]
        if missing:
            raise ValueError(
                f"observation lacks keys {missing}; the policy needs {self.obs_keys}, given {list(obs)}"
            )
        state_parts = [np.asarray(obs[k]) for k in self.state_keys]
        first = self.state_keys[0]
        batched = state_parts[0].ndim >= 2
        n = state_parts[0].shape[0] if batched else 1
        parts = []
        for key, part in zip(self.state_keys, state_parts, strict=True):
            if (part.ndim >= 2) != batched or (batched and part.shape[0] != n):
                raise ValueError(
                    f"observation key {key!r} has shape {list(part.shape)}, inconsistent with "
                    f"{first!r} of shape {list(state_parts[0].shape)}"
                )
            part = as_finite_float32(part, f"observation key {key!r}").reshape(n, -1)
            size = self.layout.get(key) if self.layout else None
            if size is not None and part.shape[1] != size:
                raise ValueError(
                    f"observation key {key!r} has {part.shape[1]} values per step, the policy was trained "
                    f"on {size}"
                )
            parts.append(part)
        flat = np.concatenate(parts, axis=-1)
        self._check_size(flat.shape[-1], "dict observation")
        images = {key: self._image(obs[key], key, batched, n) for key in self.image_keys}
        return AdaptedObservation(flat, images, batched)

    def _image(self, value: object, key: str, batched: bool, n: int) -> np.ndarray:
        image = np.asarray(value)
        expected = [n, *self.image_shapes[key]] if batched else list(self.image_shapes[key])
        if image.dtype != np.uint8:
            raise ValueError(f"observation key {key!r} must be a uint8 image, got dtype {image.dtype}")
        if list(image.shape) != expected:
            raise ValueError(
                f"observation key {key!r} must have shape {expected} (uint8 [{'N, ' if batched else ''}"
                f"H, W, 3] as trained), got {list(image.shape)}"
            )
        return image if batched else image[None]

    def _from_array(self, obs: np.ndarray) -> tuple[np.ndarray, bool]:
        if obs.ndim not in (1, 2):
            raise ValueError(
                f"observation must have shape [obs_dim] or [N, obs_dim] with obs_dim={self.obs_dim}, "
                f"got shape {obs.shape}"
            )
        batched = obs.ndim == 2
        flat = obs.reshape(-1, obs.shape[-1])
        if self._columns is not None and flat.shape[-1] == self.layout_dim:
            flat = flat[:, self._columns]
        self._check_size(flat.shape[-1], "observation")
        return flat, batched

    def _check_size(self, given: int, what: str) -> None:
        if given == self.obs_dim:
            return
        full = f" or the environment's full {self.layout_dim} (layout {self.layout})" if self.layout else ""
        raise ValueError(
            f"{what} has {given} values, the policy was trained on {self.obs_dim} "
            f"(obs_keys: {self.obs_keys}){full}"
        )
