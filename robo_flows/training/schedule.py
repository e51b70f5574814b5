"""Learning-rate schedule: linear warm-up, then a half cosine down to zero.

factor(s) = (s + 1) / warmup                                  for s < warmup
factor(s) = 0.5 * (1 + cos(pi * (s - warmup) / (total - warmup)))   after,
where ``s`` counts optimizer steps already taken; the learning rate is ``lr * factor(s)``.
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """The multiplier of the base learning rate at ``step`` (0-based), in (0, 1]."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int) -> LambdaLR:
    """A ``LambdaLR`` following ``warmup_cosine_factor``; call ``step()`` once per optimizer step."""
    return LambdaLR(optimizer, lambda step: warmup_cosine_factor(step, warmup_steps, total_steps))
