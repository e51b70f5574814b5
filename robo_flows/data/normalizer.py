"""Per-dimension affine normalization that lives inside a model (buffers, so it is in every state_dict).

normalize(x)   = (x - shift) / scale      over the last dimension of x [..., D]
unnormalize(y) = y * scale + shift        (its exact inverse)

"meanstd": shift = mean, scale = std (population std) -> zero mean, unit variance.
"minmax":  shift = (max + min) / 2, scale = (max - min) / 2 -> the data range maps onto [-1, 1].
A constant dimension (scale below ``eps``) gets scale 1, so it is only shifted, never divided by ~0.
The Jacobian of ``normalize`` is diagonal: log|det d normalize / dx| = -sum(log scale) (``log_abs_det``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

NORMALIZATION_MODES: tuple[str, ...] = ("meanstd", "minmax")


class Normalizer(nn.Module):
    """Affine per-dimension normalizer over ``dim`` features; identity until fitted or loaded."""

    shift: Tensor
    scale: Tensor

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        if dim < 1:
            raise ValueError(f"Normalizer needs dim >= 1, got {dim}")
        self.dim = int(dim)
        self.eps = float(eps)
        self.register_buffer("shift", torch.zeros(self.dim))
        self.register_buffer("scale", torch.ones(self.dim))

    @classmethod
    def fit(cls, x: Tensor, mode: str = "meanstd", eps: float = 1e-6) -> Normalizer:
        """A normalizer fitted to samples ``x [N, D]`` (float64 statistics, stored as float32)."""
        if mode not in NORMALIZATION_MODES:
            raise ValueError(f"normalization mode must be one of {NORMALIZATION_MODES}, got {mode!r}")
        x = torch.as_tensor(x)
        if x.ndim != 2 or x.shape[0] < 1:
            raise ValueError(f"Normalizer.fit expects samples of shape [N >= 1, D], got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("Normalizer.fit got non-finite values (NaN/inf)")
        x = x.double()
        if mode == "meanstd":
            shift, scale = x.mean(0), x.std(0, unbiased=False)
        else:
            lo, hi = x.min(0).values, x.max(0).values
            shift, scale = (hi + lo) / 2, (hi - lo) / 2
        scale = torch.where(scale < eps, torch.ones_like(scale), scale)
        norm = cls(x.shape[1], eps=eps)
        norm.shift.copy_(shift)
        norm.scale.copy_(scale)
        return norm

    def _check(self, x: Tensor, what: str) -> None:
        if x.shape[-1] != self.dim:
            raise ValueError(f"{what} expects a last dimension of {self.dim}, got shape {tuple(x.shape)}")

    def normalize(self, x: Tensor) -> Tensor:
        """(x - shift) / scale over the last dimension; keeps x's dtype."""
        self._check(x, "normalize")
        return (x - self.shift.to(x.dtype)) / self.scale.to(x.dtype)

    def unnormalize(self, y: Tensor) -> Tensor:
        """y * scale + shift over the last dimension; keeps y's dtype."""
        self._check(y, "unnormalize")
        return y * self.scale.to(y.dtype) + self.shift.to(y.dtype)

    def log_abs_det(self) -> Tensor:
        """log|det d normalize(x) / dx| = -sum(log scale), a scalar (per vector of ``dim`` features)."""
        return -torch.log(self.scale).sum()

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
