"""Timing a policy in its control loop: ``select_action`` at batch 1, and one full chunk sample."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from robo_flows.evaluation.metrics import latency_summary
from robo_flows.policy.policy import FlowPolicy

WARMUP_CALLS = 10


def time_calls(fn: Callable[[Any], Any], inputs: Sequence[Any]) -> list[float]:
    """Seconds of each ``fn(x)`` over ``inputs``, after ``WARMUP_CALLS`` untimed calls."""
    if not inputs:
        raise ValueError("time_calls needs at least one input")
    for x in inputs[:WARMUP_CALLS]:
        fn(x)
    timings = []
    for x in inputs:
        start = time.perf_counter()
        fn(x)
        timings.append(time.perf_counter() - start)
    return timings


def select_action_timings(policy: FlowPolicy, observations: Sequence[Any]) -> list[float]:
    """Seconds per ``select_action`` on single observations, replayed as one episode from a reset.

    Receding horizon: most calls pop a queued action, one in ``n_action_steps`` samples a chunk; the
    timings therefore describe the control loop as it runs.
    """
    policy.reset()
    timings = time_calls(policy.select_action, observations)
    policy.reset()
    return timings


def select_action_latency(policy: FlowPolicy, observations: Sequence[Any]) -> dict[str, float]:
    """p50 / p95 / mean milliseconds of ``select_action`` at batch 1 (see :func:`select_action_timings`)."""
    return latency_summary(select_action_timings(policy, observations))


def chunk_latency(policy: FlowPolicy, observations: Sequence[Any]) -> dict[str, float]:
    """p50 / p95 / mean milliseconds of ``predict_action_chunk`` (one full chunk sample) at batch 1."""
    return latency_summary(time_calls(policy.predict_action_chunk, observations))
