"""Input checks for rotations and poses that raise ``ValueError`` naming the offending value and tolerance."""

from __future__ import annotations

import torch
from torch import Tensor

# Default orthonormality tolerance (max |RᵀR - I| and |det R - 1|) per dtype: float32 data cast to float64 and
# rotations composed a few times stay well inside these.
DEFAULT_ROTATION_ATOL: dict[torch.dtype, float] = {
    torch.float16: 1e-2,
    torch.bfloat16: 1e-2,
    torch.float32: 1e-4,
    torch.float64: 1e-6,
}


def check_finite(x: Tensor, name: str) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or inf, naming the first bad index and value."""
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        index = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"{name} must be finite, got {x[index].item()} at index {index}")


def check_shape(x: Tensor, trailing: tuple[int, ...], name: str) -> None:
    """Raise ``ValueError`` unless ``x`` has shape [..., *trailing]."""
    if x.dim() < len(trailing) or tuple(x.shape[x.dim() - len(trailing) :]) != trailing:
        expected = "[..., " + ", ".join(str(s) for s in trailing) + "]"
        raise ValueError(f"{name} must have shape {expected}, got {list(x.shape)}")


def check_rotation_matrices(R: Tensor, name: str = "R", atol: float | None = None) -> None:
    """Raise ``ValueError`` unless ``R`` [..., 3, 3] holds finite proper rotations.

    A matrix passes when max |RᵀR - I| ≤ atol and |det R - 1| ≤ atol; ``atol`` defaults to
    ``DEFAULT_ROTATION_ATOL[R.dtype]``.  The message names the first failing matrix and its error.
    """
    check_shape(R, (3, 3), name)
    check_finite(R, name)
    if not R.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {R.dtype}")
    tol = DEFAULT_ROTATION_ATOL[R.dtype] if atol is None else atol
    flat = R.reshape(-1, 3, 3)
    eye = torch.eye(3, dtype=R.dtype, device=R.device)
    ortho_err = (flat.transpose(-1, -2) @ flat - eye).abs().amax(dim=(-1, -2))
    det_err = (torch.linalg.det(flat) - 1).abs()
    for err, what in ((ortho_err, "not orthonormal: max |RᵀR - I|"), (det_err, "not proper: |det R - 1|")):
        bad = err > tol
        if bool(bad.any()):
            i = int(bad.nonzero()[0])
            index = [int(j) for j in torch.unravel_index(torch.tensor(i), R.shape[:-2])]
            where = f"{name}{index}" if index else name
            raise ValueError(f"{where} is {what} = {err[i].item():.3g} > tolerance {tol:.3g}")


def check_sixd(d6: Tensor, name: str = "d6", eps: float = 1e-6) -> None:
    """Raise ``ValueError`` unless the two 3-vectors of a 6-D representation are finite and independent.

    Independence is measured by |a1 × a2| / (|a1| |a2|) (the sine of their angle), which must exceed ``eps``.
    """
    check_shape(d6, (6,), name)
    check_finite(d6, name)
    a1, a2 = d6[..., :3], d6[..., 3:]
    norms = a1.norm(dim=-1) * a2.norm(dim=-1)
    sine = torch.linalg.cross(a1, a2, dim=-1).norm(dim=-1) / norms.clamp_min(torch.finfo(d6.dtype).tiny)
    bad = (sine <= eps).reshape(-1)
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        raise ValueError(
            f"{name}: the two 3-vectors of entry {i} are (nearly) parallel or zero "
            f"(sine of their angle {sine.reshape(-1)[i].item():.3g} <= {eps:.3g}); no rotation is defined"
        )
