"""Plain conditioner networks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

INITS: tuple[str, ...] = ("random", "identity")
DEFAULT_INIT = "random"


def zero_last_for(init: str) -> bool:
    r"""Whether a conditioner's last layer starts at zero for the layer initialisation ``init``.

    ``"identity"``: the last layer (weights and bias) is zero, so the conditioner outputs the all-zero
    parameters, which every scalar map reads as the identity (``log|det| = 0``): a flow of such layers starts
    as ``z = x`` and its density as the base's.  The price: at the first step no gradient reaches the hidden
    layers (``dL/dh = W_last^T dL/dy = 0``), they only start learning once the last layer has grown.
    ``"random"``: the last layer gets the same fan-in initialisation as every other layer,
    ``U(-1/sqrt(in), 1/sqrt(in))``, so each layer starts as a random bijection near the identity whose
    parameters already depend on its inputs and the context.  Measured fits: benchmarks/results
    (``flows_nll.json``, ``flows_nll_maf.json``) and docs/flows.
    """
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {INITS}")
    return init == "identity"


class MLP(nn.Module):
    """ReLU MLP ``[B, in] -> [B, out]``: ``h_{l+1} = relu(h_l W_l + b_l)``, no ReLU after the last layer.

    Weights are stored as ``[in, out]`` (parameters ``weight{l}``, ``bias{l}``) so each layer is a single
    ``addmm``, which keeps batch-1 sampling cheap.  Initialisation as ``nn.Linear``:
    ``U(-1/sqrt(in), 1/sqrt(in))``.  With ``zero_last=True`` the last layer starts at zero, so the network
    first outputs zeros and any conditioned map built on it starts at the identity.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_features: Sequence[int] = (128, 128),
        zero_last: bool = True,
    ) -> None:
        super().__init__()
        sizes = [int(in_features), *(int(h) for h in hidden_features), int(out_features)]
        if any(s < 0 for s in sizes) or min(sizes[1:]) == 0:
            raise ValueError(f"layer sizes must be positive (the input may be 0), got {sizes}")
        self.in_features, self.out_features = sizes[0], sizes[-1]
        self.depth = len(sizes) - 1
        self._names = tuple((f"weight{i}", f"bias{i}") for i in range(self.depth))
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            bound = 1.0 / math.sqrt(a) if a > 0 else 0.0
            last = i == self.depth - 1
            scale = 0.0 if (last and zero_last) else 1.0
            self.register_parameter(
                f"weight{i}", nn.Parameter(scale * torch.empty(a, b).uniform_(-bound, bound))
            )
            self.register_parameter(f"bias{i}", nn.Parameter(scale * torch.empty(b).uniform_(-bound, bound)))

    def layer(self, i: int) -> tuple[Tensor, Tensor]:
        """Weight ``[in, out]`` and bias ``[out]`` of layer ``i`` (negative indices count from the end)."""
        i = i % self.depth
        return getattr(self, f"weight{i}"), getattr(self, f"bias{i}")

    def forward(self, x: Tensor) -> Tensor:
        params = self._parameters  # direct lookups: this loop runs per layer per sampling step
        for weight, bias in self._names[:-1]:
            x = torch.relu_(torch.addmm(params[bias], x, params[weight]))
        weight, bias = self._names[-1]
        return torch.addmm(params[bias], x, params[weight])
