"""PoseFlow: exact densities on SO(3) × R^3 relative to normalized Haar × Lebesgue, sampling, fitting."""

from __future__ import annotations

import math

import pytest
import torch

from robo_flows.geometry import (
    PoseFlow,
    exp_map,
    log_haar_density_rotvec,
    random_rotations,
    rotation_about_z,
)

FAST = dict(flow_kind="realnvp", layers=4, hidden_features=(32, 32))


def _perturb(module: torch.nn.Module, scale: float, seed: int) -> None:
    """Move every parameter off its (identity) initialisation so densities are non-trivial."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


def _fit(pf: PoseFlow, draw, steps: int, lr: float = 3e-3) -> None:
    """Maximum likelihood with Adam on fresh batches ``draw()`` -> rotations [B, 3, 3]."""
    opt = torch.optim.Adam(pf.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        loss = -pf.log_prob(draw()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize(("charts", "symmetric"), [(1, False), (4, False), (3, True)])
def test_identity_flow_is_the_uniform_distribution(charts, symmetric):
    torch.manual_seed(0)
    pf = PoseFlow(translation=False, charts=charts, symmetric=symmetric, **FAST)
    R = random_rotations(256, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(pf.log_prob(R), torch.zeros(256), atol=1e-4, rtol=0)


def test_density_integrates_to_one_over_rotations_and_translations():
    # E_{R ~ Haar, t ~ q}[p(R, t | c) / q(t)] = 1 for any context c (importance sampling, float64).
    torch.manual_seed(2)
    pf = PoseFlow(context_features=2, charts=2, symmetric=True, **FAST).double()
    _perturb(pf, 0.15, seed=3)
    n = 40000
    g = torch.Generator().manual_seed(4)
    R = random_rotations(n, generator=g, dtype=torch.float64)
    t = 2.5 * torch.randn(n, 3, generator=g, dtype=torch.float64)
    log_q = -0.5 * (t / 2.5).square().sum(-1) - 3 * math.log(2.5 * math.sqrt(2 * math.pi))
    for context in ([0.3, -1.0], [2.0, 0.5]):
        c = torch.tensor(context, dtype=torch.float64).expand(n, 2)
        with torch.no_grad():
            w = (pf.log_prob(R, t, c) - log_q).exp()
        stderr = w.std().item() / math.sqrt(n)
        assert abs(w.mean().item() - 1) < max(5 * stderr, 0.02), (w.mean().item(), stderr)


def test_samples_follow_the_density():
    # E_p[R] from samples equals E_Haar[p(R) R] from the density (importance weights on uniform rotations).
    torch.manual_seed(5)
    pf = PoseFlow(context_features=1, translation=False, charts=2, **FAST).double()
    _perturb(pf, 0.1, seed=6)  # larger moves make p so peaked that uniform importance weights degenerate
    c = torch.ones(1, 1, dtype=torch.float64)
    (R_samples,) = pf.sample((30000,), c)[:1]
    uniform = random_rotations(60000, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    with torch.no_grad():
        weights = pf.log_prob(uniform, context=c.expand(60000, 1)).exp()
    from_density = (weights[:, None, None] * uniform).mean(0)
    torch.testing.assert_close(R_samples[:, 0].mean(0), from_density, atol=0.03, rtol=0)
    assert abs(weights.mean().item() - 1) < 0.03


def test_symmetric_density_is_invariant_under_the_jaw_flip():
    torch.manual_seed(8)
    pf = PoseFlow(context_features=3, charts=2, symmetric=True, **FAST)
    _perturb(pf, 0.2, seed=9)
    R = random_rotations(64, generator=torch.Generator().manual_seed(10))
    t, c = torch.randn(64, 3), torch.randn(64, 3)
    flipped = R @ rotation_about_z(math.pi)
    torch.testing.assert_close(pf.log_prob(flipped, t, c), pf.log_prob(R, t, c), atol=2e-5, rtol=0)
    plain = PoseFlow(context_features=3, charts=2, **FAST)
    _perturb(plain, 0.2, seed=9)
    assert (plain.log_prob(flipped, t, c) - plain.log_prob(R, t, c)).abs().max() > 1e-2


def test_sample_shapes_extras_and_float64():
    torch.manual_seed(11)
    pf = PoseFlow(context_features=4, extra_features=1, charts=4, symmetric=True, **FAST).double()
    c = torch.randn(5, 4, dtype=torch.float64)
    R, t, e = pf.sample((2, 3), c)
    assert R.shape == (2, 3, 5, 3, 3) and t.shape == (2, 3, 5, 3) and e.shape == (2, 3, 5, 1)
    assert R.dtype == torch.float64
    lp = pf.log_prob(R, t, c.expand(2, 3, 5, 4), e)
    assert lp.shape == (2, 3, 5) and torch.isfinite(lp).all()
    eye = torch.eye(3, dtype=torch.float64)
    torch.testing.assert_close(R.transpose(-1, -2) @ R, eye.expand_as(R), atol=1e-10, rtol=0)
    unconditional = PoseFlow(translation=False, charts=3, **FAST)
    R, t = unconditional.sample((2, 5))
    assert R.shape == (2, 5, 3, 3) and t is None
    assert torch.isfinite(unconditional.log_prob(R)).all()


def test_standardization_is_part_of_the_density():
    # Scaling t by σ lowers its log-density by 3 log σ: the affine map's log-det is included.
    torch.manual_seed(12)
    pf = PoseFlow(**FAST).double()
    _perturb(pf, 0.1, seed=13)
    R = random_rotations(32, generator=torch.Generator().manual_seed(14), dtype=torch.float64)
    t = torch.randn(32, 3, dtype=torch.float64)
    before = pf.log_prob(R, t)
    pf.fit_standardization(torch.randn(1000, 3, dtype=torch.float64) * 0.01 + 5.0)
    shift, scale = pf.normalizer.shift, pf.normalizer.scale
    assert (scale - 0.01).abs().max() < 1e-3  # the fitted σ, not the identity
    after = pf.log_prob(R, shift + scale * t)
    torch.testing.assert_close(after, before - scale.log().sum(), atol=1e-9, rtol=0)


def test_bad_inputs_are_rejected_with_the_value_named():
    pf = PoseFlow(context_features=2, **FAST)
    R, t, c = random_rotations(4), torch.zeros(4, 3), torch.zeros(4, 2)
    with pytest.raises(ValueError, match="not orthonormal"):
        pf.log_prob(R * 1.1, t, c)
    with pytest.raises(ValueError, match=r"t must be finite, got nan"):
        pf.log_prob(R, torch.full((4, 3), float("nan")), c)
    with pytest.raises(ValueError, match=r"context must have shape \[4, 2\], got \[4, 3\]"):
        pf.log_prob(R, t, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="models t"):
        pf.log_prob(R, None, c)
    with pytest.raises(ValueError, match="needs a context"):
        pf.sample((3,))
    with pytest.raises(ValueError, match="charts must be between 1 and 4"):
        PoseFlow(charts=5)


def test_fitting_uniform_rotations_gives_zero_nll():
    torch.manual_seed(15)
    pf = PoseFlow(translation=False, **FAST)
    _perturb(pf, 0.1, seed=16)
    held_out = random_rotations(20000, generator=torch.Generator().manual_seed(17))
    with torch.no_grad():
        assert -pf.log_prob(held_out).mean() > 0.1  # the start is far from uniform
    _fit(pf, lambda: random_rotations(256), steps=150)
    with torch.no_grad():
        nll = -pf.log_prob(held_out).mean().item()
    assert abs(nll) < 0.05, nll


def _concentrated(n: int, sigma: float, generator: torch.Generator | None = None):
    """R = R₀ exp(ε), ε ~ N(0, σ² I); its Haar log-density is log N(ε; 0, σ²I) - log h(ε) (wrap-around of
    |ε| > π has probability < e^-50 for σ ≤ 0.4)."""
    R0 = exp_map(torch.tensor([2.0, -1.0, 0.5]))
    eps = sigma * torch.randn(n, 3, generator=generator)
    log_p = (
        -0.5 * eps.square().sum(-1) / sigma**2
        - 1.5 * math.log(2 * math.pi * sigma**2)
        - log_haar_density_rotvec(eps)
    )
    return R0 @ exp_map(eps), log_p


@pytest.mark.parametrize("steps", [200, pytest.param(1500, marks=pytest.mark.slow)])
def test_fitting_concentrated_rotations_gives_the_analytic_nll(steps):
    torch.manual_seed(18)
    pf = PoseFlow(translation=False, **FAST)
    _fit(pf, lambda: _concentrated(256, 0.3)[0], steps=steps)
    R, log_p = _concentrated(20000, 0.3, torch.Generator().manual_seed(19))
    with torch.no_grad():
        nll = -pf.log_prob(R).mean().item()
    analytic = -log_p.mean().item()
    assert analytic < -3  # concentrated: far below the uniform 0
    assert abs(nll - analytic) < (0.05 if steps < 1000 else 0.02), (nll, analytic)
