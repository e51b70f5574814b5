r"""A 1-D temporal conditional U-Net over an action chunk: the ``diffusion`` and ``flow_matching`` backbone.

The chunk is a short signal ``x [B, channels, H]`` (channels = action dimensions, H = action horizon).
The network maps ``(x, t, c)`` -- the noisy (or interpolated) chunk, a scalar time per row ``t [B]`` and the
observation context ``c [B, C]`` -- to a chunk of the same shape (a noise or velocity prediction):

    e   = MLP(sinusoid(t))                                 time embedding, [B, E]
    g   = concat(c, e)                                     conditioning, [B, C + E]
    h   = ResBlock(h, g) = Conv(FiLM(Conv(h), g)) + skip(h), FiLM(u, g) = gamma(g) * u + beta(g)
    down: per level, two ResBlocks then a stride-2 conv (not after the last level);
    mid:  two ResBlocks at the widest level;
    up:   per level, concat with the skip of the same level, two ResBlocks, a stride-2 transposed conv;
    out:  Conv block, then a 1x1 conv back to ``channels``.

A "Conv" is Conv1d (kernel ``kernel_size``, length kept) -> GroupNorm(``n_groups``) -> Mish.  The layout
follows Diffusion Policy's ``ConditionalUnet1D`` (Chi et al., "Diffusion Policy: Visuomotor Policy Learning
via Action Diffusion", RSS 2023, arXiv:2303.04137); the code is this project's.

Short horizons: ``len(down_dims) - 1`` stride-2 steps halve the length that many times, so the chunk is
zero-padded at its end to the next multiple of ``2 ** (len(down_dims) - 1)`` and the output is cropped back
to ``H`` (:func:`padded_length`).  Padded positions never reach the caller; through the convolutions and the
GroupNorm statistics they are part of the network's input, a fixed (learned-around) boundary condition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from robo_flows.config.schema import UNetConfig


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    r"""Transformer-style features of scalar times, ``[B] -> [B, dim]`` (``dim`` even).

    ``emb = [sin(t w_0), .., sin(t w_{k-1}), cos(t w_0), .., cos(t w_{k-1})]``,
    ``w_j = max_period^{-j/(k-1)}`` with ``k = dim / 2``: frequencies from 1 down to ``1 / max_period``,
    so integer diffusion steps (0..100) and ``100 t`` for flow-matching times in [0, 1] are well resolved.
    """
    if dim < 2 or dim % 2:
        raise ValueError(f"the time embedding width must be an even number >= 2, got {dim}")
    half = dim // 2
    exponent = torch.arange(half, device=t.device, dtype=torch.float32) / max(half - 1, 1)
    freqs = torch.exp(-math.log(max_period) * exponent)
    angles = t.to(torch.float32).reshape(-1, 1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def padded_length(horizon: int, levels: int) -> int:
    """The chunk length the U-Net runs at: ``horizon`` rounded up to a multiple of ``2 ** (levels - 1)``."""
    multiple = 2 ** (levels - 1)
    return -(-horizon // multiple) * multiple


class ConvBlock(nn.Sequential):
    """``Conv1d(kernel, same length) -> GroupNorm -> Mish`` on ``[B, C_in, L] -> [B, C_out, L]``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, n_groups: int) -> None:
        super().__init__(
            nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            nn.GroupNorm(n_groups, out_channels),
            nn.Mish(),
        )


