r"""MADE (Germain et al., 2015): a masked MLP whose output for feature ``i`` sees only inputs ``x_{<i}``.

Degrees (0-indexed).  Input ``j`` has degree ``j``; a hidden unit of degree ``k`` (``0 <= k < D``) may see the
inputs ``j < k``; output block ``i`` (the ``P`` parameters of feature ``i``) may see hidden units of degree
``k <= i``.  So output ``i`` depends on inputs ``j < k <= i``, i.e. on ``x_{<i}`` only; units of degree 0 see
no input at all and carry the context, which every hidden unit of the first layer sees.

The forward pass is one autograd node (:class:`_MaskedMLP`) with a hand-written backward: one node instead of
a linear, a mask product and a ReLU node per layer.  Every product is a plain ``addmm`` / ``mm`` (MKL on CPU):
oneDNN's fused linear reorders its weight on every call, and the masked weights change every step; on an
AMD EPYC (AVX2) it measured 2x slower per MADE forward (benchmarks/results/flows.json has the step times).

Hidden degrees are assigned in sorted order (``k = floor(u D / H)`` for unit ``u``), so the units feeding
output ``i`` form a prefix of every hidden layer.  The exact inverse of an autoregressive layer
(:meth:`MADE.autoregressive_inverse`) uses that: pass ``i`` evaluates only those prefixes and only the
``P`` output rows of feature ``i``, and it updates the first layer's pre-activations by the one newly known
input (a rank-one update) instead of re-running the whole network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx, once_differentiable


def hidden_degrees(features: int, width: int) -> Tensor:
    """Sorted degrees ``floor(u * D / H)`` of ``H = width`` hidden units, covering ``0..D-1`` evenly."""
    if width < features:
        raise ValueError(f"MADE hidden layers need at least {features} units (one per degree), got {width}")
    return torch.arange(width) * features // width


def made_masks(
    features: int, hidden_features: Sequence[int], context_features: int, params_per_feature: int
) -> list[Tensor]:
    """Binary masks ``[out, in]`` of each layer, output rows ordered feature-major (``i * P + p``).

    Needs at least one hidden layer (``hidden_features`` non-empty).

    The first mask covers inputs ``[x (D), context (C)]``; context columns are all ones.
    """
    if not hidden_features:
        raise ValueError("MADE needs at least one hidden layer, got hidden_features=()")
    masks = []
    previous = torch.arange(features)
    for i, width in enumerate(hidden_features):
        degrees = hidden_degrees(features, width)
        if i == 0:
            mask = previous[None, :] < degrees[:, None]
            mask = torch.cat([mask, torch.ones(width, context_features, dtype=torch.bool)], dim=1)
        else:
            mask = previous[None, :] <= degrees[:, None]
        masks.append(mask)
        previous = degrees
    degrees_out = torch.arange(features).repeat_interleave(params_per_feature)
    masks.append(previous[None, :] <= degrees_out[:, None])
    return [m.to(torch.get_default_dtype()) for m in masks]


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None = None, relu: bool = False) -> Tensor:
    """``x [N, I] @ weight [O, I]^T + bias [O]`` -> ``[N, O]``, then ReLU if ``relu``; any strides (the GEMM
    reads transposed operands in place, no copies)."""
    out = x.mm(weight.t()) if bias is None else torch.addmm(bias, x, weight.t())
    return out.relu_() if relu else out


class _MaskedMLP(torch.autograd.Function):
    r"""Masked ReLU MLP of ``L`` layers as one autograd node, equal to ``F.linear`` + ``relu`` per layer.

    ``forward(inputs [B, I], masks, V_0, b_0, ..., V_{L-1}, b_{L-1}) -> y [B, O]`` with ``W_l = V_l * M_l``
    (``masks`` the binary ``M_l [out, in]``), ``h_0 = inputs``, ``h_{l+1} = relu(h_l W_l^T + b_l)`` and
    ``y = h_{L-1} W_{L-1}^T + b_{L-1}``.  Backward, with ``g_l = dL/d(pre-activation of layer l)`` and
    ``g_{L-1} = dL/dy``: ``dL/dV_l = (g_l^T h_l) * M_l``, ``dL/db_l = sum_B g_l``,
    ``g_{l-1} = (g_l W_l) * [h_l > 0]`` and ``dL/dinputs = g_0 W_0``.  Once differentiable.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, inputs: Tensor, masks: list[Tensor], *params: Tensor) -> Tensor:
        weights = [w * m for w, m in zip(params[0::2], masks, strict=True)]
        activations = [inputs]
        h = inputs
        last = len(weights) - 1
        for i, (w, b) in enumerate(zip(weights, params[1::2], strict=True)):
            h = _linear(h, w, b, relu=i < last)
            if i < last:
                activations.append(h)
        ctx.save_for_backward(*activations, *weights, *masks)
        return h

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors
        n = len(saved) // 3
        activations, weights, masks = saved[:n], saved[n : 2 * n], saved[2 * n :]
        grads: list[Tensor | None] = [None] * (2 * n)
        for i in range(n - 1, -1, -1):
            grads[2 * i] = _linear(grad.t(), activations[i].t()).mul_(masks[i])
            grads[2 * i + 1] = grad.sum(0)
            if i > 0:
                grad = torch.ops.aten.threshold_backward(_linear(grad, weights[i].t()), activations[i], 0.0)
        grad_inputs = _linear(grad, weights[0].t()) if ctx.needs_input_grad[0] else None
        return grad_inputs, None, *grads


