"""Latency of a policy's replanning call: one chunk sample (``predict_action_chunk``) at batch 1 and 50.

A receding-horizon policy samples a chunk once every ``n_action_steps`` control steps and pops queued actions
in between, so the cost that bounds a control rate is the replanning call, not the average ``select_action``
(three of four calls are a numpy pop at ``n_action_steps = 4``).  It is timed at batch 1 (one robot) and at
batch 50 (a vector of environments), with the first, cold call of each shape apart from the warm samples.

The policies are timed interleaved (a busy machine slows all of them alike), and each timed call comes right
after an untimed call of the same policy (``lead_in``): the caches hold what the policy's own previous
call left, as in a control loop that runs one policy.  Timed right after another policy's call instead, a
small network reads its weights back from memory: on the 2-core benchmark box a Detour flow's call then
took about 1.6x its warm time after a diffusion U-Net's DDIM call (and, with other processes running, 0.8 ms
more after 10 ms asleep, a control loop waiting for its next tick on a busy machine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from robo_flows.benchmarks.harness import time_interleaved
from robo_flows.policy.policy import FlowPolicy, Observation

REPLAN_BATCHES: tuple[int, ...] = (1, 50)
REPLAN_REPEATS = 100
REPLAN_WARMUP = 5
REPLAN_LEAD_IN = 1


def _stack(observations: Sequence[Observation]) -> Observation:
    """Single observations (flat arrays or Dicts of arrays) stacked along a new first axis."""
    if isinstance(observations[0], Mapping):
        return {key: np.stack([np.asarray(o[key]) for o in observations]) for key in observations[0]}
    return np.stack([np.asarray(o) for o in observations])


def _take(stacked: Observation, rows: list[int] | int) -> Observation:
    if isinstance(stacked, Mapping):
        return {key: value[rows] for key, value in stacked.items()}
    return stacked[rows]


def _replan_call(policy: FlowPolicy, stacked: Observation, n: int, batch: int) -> Callable[[], object]:
    """``predict_action_chunk`` on the next ``batch`` of the ``n`` observations, cycling through them."""
    position = [0]

    def call() -> object:
        start = position[0]
        rows = [(start + i) % n for i in range(batch)]
        position[0] = (start + batch) % n
        return policy.predict_action_chunk(_take(stacked, rows if batch > 1 else rows[0]))

    return call


def replanning_latency(
    policies: Mapping[str, FlowPolicy],
    observations: Sequence[Observation],
    *,
    batches: Sequence[int] = REPLAN_BATCHES,
    repeats: int = REPLAN_REPEATS,
    warmup: int = REPLAN_WARMUP,
) -> dict[str, dict[str, Any]]:
    """``{name: {"b<batch>": timing}}``: each policy's chunk sample at each batch size, interleaved.

    Per batch size the policies take turns call by call (``robo_flows.benchmarks.harness.time_interleaved``),
    so a busy machine slows all of them alike; each timed call follows an untimed one of the same policy
    (module doc).  A timing holds ``cold_ms`` (the first call at that batch size), ``warm_ms`` (p50, p95,
    mean, min, n over ``repeats`` calls) and the raw ``samples_ms``.
    ``observations`` are single observations, flat ``[obs_dim]`` or Dicts (e.g. the episodes' first ones).
    """
    if not policies:
        raise ValueError("replanning_latency needs at least one policy")
    if len(observations) == 0:
        raise ValueError("replanning_latency needs at least one observation")
    stacked = _stack(observations)
    out: dict[str, dict[str, Any]] = {name: {} for name in policies}
    for batch in batches:
        calls = {
            name: _replan_call(policy, stacked, len(observations), batch) for name, policy in policies.items()
        }
        timings = time_interleaved(calls, repeats=repeats, calls=1, warmup=warmup, lead_in=REPLAN_LEAD_IN)
        for name, timing in timings.items():
            out[name][f"b{batch}"] = timing.to_json()
    return out
