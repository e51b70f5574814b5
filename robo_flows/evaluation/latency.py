"""Timing a policy in its control loop: ``select_action`` at batch 1, and one full chunk sample."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from robo_flows.evaluation.metrics import latency_summary
from robo_flows.policy.policy import FlowPolicy

WARMUP_CALLS = 10


def select_action_latency(policy: FlowPolicy, observations: Sequence[Any]) -> dict[str, float]:
    """p50 / p95 / mean milliseconds of ``select_action`` on single observations, replayed as one episode.

    Receding horizon: most calls pop a queued action, one in ``n_action_steps`` samples a chunk; the
    percentiles therefore describe the control loop as it runs.
    """
    if not observations:
        raise ValueError("select_action_latency needs at least one observation")
    policy.reset()
    for obs in observations[:WARMUP_CALLS]:
        policy.select_action(obs)
    policy.reset()
    timings = []
    for obs in observations:
        start = time.perf_counter()
        policy.select_action(obs)
        timings.append(time.perf_counter() - start)
    policy.reset()
    return latency_summary(timings)


def chunk_latency(policy: FlowPolicy, observations: Sequence[Any]) -> dict[str, float]:
    """p50 / p95 / mean milliseconds of ``predict_action_chunk`` (one full chunk sample) at batch 1."""
    if not observations:
        raise ValueError("chunk_latency needs at least one observation")
    for obs in observations[:WARMUP_CALLS]:
        policy.predict_action_chunk(obs)
    timings = []
    for obs in observations:
        start = time.perf_counter()
        policy.predict_action_chunk(obs)
        timings.append(time.perf_counter() - start)
    return latency_summary(timings)
