"""Exponential moving average of a model's weights.

After the n-th update (n = 1, 2, ...), for every floating parameter p:
    ema <- d_n * ema + (1 - d_n) * p,   d_n = min(decay, (1 + n) / (10 + n)),
so early averages are not dominated by the random initialisation; buffers (e.g. normalizer statistics) are
copied. ``model`` is a full copy in eval mode whose ``state_dict`` loads into the original architecture.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """The averaged copy of ``model``; call ``update(model)`` after each optimizer step."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)

    def current_decay(self) -> float:
        """d_n for the next update."""
        n = self.updates + 1
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        d = self.current_decay()
        for avg, p in zip(self.model.parameters(), model.parameters(), strict=True):
            avg.lerp_(p.detach(), 1.0 - d)
        for avg, b in zip(self.model.buffers(), model.buffers(), strict=True):
            avg.copy_(b)
        self.updates += 1
