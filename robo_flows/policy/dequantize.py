"""Dequantizing demonstrated actions for the density models (flow and gmm).

Experts saturate: demonstrated actions sit on the action box's faces, atoms of probability where a density
model can gain without bound (a bounded flow's latent is infinite there; a Gaussian's variance shrinks to
its floor).  Both density models therefore fit actions moved by Gaussian noise of ``ACTION_NOISE`` of the
box width, reflected back into the box, kept ``BOUNDARY_MARGIN`` inside the open box.
"""

from __future__ import annotations

import torch

ACTION_NOISE = 0.005
BOUNDARY_MARGIN = 1e-5
EVAL_NOISE_SEED = 0


def dequantize_in_box(
    actions: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
    eps: torch.Tensor,
    noise: float = ACTION_NOISE,
    margin: float = BOUNDARY_MARGIN,
) -> torch.Tensor:
    r"""Blur actions inside the box ``[low, high]`` (per last dim): with ``u = (a - low) / (high - low)``,

    ``v = 1 - |1 - |u + noise * eps||`` (one reflection at each face), clamped to ``[margin, 1 - margin]``
    and mapped back by ``low + (high - low) v``.  ``eps`` is standard normal noise of the actions' shape.
    Actions outside the box are a ValueError, never clipped (the demo files are checked against the box
    when read for training, ``robo_flows.data.action_box``).
    """
    u = (actions - low) / (high - low)
    if not bool(((u >= 0.0) & (u <= 1.0)).all()):
        raise ValueError(
            f"actions outside the action box [{low.tolist()}, {high.tolist()}] cannot be dequantized in it"
        )
    u = 1.0 - (1.0 - (u + noise * eps).abs()).abs()
    return low + (high - low) * u.clamp(margin, 1.0 - margin)


def dequantization_noise(actions: torch.Tensor, training: bool) -> torch.Tensor:
    """Standard normal ``eps`` like ``actions``: fresh in training; in evaluation from a generator with a
    fixed seed, so validation losses are comparable between steps and leave the global RNG alone."""
    if training:
        return torch.randn_like(actions)
    gen = torch.Generator(device=actions.device).manual_seed(EVAL_NOISE_SEED)
    return torch.randn(actions.shape, generator=gen, device=actions.device, dtype=actions.dtype)
