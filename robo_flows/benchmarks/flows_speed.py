"""Interleaved speed measurements of flow contenders (training step, log_prob, sampling)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from robo_flows.benchmarks.flows_contenders import Contender

SPEED_METRICS: tuple[str, ...] = ("train_step_ms", "log_prob_per_s", "sample_b1_ms", "sample_b512_ms")


def interleaved_median_seconds(
    tasks: dict[str, Callable[[], object]], reps: int, calls: int
) -> dict[str, float]:
    """Median over ``reps`` repetitions of the mean time per call of each task, in seconds.

    In each repetition every task runs ``calls`` times back to back, the tasks taking turns in an order that
    rotates from one repetition to the next, so slow phases of a shared machine hit all of them alike.
    """
    names = list(tasks)
    for name in names:  # warm-up (allocations, lazy init)
        tasks[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            for _ in range(calls):
                tasks[name]()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def _train_step(contender: Contender, x: torch.Tensor, c: torch.Tensor | None) -> Callable[[], None]:
    optimizer = torch.optim.Adam(contender.module.parameters(), lr=1e-4)

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
) -> dict[str, dict[str, float]]:
    """``{metric: {contender: value}}`` for :data:`SPEED_METRICS`; contenders are interleaved per metric.

    Times are per call (ms); ``log_prob_per_s`` is samples per second at ``batch``.  Sampling draws one sample
    per context row (batch 1 and ``batch``); unconditional flows draw 1 and ``batch`` samples.
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
    results: dict[str, dict[str, float]] = {}
    for metric, tasks in tasks_by_metric.items():
        seconds = interleaved_median_seconds(tasks, reps, calls)
        if metric == "log_prob_per_s":
            results[metric] = {name: batch / s for name, s in seconds.items()}
        else:
            results[metric] = {name: 1e3 * s for name, s in seconds.items()}
    return results
