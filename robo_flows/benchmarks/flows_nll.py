"""Held-out negative log-likelihood of flow contenders after the same Adam steps on the same batches."""

from __future__ import annotations

import torch
from torch import Tensor

from robo_flows.benchmarks.flows_contenders import Architecture, build_contender
from robo_flows.benchmarks.toys import CONDITIONAL_TOYS, UNCONDITIONAL_TOYS

DATASETS: tuple[str, ...] = (*UNCONDITIONAL_TOYS, *CONDITIONAL_TOYS)
GRAD_CLIP = 5.0  # max gradient norm, the same for every contender


def draw(dataset: str, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor | None]:
    """``n`` samples ``(x [n, D], c [n, C] or None)`` of a toy data set."""
    if dataset in UNCONDITIONAL_TOYS:
        return UNCONDITIONAL_TOYS[dataset](n, generator), None
    if dataset in CONDITIONAL_TOYS:
        return CONDITIONAL_TOYS[dataset](n, generator)
    raise ValueError(f"unknown data set {dataset!r}; expected one of {DATASETS}")


def dataset_shape(dataset: str) -> tuple[int, int]:
    """``(features D, context features C)`` of a data set (``C = 0``: unconditional)."""
    x, c = draw(dataset, 2, torch.Generator().manual_seed(0))
    return x.shape[-1], 0 if c is None else c.shape[-1]


def held_out_nll(
    name: str,
    kind: str,
    dataset: str,
    steps: int,
    batch: int = 512,
    lr: float = 1e-3,
    held_out: int = 20_000,
    seed: int = 0,
    layers: int = 5,
    hidden_features: tuple[int, ...] = (128, 128),
    bins: int = 8,
) -> float:
    """Train contender ``name`` for ``steps`` Adam steps, then return the mean NLL (nats) on held-out data.

    Every contender sees the same batches (a generator seeded with ``seed``), the same gradient clipping
    (norm :data:`GRAD_CLIP`) and is evaluated on the same held-out set (seed ``seed + 1``).  The flow has the
    data set's features and context size.
    """
    features, ctx = dataset_shape(dataset)
    arch = Architecture(features, ctx, layers, tuple(hidden_features), bins)
    contender = build_contender(name, kind, arch, seed=seed)
    parameters = list(contender.module.parameters())
    optimizer = torch.optim.Adam(parameters, lr=lr)
    generator = torch.Generator().manual_seed(seed)
    contender.module.train()
    for _ in range(steps):
        x, c = draw(dataset, batch, generator)
        optimizer.zero_grad(set_to_none=True)
        loss = -contender.log_prob(x, c).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, GRAD_CLIP)
        optimizer.step()
    contender.module.eval()
    x, c = draw(dataset, held_out, torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        return float(-contender.log_prob(x, c).mean())