class MADE(nn.Module):
    """Masked ReLU MLP: ``(x [B, D], c [B, C]) -> params [B, D, P]`` with ``params[:, i]`` a function of
    ``(x_{<i}, c)``.  With ``zero_last`` the last layer starts at zero, so every output starts at zero;
    otherwise every layer has ``nn.Linear``'s fan-in init ``U(-1/sqrt(in), 1/sqrt(in))`` (masked-out
    inputs counted in ``in``)."""

    def __init__(
        self,
        features: int,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        params_per_feature: int = 2,
        zero_last: bool = True,
    ) -> None:
        super().__init__()
        self.features = int(features)
        self.context_features = int(context_features)
        self.params_per_feature = int(params_per_feature)
        hidden = [int(h) for h in hidden_features]
        masks = made_masks(self.features, hidden, self.context_features, self.params_per_feature)
        self.layers = nn.ModuleList(nn.Linear(m.shape[1], m.shape[0]) for m in masks)
        for i, mask in enumerate(masks):
            self.register_buffer(f"mask{i}", mask)
        if zero_last:
            nn.init.zeros_(self.layers[-1].weight)
            nn.init.zeros_(self.layers[-1].bias)
        # prefix[l][i]: number of units of hidden layer l that output i depends on (degree <= i)
        self._prefix = [
            [int((hidden_degrees(self.features, h) <= i).sum()) for i in range(self.features)] for h in hidden
        ]

    def masked_weights(self) -> list[Tensor]:
        """Each layer's weight times its mask, ``[out, in]``."""
        return [layer.weight * getattr(self, f"mask{i}") for i, layer in enumerate(self.layers)]

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        h = x if context is None else torch.cat([x, context], dim=-1)
        masks = [getattr(self, f"mask{i}") for i in range(len(self.layers))]
        params = [p for layer in self.layers for p in (layer.weight, layer.bias)]
        h = _MaskedMLP.apply(h, masks, *params)
        return h.unflatten(-1, (self.features, self.params_per_feature))

    def autoregressive_inverse(
        self,
        z: Tensor,
        context: Tensor | None,
        invert: Callable[[Tensor, Tensor], Tensor],
    ) -> tuple[Tensor, Tensor]:
        """Solve ``z_i = f(x_i; params_i(x_{<i}, c))`` for ``x`` in ``D`` passes, feature by feature.

        ``invert(z_i [B], params_i [B, P]) -> x_i [B]`` inverts the scalar map.  Returns ``(x [B, D],
        params [B, D, P])``, the parameters every feature was inverted with (``forward(x, c)`` up to
        rounding).  Pass ``i`` costs ``O(B * n_i^2)`` with ``n_i`` the units of degree ``<= i``, not a full
        network evaluation.
        """
        weights = self.masked_weights()
        D, P = self.features, self.params_per_feature
        biases = [layer.bias for layer in self.layers]
        if context is None:
            pre = biases[0].expand(z.shape[0], -1)
        else:
            pre = torch.addmm(biases[0], context, weights[0][:, D:].t())
        input_columns = weights[0][:, :D].t()  # [D, H0]: row j is input j's contribution
        hidden_t = [w.t() for w in weights[1:-1]]  # [H_{l-1}, H_l]
        hidden_b = biases[1:-1]
        out_w = weights[-1].t().unflatten(-1, (D, P)).permute(1, 0, 2)  # [D, H_last, P]
        out_b = biases[-1].view(D, P)
        prefix = self._prefix
        xs: list[Tensor] = []
        found: list[Tensor] = []
        for i in range(D):
            if i > 0:
                pre = torch.addcmul(pre, xs[-1].unsqueeze(-1), input_columns[i - 1])
            n = prefix[0][i]
            h = torch.relu(pre[:, :n])
            for w, b, sizes in zip(hidden_t, hidden_b, prefix[1:], strict=True):
                m = sizes[i]
                h = torch.relu_(torch.addmm(b[:m], h, w[:n, :m]))
                n = m
            found.append(torch.addmm(out_b[i], h, out_w[i, :n]))
            xs.append(invert(z[:, i], found[-1]))
        return torch.stack(xs, dim=-1), torch.stack(found, dim=1)
