"""window_indices and Normalizer as plain functions: edges, round trips, constant dimensions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from robo_flows.data import Normalizer, window_indices


@given(
    lengths=st.lists(st.integers(1, 9), min_size=1, max_size=5),
    obs_horizon=st.integers(1, 4),
    action_horizon=st.integers(1, 6),
)
@settings(max_examples=60, deadline=None)
def test_windows_stay_inside_their_episode_and_are_contiguous_away_from_edges(
    lengths, obs_horizon, action_horizon
):
    obs_idx, act_idx = window_indices(lengths, obs_horizon, action_horizon)
    starts = np.repeat(np.cumsum([0, *lengths[:-1]]), lengths)
    ends = starts + np.repeat(lengths, lengths) - 1
    rows = np.arange(sum(lengths))
    assert obs_idx.shape == (len(rows), obs_horizon) and act_idx.shape == (len(rows), action_horizon)
    for idx in (obs_idx, act_idx):
        assert (idx >= starts[:, None]).all() and (idx <= ends[:, None]).all()
        assert (np.diff(idx, axis=1) >= 0).all() and (np.diff(idx, axis=1) <= 1).all()
    assert (obs_idx[:, -1] == rows).all() and (act_idx[:, 0] == rows).all()


def test_window_indices_rejects_empty_episodes():
    with pytest.raises(ValueError, match="at least one step"):
        window_indices([3, 0], 1, 2)


@pytest.mark.parametrize("mode", ["meanstd", "minmax"])
def test_normalize_then_unnormalize_is_identity_with_constant_dims(mode):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 4, generator=g) * torch.tensor([3.0, 0.1, 1.0, 1.0]) + 5
    x[:, 2] = 7.0  # constant dimension
    norm = Normalizer.fit(x, mode)
    y = norm.normalize(x)
    assert torch.isfinite(y).all()
    assert norm.scale[2] == 1.0
    assert torch.allclose(y[:, 2], torch.zeros(200))
    assert torch.allclose(norm.unnormalize(y), x, atol=1e-5)
    if mode == "meanstd":
        assert torch.allclose(y[:, [0, 1, 3]].mean(0), torch.zeros(3), atol=1e-5)
        assert torch.allclose(y[:, [0, 1, 3]].std(0, unbiased=False), torch.ones(3), atol=1e-4)
    else:
        assert torch.allclose(y[:, [0, 1, 3]].min(0).values, -torch.ones(3), atol=1e-5)
        assert torch.allclose(y[:, [0, 1, 3]].max(0).values, torch.ones(3), atol=1e-5)


def test_state_dict_round_trip_into_a_fresh_normalizer():
    norm = Normalizer.fit(torch.randn(50, 3) * 4 + 1, "meanstd")
    fresh = Normalizer(3)
    fresh.load_state_dict(norm.state_dict())
    x = torch.randn(2, 5, 3)
    assert torch.equal(fresh.normalize(x), norm.normalize(x))


def test_log_abs_det_matches_autograd_jacobian():
    norm = Normalizer.fit(torch.randn(50, 3).double() * torch.tensor([2.0, 0.5, 3.0]), "minmax")
    jac = torch.autograd.functional.jacobian(norm.normalize, torch.zeros(3, dtype=torch.float64))
    assert torch.allclose(norm.log_abs_det().double(), torch.logdet(jac).to(torch.float64), atol=1e-6)


def test_normalize_keeps_dtype_and_checks_last_dim():
    norm = Normalizer.fit(torch.randn(20, 2), "meanstd")
    assert norm.normalize(torch.zeros(4, 2, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(ValueError, match="last dimension of 2"):
        norm.normalize(torch.zeros(4, 3))


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="mode"):
        Normalizer.fit(torch.zeros(3, 2), "zscore")
    with pytest.raises(ValueError, match=r"\[N >= 1, D\]"):
        Normalizer.fit(torch.zeros(3), "meanstd")
    with pytest.raises(ValueError, match="non-finite"):
        Normalizer.fit(torch.tensor([[float("nan")]]), "meanstd")
