"""From what an environment or a user hands over to the flat observation vector a policy was trained on.

A policy is trained on the concatenation of ``obs_keys`` (in that order), ``obs_dim`` values per step.
Three input forms are accepted, each single ``[...]`` or batched ``[N, ...]``:

* a dict ``{key: array}`` (e.g. a gymnasium ``Dict`` observation): the ``obs_keys`` are picked and
  concatenated in order, extra keys are ignored;
* a flat array in the environment's ``obs_layout`` order (an ordered ``{key: size}`` recorded with the
  demonstrations), which is split by that layout and re-assembled by ``obs_keys`` -- so a policy trained on
  a subset or a reordering of the keys runs on the environment's full observation;
* without a layout, a flat array that already is the concatenation of ``obs_keys``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


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


class ObservationAdapter:
    """Flattens, validates and batches observations into ``float32 [N, obs_dim]``."""

    def __init__(
        self, obs_keys: Sequence[str], obs_dim: int, layout: Mapping[str, int] | None = None
    ) -> None:
        self.obs_keys = list(obs_keys)
        self.obs_dim = int(obs_dim)
        self.layout = {str(k): int(v) for k, v in layout.items()} if layout else None
        if self.layout is not None:
            missing = [k for k in self.obs_keys if k not in self.layout]
            if missing:
                raise ValueError(f"obs_keys {missing} are not in the observation layout {list(self.layout)}")
            subset = sum(self.layout[k] for k in self.obs_keys)
            if subset != self.obs_dim:
                raise ValueError(
                    f"obs_keys {self.obs_keys} cover {subset} values of the layout {self.layout}, "
                    f"but the policy was trained on {self.obs_dim}"
                )
        # size of a full flat observation in layout order, and the columns of obs_keys in it (or None)
        self.layout_dim: int | None = None
        self._columns: np.ndarray | None = None
        if self.layout is not None:
            self.layout_dim = sum(self.layout.values())
            start = dict(zip(self.layout, np.cumsum([0, *self.layout.values()])[:-1], strict=True))
            self._columns = np.concatenate(
                [np.arange(start[k], start[k] + self.layout[k]) for k in self.obs_keys]
            )

    def __call__(self, obs: np.ndarray | Mapping[str, np.ndarray]) -> tuple[np.ndarray, bool]:
        """Return ``(flat [N, obs_dim] float32, batched)``; ``batched`` is False for a single observation."""
        if isinstance(obs, Mapping):
            flat, batched = self._from_dict(obs)
        else:
            flat, batched = self._from_array(np.asarray(obs))
        return as_finite_float32(flat, f"observation (obs_keys: {self.obs_keys})"), batched

    def _from_dict(self, obs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, bool]:
        missing = [k for k in self.obs_keys if k not in obs]
        if missing:
            raise ValueError(
                f"observation lacks keys {missing}; the policy needs {self.obs_keys}, given {list(obs)}"
            )
        parts = [np.asarray(obs[k]) for k in self.obs_keys]
        batched = parts[0].ndim >= 2
        for key, part in zip(self.obs_keys, parts, strict=True):
            if (part.ndim >= 2) != batched:
                raise ValueError(
                    f"observation key {key!r} has shape {part.shape}, inconsistent with the others"
                )
        if batched:
            sizes = {part.shape[0] for part in parts}
            if len(sizes) != 1:
                raise ValueError(f"observation keys have different batch sizes {sorted(sizes)}")
            parts = [part.reshape(part.shape[0], -1) for part in parts]
        else:
            parts = [part.reshape(1, -1) for part in parts]
        flat = np.concatenate(parts, axis=-1)
        self._check_size(flat.shape[-1], "dict observation")
        return flat, batched

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
