"""The conditional 1-D U-Net: shapes at short horizons, gradients, conditioning, independent rows, dtypes."""

from __future__ import annotations

import pytest
import torch

from robo_flows.policy.unet1d import ConditionalUnet1d, padded_length, sinusoidal_embedding


def small_net(down_dims: tuple[int, ...] = (8, 16), **kwargs) -> ConditionalUnet1d:
    torch.manual_seed(0)
    return ConditionalUnet1d(3, 5, down_dims=down_dims, n_groups=4, time_embed_dim=8, **kwargs)


@pytest.mark.parametrize("down_dims", [(8,), (8, 16), (8, 16, 16)])
@pytest.mark.parametrize("horizon", [1, 2, 3, 5, 8, 16])
def test_output_keeps_the_chunk_shape_at_every_short_horizon(down_dims, horizon):
    net = small_net(down_dims)
    out = net(torch.randn(2, 3, horizon), torch.tensor([0.0, 99.0]), torch.randn(2, 5))
    assert out.shape == (2, 3, horizon)


def test_padded_length_is_the_next_multiple_of_the_downsampling():
    assert [padded_length(h, 3) for h in (1, 2, 4, 5, 8, 9)] == [4, 4, 4, 8, 8, 12]
    assert padded_length(7, 1) == 7


def test_every_parameter_gets_a_gradient_through_a_padded_chunk():
    net = small_net((8, 16, 16))
    out = net(torch.randn(4, 3, 3), torch.rand(4) * 100, torch.randn(4, 5))
    out.square().sum().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_output_depends_on_the_time_and_on_the_context():
    net = small_net()
    x, c = torch.randn(1, 3, 8), torch.randn(1, 5)
    base = net(x, torch.tensor([10.0]), c)
    assert not torch.allclose(base, net(x, torch.tensor([60.0]), c))
    assert not torch.allclose(base, net(x, torch.tensor([10.0]), c + 1))


def test_rows_are_independent_of_the_rest_of_the_batch():
    """GroupNorm normalizes within a row: no batch statistics, so a row's output is the same alone."""
    net = small_net()
    x, t, c = torch.randn(6, 3, 5), torch.rand(6) * 100, torch.randn(6, 5)
    torch.testing.assert_close(net(x, t, c)[2:3], net(x[2:3], t[2:3], c[2:3]))


def test_float64_and_a_flattened_time_major_chunk():
    net = small_net().double()
    x = torch.randn(2, 4, 3, dtype=torch.float64)  # [B, H, channels]
    t, c = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    flat = net.forward_chunk(x.flatten(1), t, c)
    assert flat.dtype == torch.float64
    torch.testing.assert_close(flat.unflatten(1, (4, 3)), net(x.transpose(1, 2), t, c).transpose(1, 2))


def test_sinusoidal_embedding_separates_neighbouring_steps_and_needs_an_even_width():
    emb = sinusoidal_embedding(torch.arange(100.0), 16)
    assert emb.shape == (100, 16)
    gaps = (emb[1:] - emb[:-1]).norm(dim=1)
    assert gaps.min() > 0.1
    with pytest.raises(ValueError, match="even"):
        sinusoidal_embedding(torch.zeros(2), 7)


def test_bad_settings_and_inputs_are_refused():
    with pytest.raises(ValueError, match="multiples of n_groups=4"):
        ConditionalUnet1d(3, 5, down_dims=(6,), n_groups=4)
    with pytest.raises(ValueError, match="odd"):
        ConditionalUnet1d(3, 5, down_dims=(8,), n_groups=4, kernel_size=4)
    with pytest.raises(ValueError, match=r"x must have shape \[B, 3, H\]"):
        small_net()(torch.zeros(2, 4, 8), torch.zeros(2), torch.zeros(2, 5))
