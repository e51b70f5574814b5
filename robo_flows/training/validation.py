"""Moving batches to a device; the validation losses of a model over a dataset (mean, per-demo median)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset


def to_device(batch: Any, device: torch.device) -> Any:
    """``batch`` (tensors in dicts / lists / tuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _batch_len(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return len(batch)
    values = batch.values() if isinstance(batch, dict) else batch
    return _batch_len(next(iter(values)))


@dataclass(frozen=True)
class ValidationStats:
    """Validation losses of one model over a dataset.

    mean:   the mean loss over all items (windows), the plain statistic.
    median: the median over demonstrations of each demonstration's mean loss (None when the dataset does not
            say which items belong to which demonstration). One demonstration, however extreme, cannot move
            it by more than the gap between its two middle neighbours (breakdown point 1/2); with three or
            more held-out demonstrations a single outlier never owns it, unlike the mean over windows, where
            a long odd demonstration with a huge loss per window decides the whole statistic.
    per_group: each demonstration's mean loss, in dataset order (empty without groups).
    """

    mean: float
    median: float | None
    per_group: tuple[float, ...]


def _group_ranges(dataset: Dataset) -> list[range]:
    """Consecutive item ranges, one per demonstration, from ``dataset.group_sizes`` (else one range)."""
    sizes = getattr(dataset, "group_sizes", None)
    n = len(dataset)
    if sizes is None:
        return [range(n)]
    sizes = [int(k) for k in sizes]
    if sum(sizes) != n or any(k < 0 for k in sizes):
        raise ValueError(f"dataset.group_sizes {sizes[:5]}... must be >= 0 and sum to its {n} items")
    starts = [0]
    for k in sizes:
        starts.append(starts[-1] + k)
    return [range(a, b) for a, b in zip(starts[:-1], starts[1:], strict=True) if b > a]


@torch.no_grad()
def validation_stats(
    model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device, seed: int = 0
) -> ValidationStats:
    """``model.loss`` over ``dataset`` in eval mode: the mean over items and the median over demonstrations.

    ``dataset.group_sizes`` (optional) lists how many consecutive items each demonstration holds (a
    ``DemoDataset`` has it); batches never mix demonstrations, so a demonstration's mean is the size-weighted
    mean of its batches' losses (``model.loss`` is a mean over its batch). Runs under a forked, seeded RNG so
    any randomness in the loss is reproducible and the training random stream is left untouched.
    """
    was_training = model.training
    model.eval()
    devices = [device] if device.type == "cuda" else []
    grouped = getattr(dataset, "group_sizes", None) is not None
    means: list[float] = []
    total, count = 0.0, 0
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for items in _group_ranges(dataset):
            group_total = 0.0
            loader = DataLoader(Subset(dataset, items), batch_size=batch_size, shuffle=False)
            for batch in loader:
                group_total += float(model.loss(to_device(batch, device))) * _batch_len(batch)
            means.append(group_total / len(items))
            total, count = total + group_total, count + len(items)
    model.train(was_training)
    if not grouped:
        return ValidationStats(mean=total / max(count, 1), median=None, per_group=())
    return ValidationStats(
        mean=total / max(count, 1), median=float(np.median(means)) if means else None, per_group=tuple(means)
    )


def evaluate_loss(
    model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device, seed: int = 0
) -> float:
    """Mean of ``model.loss`` over the items of ``dataset`` (``validation_stats(...).mean``)."""
    return validation_stats(model, dataset, batch_size, device, seed).mean