class FiLMResBlock(nn.Module):
    r"""Residual block with FiLM conditioning: ``y = B(gamma(g) * A(x) + beta(g)) + skip(x)``.

    ``A``, ``B`` are :class:`ConvBlock`; ``(gamma, beta) = Linear(Mish(g))`` per output channel, broadcast
    over time; ``skip`` is a 1x1 conv when the widths differ, else the identity.
    Shapes: ``x [B, C_in, L]``, ``g [B, G]`` -> ``[B, C_out, L]``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, cond_features: int, kernel_size: int, n_groups: int
    ) -> None:
        super().__init__()
        self.first = ConvBlock(in_channels, out_channels, kernel_size, n_groups)
        self.second = ConvBlock(out_channels, out_channels, kernel_size, n_groups)
        self.film = nn.Sequential(nn.Mish(), nn.Linear(cond_features, 2 * out_channels))
        self.skip = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.film(g).unsqueeze(-1).chunk(2, dim=1)
        return self.second(gamma * self.first(x) + beta) + self.skip(x)


class ConditionalUnet1d(nn.Module):
    r"""The conditional temporal U-Net (see the module docstring for the maths).

    ``forward(x [B, channels, H], t [B], context [B, context_features]) -> [B, channels, H]`` for any
    ``H >= 1``.  ``down_dims`` are the widths of the levels (their number fixes the depth), each divisible by
    ``n_groups``; ``kernel_size`` is odd; ``time_embed_dim`` is the width of the time embedding ``e``.

    Example:
        >>> net = ConditionalUnet1d(channels=3, context_features=8, down_dims=(16, 32), n_groups=4)
        >>> net(torch.zeros(2, 3, 5), torch.tensor([0.0, 50.0]), torch.zeros(2, 8)).shape
        torch.Size([2, 3, 5])
    """

    @classmethod
    def from_config(cls, channels: int, context_features: int, cfg: UNetConfig) -> ConditionalUnet1d:
        """The network a model config's ``unet`` section describes."""
        return cls(
            channels,
            context_features,
            down_dims=cfg.down_dims,
            kernel_size=cfg.kernel_size,
            n_groups=cfg.n_groups,
            time_embed_dim=cfg.time_embed_dim,
        )

    def __init__(
        self,
        channels: int,
        context_features: int,
        *,
        down_dims: Sequence[int] = (64, 128),
        kernel_size: int = 5,
        n_groups: int = 8,
        time_embed_dim: int = 64,
    ) -> None:
        super().__init__()
        dims = tuple(int(d) for d in down_dims)
        if channels < 1 or context_features < 0:
            raise ValueError(
                f"need channels >= 1 and context_features >= 0, got {channels}, {context_features}"
            )
        if not dims or any(d < 1 or d % n_groups for d in dims):
            raise ValueError(f"down_dims must be positive multiples of n_groups={n_groups}, got {dims}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (the chunk length is kept), got {kernel_size}")
        self.channels, self.levels, self.time_embed_dim = int(channels), len(dims), int(time_embed_dim)
        self.time_mlp = nn.Sequential(
            nn.Linear(time_embed_dim, 4 * time_embed_dim),
            nn.Mish(),
            nn.Linear(4 * time_embed_dim, time_embed_dim),
        )
        cond = context_features + time_embed_dim

        def block(cin: int, cout: int) -> FiLMResBlock:
            return FiLMResBlock(cin, cout, cond, kernel_size, n_groups)

        widths = (self.channels, *dims)
        self.down = nn.ModuleList()
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            last = i == self.levels - 1
            resample = nn.Identity() if last else nn.Conv1d(cout, cout, 3, stride=2, padding=1)
            self.down.append(nn.ModuleList([block(cin, cout), block(cout, cout), resample]))
        self.mid = nn.ModuleList([block(dims[-1], dims[-1]), block(dims[-1], dims[-1])])
        self.up = nn.ModuleList()
        for cout, cin in zip(reversed(dims[:-1]), reversed(dims[1:]), strict=True):
            upsample = nn.ConvTranspose1d(cout, cout, 4, stride=2, padding=1)
            self.up.append(nn.ModuleList([block(2 * cin, cout), block(cout, cout), upsample]))
        self.out = nn.Sequential(
            ConvBlock(dims[0], dims[0], kernel_size, n_groups), nn.Conv1d(dims[0], channels, 1)
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != self.channels:
            raise ValueError(f"x must have shape [B, {self.channels}, H], got {tuple(x.shape)}")
        horizon = x.shape[-1]
        length = padded_length(horizon, self.levels)
        h = nn.functional.pad(x, (0, length - horizon))
        t = t.reshape(-1).expand(x.shape[0])
        g = torch.cat(
            [context, self.time_mlp(sinusoidal_embedding(t, self.time_embed_dim).to(x.dtype))], dim=-1
        )
        skips = []
        for first, second, downsample in self.down:
            h = second(first(h, g), g)
            skips.append(h)
            h = downsample(h)
        for res in self.mid:
            h = res(h, g)
        for first, second, upsample in self.up:
            h = upsample(second(first(torch.cat([h, skips.pop()], dim=1), g), g))
        return self.out(h)[..., :horizon]

    def forward_chunk(self, y: torch.Tensor, t: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on flattened time-major chunks ``y [B, H * channels]`` (the layout of
        ``PolicyModel.normalize_chunk``, entry ``h * channels + d``) -> the same layout."""
        x = y.unflatten(-1, (-1, self.channels)).transpose(1, 2)
        return self.forward(x, t, context).transpose(1, 2).flatten(start_dim=1)
