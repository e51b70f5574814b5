"""Plain conditioner networks."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn


class MLP(nn.Sequential):
    """``Linear -> ReLU -> ... -> Linear`` from ``[B, in_features]`` to ``[B, out_features]``.

    With ``zero_last=True`` the last layer's weight and bias start at zero, so the network first outputs
    zeros, which makes any conditioned map built on it start at the identity.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_features: Sequence[int] = (128, 128),
        zero_last: bool = True,
    ) -> None:
        sizes = [int(in_features), *(int(h) for h in hidden_features), int(out_features)]
        if any(s < 0 for s in sizes) or sizes[-1] == 0:
            raise ValueError(f"layer sizes must be >= 0 with a positive output size, got {sizes}")
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            with warnings.catch_warnings():  # in_features = 0 (a constant net, e.g. 1-D coupling) is fine
                warnings.filterwarnings("ignore", "Initializing zero-element tensors")
                layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)
        self._linears = [m for m in layers if isinstance(m, nn.Linear)]
        if zero_last:
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)

    def forward(self, x: Tensor) -> Tensor:
        # functional loop: one Python frame instead of one Module.__call__ per layer (batch-1 sampling)
        layers = self._linears
        for layer in layers[:-1]:
            x = F.relu(F.linear(x, layer.weight, layer.bias))
        last = layers[-1]
        return F.linear(x, last.weight, last.bias)
