"""Moving batches to a device and the validation loss of a model over a dataset."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


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


@torch.no_grad()
def evaluate_loss(
    model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device, seed: int = 0
) -> float:
    """Mean of ``model.loss`` over ``dataset`` (weighted by batch size), in eval mode.

    Runs under a forked, seeded RNG so any randomness in the loss is reproducible and the training random
    stream is left untouched.
    """
    was_training = model.training
    model.eval()
    devices = [device] if device.type == "cuda" else []
    total, count = 0.0, 0
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            n = _batch_len(batch)
            total += float(model.loss(to_device(batch, device))) * n
            count += n
    model.train(was_training)
    return total / max(count, 1)
