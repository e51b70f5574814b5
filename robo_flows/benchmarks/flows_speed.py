"""Interleaved speed measurements of flow contenders (training step, log_prob, sampling)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from robo_flows.benchmarks.flows_contenders import Contender
from robo_flows.benchmarks.harness import Timing, time_interleaved

SPEED_METRICS: tuple[str, ...] = ("train_step_ms", "log_prob_per_s", "sample_b1_ms", "sample_b512_ms")


def _train_step(contender: Contender, x: torch.Tensor, c: torch.Tensor | None) -> Callable[[], None]:
    """One Adam step on ``-mean log p(x | c)``; the same optimizer for every contender: ``fused`` Adam (one
    kernel over all parameters per update, as robo_flows' trainer uses), so no contender pays for a
    per-tensor update loop."""
    optimizer = torch.optim.Adam(contender.module.parameters(), lr=1e-4, fused=True)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = -contender.log_prob(x, c).mean()
        loss.backward()
        optimizer.step()

    return step


def _no_grad(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with torch.no_grad():
            return fn()

    return run


def measure_speed(
    contenders: list[Contender],
    features: int,
    context_features: int,
    batch: int,
    reps: int,
    calls: int,
    seed: int = 0,
) -> dict[str, dict[str, Timing]]:
    """``{metric: {contender: Timing}}`` for :data:`SPEED_METRICS`; contenders interleaved per metric.

    Timings are seconds per call; sampling draws one sample per context row (batch 1 and ``batch``);
    unconditional flows draw 1 and ``batch`` samples.  ``log_prob_per_s`` is timed per call like the
    others; :func:`summary` turns it into samples per second.
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, features, generator=generator)
    c = torch.randn(batch, context_features, generator=generator) if context_features else None
    c1 = None if c is None else c[:1]
    tasks_by_metric: dict[str, dict[str, Callable[[], object]]] = {
        "train_step_ms": {k.name: _train_step(k, x, c) for k in contenders},
        "log_prob_per_s": {k.name: _no_grad(lambda k=k: k.log_prob(x, c)) for k in contenders},
        "sample_b1_ms": {k.name: _no_grad(lambda k=k: k.sample(c1, 1)) for k in contenders},
        "sample_b512_ms": {k.name: _no_grad(lambda k=k: k.sample(c, batch)) for k in contenders},
    }
    return {
        metric: time_interleaved(tasks, repeats=reps, calls=calls)
        for metric, tasks in tasks_by_metric.items()
    }


def summary(timings: dict[str, dict[str, Timing]], batch: int) -> dict[str, dict[str, float]]:
    """Medians: milliseconds per call, ``log_prob_per_s`` as samples per second at ``batch``."""
    out: dict[str, dict[str, float]] = {}
    for metric, by_name in timings.items():
        if metric == "log_prob_per_s":
            out[metric] = {name: batch / t.median_s for name, t in by_name.items()}
        else:
            out[metric] = {name: 1e3 * t.median_s for name, t in by_name.items()}
    return out
