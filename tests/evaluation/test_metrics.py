"""Wilson intervals, seeds, mode counts and latency summaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from robo_flows.evaluation.metrics import latency_summary, mode_counts, wilson_interval
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


def test_latency_summary_in_milliseconds():
    summary = latency_summary([0.001] * 95 + [0.01] * 5)
    assert summary["p50"] == pytest.approx(1.0)
    assert summary["p95"] == pytest.approx(1.0, abs=0.5)
    with pytest.raises(ValueError):
        latency_summary([])
