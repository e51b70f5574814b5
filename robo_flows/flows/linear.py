r"""Linear bijections: fixed permutations, ActNorm and an LU-parametrised invertible matrix.

All act on ``x [B, D]`` (context ignored) and follow the package convention: ``forward`` is data -> latent
and returns ``(z, log|det dz/dx| [B])``; ``inverse`` returns ``(x, log|det dx/dz| [B])``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from robo_flows.flows.flow import Transform


def _as_permutation(permutation: Tensor | list[int], features: int) -> Tensor:
    perm = torch.as_tensor(permutation, dtype=torch.long)
    if perm.shape != (features,) or not torch.equal(perm.sort().values, torch.arange(features)):
        raise ValueError(f"expected a permutation of 0..{features - 1}, got {perm.tolist()}")
    return perm


class Permutation(Transform):
    """``z = x[:, perm]``; volume preserving (``log|det| = 0``).  Default ``perm`` reverses the features.

    Applied with ``index_select`` (backward: one ``index_add``), which costs less per call than advanced
    indexing (backward: ``index_put`` with accumulation); both directions run once per layer and step.
    """

    def __init__(self, features: int, permutation: Tensor | list[int] | None = None) -> None:
        super().__init__()
        perm = torch.arange(features - 1, -1, -1) if permutation is None else permutation
        perm = _as_permutation(perm, features)
        self.register_buffer("permutation", perm)
        self.register_buffer("inverse_permutation", torch.argsort(perm))

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return x.index_select(1, self.permutation), x.new_zeros(x.shape[0])

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return z.index_select(1, self.inverse_permutation), z.new_zeros(z.shape[0])


class ActNorm(Transform):
    r"""Per-feature affine ``z = (x - loc) * exp(-log_scale)``, ``log|det dz/dx| = -sum(log_scale)``.

    Data-dependent initialisation (Kingma & Dhariwal, 2018): the first ``forward`` in training mode with at
    least two samples sets ``loc`` to the batch mean and ``log_scale`` to the log of the batch standard
    deviation, so that batch comes out standardised, and then sets the ``initialized`` buffer (saved in
    ``state_dict``).  Afterwards, and always in eval mode, no batch statistics are used.
    """

    def __init__(self, features: int) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(features))
        self.log_scale = nn.Parameter(torch.zeros(features))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def _initialize(self, x: Tensor) -> None:
        self.loc.copy_(x.mean(0))
        self.log_scale.copy_(x.std(0).clamp_min(1e-6).log())
        self.initialized.fill_(True)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if self.training and x.shape[0] > 1 and not bool(self.initialized):
            self._initialize(x)
        z = (x - self.loc) * torch.exp(-self.log_scale)
        return z, (-self.log_scale.sum()).expand(x.shape[0])

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x = z * torch.exp(self.log_scale) + self.loc
        return x, self.log_scale.sum().expand(z.shape[0])


class LULinear(Transform):
    r"""Invertible linear map ``z = x W^T + b`` with ``W = P L U``.

    ``P`` is a fixed permutation matrix (default: reversal), ``L`` unit lower-triangular, ``U``
    upper-triangular with a positive diagonal ``exp(log_diag)``, so ``log|det dz/dx| = sum(log_diag)`` and
    the inverse is two triangular solves, ``x = U^{-1} L^{-1} P^T (z - b)``.  Starts as ``W = P``, ``b = 0``.
    """

    def __init__(self, features: int, permutation: Tensor | list[int] | None = None) -> None:
        super().__init__()
        perm = torch.arange(features - 1, -1, -1) if permutation is None else permutation
        self.register_buffer("permutation", _as_permutation(perm, features))
        self.lower = nn.Parameter(torch.zeros(features, features))
        self.upper = nn.Parameter(torch.zeros(features, features))
        self.log_diag = nn.Parameter(torch.zeros(features))
        self.bias = nn.Parameter(torch.zeros(features))

    def _factors(self) -> tuple[Tensor, Tensor]:
        eye = torch.eye(self.log_diag.shape[0], dtype=self.lower.dtype, device=self.lower.device)
        lower = self.lower.tril(-1) + eye
        upper = self.upper.triu(1) + torch.diag(self.log_diag.exp())
        return lower, upper

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lower, upper = self._factors()
        # x W^T = x U^T L^T P^T; right-multiplying by P^T permutes the columns: (y P^T)[:, i] = y[:, perm[i]]
        z = ((x @ upper.t()) @ lower.t())[:, self.permutation] + self.bias
        return z, self.log_diag.sum().expand(x.shape[0])

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lower, upper = self._factors()
        y = torch.empty_like(z).index_copy_(1, self.permutation, z - self.bias)  # y = (z - b) P
        # solve x U^T L^T = y for x (row-vector form): left=False triangular solves
        y = torch.linalg.solve_triangular(lower.t(), y, upper=True, left=False, unitriangular=True)
        x = torch.linalg.solve_triangular(upper.t(), y, upper=False, left=False)
        return x, (-self.log_diag.sum()).expand(z.shape[0])
