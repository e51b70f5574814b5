"""Every layer: exact log-determinants, exact inverses, gradients, state_dict, float32 accuracy."""

from __future__ import annotations

import io

import pytest
import torch
from flow_test_helpers import ALL_LAYERS, CONDITIONED_LAYERS, layer_inputs, perturb_
from torch.autograd.functional import jacobian

from robo_flows.flows import ActNorm

D = 4
C = 3
CASES = [(name, 0) for name in ALL_LAYERS] + [(name, C) for name in CONDITIONED_LAYERS]
IDS = [f"{n}-ctx{c}" for n, c in CASES]
IDENTITY_START = [(n, c) for n, c in CASES if n in CONDITIONED_LAYERS or n == "actnorm"]
TRAINABLE = [(n, c) for n, c in CASES if n not in ("permutation", "standardize", "bounded")]


def make(name: str, context_features: int, dtype=torch.float64, seed: int = 0, scale: float = 0.3):
    layer = ALL_LAYERS[name](D, context_features)
    return perturb_(layer, scale=scale, seed=seed).to(dtype).eval()


def context_for(context_features: int, batch: int, dtype=torch.float64):
    if context_features == 0:
        return None
    return torch.randn(batch, context_features, generator=torch.Generator().manual_seed(5), dtype=dtype)


@pytest.mark.parametrize(("name", "ctx"), CASES, ids=IDS)
def test_log_det_matches_autograd_jacobian(name, ctx):
    layer = make(name, ctx)
    x = layer_inputs(name, 6, D, torch.float64)
    c = context_for(ctx, 6)
    _, ladj = layer(x, c)
    for i in range(x.shape[0]):
        ci = None if c is None else c[i : i + 1]
        J = jacobian(lambda xi, ci=ci: layer(xi.unsqueeze(0), ci)[0].squeeze(0), x[i])
        assert torch.allclose(ladj[i], torch.linalg.slogdet(J).logabsdet, atol=1e-9)


@pytest.mark.parametrize(("name", "ctx"), CASES, ids=IDS)
def test_inverse_undoes_forward_and_negates_log_det(name, ctx):
    layer = make(name, ctx)
    x = layer_inputs(name, 32, D, torch.float64)
    c = context_for(ctx, 32)
    z, ladj = layer(x, c)
    x_back, ladj_inv = layer.inverse(z, c)
    assert torch.allclose(x_back, x, atol=1e-10)
    assert torch.allclose(ladj_inv, -ladj, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("name", "ctx"), CASES, ids=IDS)
def test_generate_is_the_inverse_without_its_log_det(name, ctx, dtype):
    layer = make(name, ctx, dtype=dtype)
    z, _ = layer(layer_inputs(name, 32, D, dtype), context_for(ctx, 32, dtype))
    c = context_for(ctx, 32, dtype)
    with torch.no_grad():
        assert torch.equal(layer.generate(z, c), layer.inverse(z, c)[0])
    assert torch.allclose(
        layer.generate(z, c), layer.inverse(z, c)[0], rtol=0, atol=1e-12 if dtype == torch.float64 else 1e-5
    )


@pytest.mark.parametrize(("name", "ctx"), CASES, ids=IDS)
def test_float32_round_trip_error_below_1e4_up_to_8(name, ctx):
    layer = make(name, ctx, dtype=torch.float32, scale=0.1)  # float32 error grows with |dx/dz|
    if name == "bounded":
        x = layer_inputs(name, 512, D, torch.float32)
    else:
        x = torch.linspace(-8.0, 8.0, 512 * D).reshape(D, 512).t()[torch.randperm(512)]
    c = context_for(ctx, 512, torch.float32)
    x_back, _ = layer.inverse(layer(x, c)[0], c)
    assert (x_back - x).abs().max() < 1e-4


@pytest.mark.parametrize(("name", "ctx"), TRAINABLE, ids=[f"{n}-ctx{c}" for n, c in TRAINABLE])
def test_gradients_reach_every_parameter(name, ctx):
    layer = make(name, ctx)
    x = layer_inputs(name, 16, D, torch.float64)
    c = context_for(ctx, 16)
    z, ladj = layer(x, c)
    x_back, ladj_inv = layer.inverse(z.detach() + 0.1, c)
    (z.square().sum() + ladj.sum() + x_back.square().sum() + ladj_inv.sum()).backward()
    for pname, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize(("name", "ctx"), CASES, ids=IDS)
def test_state_dict_round_trip_reproduces_outputs(name, ctx):
    layer = make(name, ctx, seed=0)
    fresh = make(name, ctx, seed=1)
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    x = layer_inputs(name, 8, D, torch.float64)
    c = context_for(ctx, 8)
    assert torch.equal(layer(x, c)[0], fresh(x, c)[0])
    assert torch.equal(layer(x, c)[1], fresh(x, c)[1])


