"""Wilson intervals, seeds, mode counts and the replanning latency."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from robo_flows.evaluation.latency import REPLAN_LEAD_IN, replanning_latency
from robo_flows.evaluation.metrics import mode_counts, wilson_interval
from robo_flows.evaluation.seeds import EVAL_SEED_OFFSET, check_disjoint, episode_seeds


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (0, 10, (0.0, 0.2775)),  # reference values of the Wilson score interval at z = 1.96
        (5, 10, (0.2366, 0.7634)),
        (10, 10, (0.7225, 1.0)),
        (45, 50, (0.7864, 0.9565)),
    ],
)
def test_wilson_interval_matches_reference_values(k, n, expected):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(expected[0], abs=1e-4)
    assert hi == pytest.approx(expected[1], abs=1e-4)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_rate_and_stays_in_unit_interval(kn):
    k, n = kn
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_interval_rejects_impossible_counts():
    with pytest.raises(ValueError, match="at least one trial"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="successes must be in"):
        wilson_interval(6, 5)


def test_episode_seeds_are_distinct_and_disjoint_from_demo_seeds():
    seeds = episode_seeds(3, 100)
    assert len(set(seeds)) == 100 and min(seeds) == EVAL_SEED_OFFSET + 3
    check_disjoint(seeds, range(10_000))
    with pytest.raises(ValueError, match="overlap"):
        check_disjoint(seeds, [EVAL_SEED_OFFSET + 50])


def test_mode_counts_most_frequent_first_without_missing_modes():
    assert list(mode_counts(["left", "right", "right", None]).items()) == [("right", 2), ("left", 1)]


class _TimedChunks:
    """Stands in for a policy: ``predict_action_chunk`` records its input and takes 1 ms per observation."""

    def __init__(self) -> None:
        self.inputs: list[np.ndarray] = []

    def predict_action_chunk(self, obs: np.ndarray) -> np.ndarray:
        self.inputs.append(obs)
        time.sleep(1e-3 * (len(obs) if obs.ndim == 2 else 1))
        return np.zeros((8, 2))


def test_replanning_latency_times_chunk_samples_at_each_batch_size():
    policy = _TimedChunks()
    observations = [np.full(3, i, dtype=np.float32) for i in range(7)]
    out = replanning_latency({"p": policy}, observations, batches=(1, 5), repeats=4, warmup=2)
    b1, b5 = out["p"]["b1"], out["p"]["b5"]
    assert b1["warm_ms"]["n"] == 4 == len(b5["samples_ms"])
    # per batch size: one cold call, the warm-up, then each timed call after an untimed lead-in call;
    # single then batched observations
    per_batch = 1 + 2 + 4 * (1 + REPLAN_LEAD_IN)
    assert [x.shape for x in policy.inputs] == [(3,)] * per_batch + [(5, 3)] * per_batch
    # the batches cycle through all observations
    assert sorted({float(x[0]) for x in policy.inputs[:per_batch]}) == [float(i) for i in range(7)]
    assert [float(v) for v in policy.inputs[per_batch][:, 0]] == [0, 1, 2, 3, 4]
    assert [float(v) for v in policy.inputs[per_batch + 1][:, 0]] == [5, 6, 0, 1, 2]
    # milliseconds of the chunk call (lower bounds only: a loaded machine may be slower, never faster)
    assert b1["warm_ms"]["p50"] >= 1.0 and b5["warm_ms"]["p50"] >= 5.0 and b5["cold_ms"] >= 5.0
