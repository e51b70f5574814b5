"""Interleaved speed measurements of flow contenders (training step, log_prob, sampling)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from robo_flows.benchmarks.flows_contenders import Contender
from robo_flows.benchmarks.harness import Timing, percentile, time_interleaved

SPEED_METRICS: tuple[str, ...] = ("train_step_ms", "log_prob_per_s", "sample_b1_ms", "sample_b512_ms")
WARMUP = 1  # untimed calls per contender after its cold call


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


def _cpu_timed(fn: Callable[[], object], sink: list[float]) -> Callable[[], object]:
    """``fn`` that appends the process CPU time of each call (seconds, all threads) to ``sink``."""

    def run() -> object:
        start = time.process_time()
        out = fn()
        sink.append(time.process_time() - start)
        return out

    return run


def measure_speed(
    contenders: list[Contender],
    features: int,
    context_features: int,
    batch: int,
    reps: int,
    calls: int,
    seed: int = 0,
) -> tuple[dict[str, dict[str, Timing]], dict[str, dict[str, list[float]]]]:
    """``({metric: {contender: Timing}}, {metric: {contender: CPU seconds per timed call}})`` for
    :data:`SPEED_METRICS`; contenders interleaved per metric.

    Timings are wall seconds per call; sampling draws one sample per context row (batch 1 and ``batch``);
    unconditional flows draw 1 and ``batch`` samples.  ``log_prob_per_s`` is timed per call like the
    others; :func:`summary` turns it into samples per second.  The CPU times (``time.process_time``, the
    cold and warm-up calls left out) are what a call costs the process whether or not a neighbour took the
    core meanwhile: on a shared machine at one thread they estimate an idle core's wall time; at several
    threads they add up every thread's time, spinning included.
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
    timings: dict[str, dict[str, Timing]] = {}
    cpu: dict[str, dict[str, list[float]]] = {}
    for metric, tasks in tasks_by_metric.items():
        sinks: dict[str, list[float]] = {name: [] for name in tasks}
        timed = {name: _cpu_timed(fn, sinks[name]) for name, fn in tasks.items()}
        timings[metric] = time_interleaved(timed, repeats=reps, calls=calls, warmup=WARMUP)
        cpu[metric] = {name: sink[1 + WARMUP :] for name, sink in sinks.items()}
    return timings, cpu


def cpu_summary(cpu: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Median CPU milliseconds per call of each metric and contender."""
    return {
        metric: {name: 1e3 * percentile(v, 50.0) for name, v in by_name.items()}
        for metric, by_name in cpu.items()
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