@pytest.mark.parametrize(("name", "ctx"), IDENTITY_START, ids=[f"{n}-ctx{c}" for n, c in IDENTITY_START])
def test_layers_start_at_identity(name, ctx):
    kwargs = {"init": "identity"} if name in CONDITIONED_LAYERS else {}
    layer = ALL_LAYERS[name](D, ctx, **kwargs).double().eval()
    x = layer_inputs(name, 8, D, torch.float64)
    z, ladj = layer(x, context_for(ctx, 8))
    assert torch.allclose(z, x, atol=1e-12) and torch.allclose(ladj, torch.zeros(8, dtype=torch.float64))


@pytest.mark.parametrize(("name", "ctx"), [(n, c) for n in CONDITIONED_LAYERS for c in (0, C)])
def test_random_init_starts_away_from_identity_and_follows_the_context(name, ctx):
    torch.manual_seed(0)
    layer = CONDITIONED_LAYERS[name](D, ctx, init="random").double().eval()
    x = layer_inputs(name, 8, D, torch.float64)
    c = context_for(ctx, 8)
    z, ladj = layer(x, c)
    assert (z - x).abs().max() > 1e-3 and ladj.abs().max() > 1e-3
    if ctx:
        assert not torch.allclose(layer(x, c + 1.0)[0], z)
    assert torch.allclose(layer.inverse(z, c)[0], x, atol=1e-9)  # still an exact bijection


@pytest.mark.parametrize("name", list(CONDITIONED_LAYERS))
def test_unknown_init_is_refused(name):
    with pytest.raises(ValueError, match=r"unknown init 'zeros'; expected one of \('random', 'identity'\)"):
        CONDITIONED_LAYERS[name](D, C, init="zeros")


@pytest.mark.parametrize("name", list(CONDITIONED_LAYERS))
def test_context_changes_the_output(name):
    layer = make(name, C)
    x = layer_inputs(name, 8, D, torch.float64)
    c = context_for(C, 8)
    assert not torch.allclose(layer(x, c)[0], layer(x, c + 1.0)[0])


def test_actnorm_initialises_from_the_first_training_batch_only():
    norm = ActNorm(3).double()
    x = torch.randn(256, 3, dtype=torch.float64) * torch.tensor([0.5, 2.0, 4.0]) + torch.tensor(
        [1.0, -2.0, 3.0]
    )
    z, _ = norm(x)
    assert bool(norm.initialized)
    assert torch.allclose(z.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(z.std(0), torch.ones(3, dtype=torch.float64), atol=1e-10)
    loc = norm.loc.detach().clone()
    norm(x + 5.0)
    assert torch.equal(norm.loc.detach(), loc)


def test_actnorm_in_eval_mode_uses_no_batch_statistics():
    norm = ActNorm(2).double().eval()
    x = torch.randn(64, 2, dtype=torch.float64) * 3.0 + 1.0
    z, ladj = norm(x)
    assert not bool(norm.initialized)
    assert torch.equal(z, x) and torch.equal(ladj, torch.zeros(64, dtype=torch.float64))
    single = torch.stack([norm(x[i : i + 1])[0][0] for i in range(4)])
    assert torch.equal(single, z[:4])


def test_actnorm_initialized_flag_survives_state_dict():
    norm = ActNorm(2)
    norm(torch.randn(32, 2) * 4.0)
    other = ActNorm(2)
    other.load_state_dict(norm.state_dict())
    x = torch.randn(32, 2) * 10.0
    assert bool(other.initialized) and torch.equal(other(x)[0], norm(x)[0])


@pytest.mark.parametrize("raw_scale", [-4.0, 0.0, 2.0, 6.0])
def test_affine_shift_gradient_does_not_grow_with_the_scale(raw_scale):
    """``y = x e^s + t``: under a standard-normal loss the gradient w.r.t. the shift is ``y`` itself, whatever
    the scale, so a narrow conditional (large ``e^s``) does not inflate its conditioner's gradients.  Failed
    for the former location form ``(x - m) e^s``, whose location gradient is ``-e^s y``."""
    from robo_flows.flows import AffineMap

    affine = AffineMap(3.0)
    x = torch.linspace(-2.0, 2.0, 9, dtype=torch.float64)
    params = torch.stack([torch.full_like(x, 0.3), torch.full_like(x, raw_scale)], -1).requires_grad_()
    y, log_scale = affine.forward(x, params)
    (0.5 * y.square() - log_scale).sum().backward()
    torch.testing.assert_close(params.grad[:, 0], y.detach())
    assert float(log_scale.detach().abs().max()) < 3.0  # soft clamp: |s| < k
    x_back, neg = affine.inverse(y.detach(), params.detach())
    torch.testing.assert_close(x_back, x)
    torch.testing.assert_close(neg, -log_scale.detach())
