r"""PoseFlow: conditional densities on SO(3) × R^3 (× R^E extras) relative to normalized Haar × Lebesgue.

Construction.  A conditional Euclidean flow (``robo_flows.flows.build_flow``) models
x = [y, (t - μ_t)/σ_t, (e - μ_e)/σ_e] ∈ R^{3+3+E}, where y are the Gaussian-Haar chart coordinates of the
rotation around a chart centre C_k (``robo_flows.geometry.charts``): R = C_k exp(v(y)).  That chart maps
N(0, I) onto the uniform distribution and covers SO(3) up to the null set θ(C_kᵀR) = π, so a chart-k
component has the exact density

    log p_k(R, t, e | c) = log q(x | c, k) - log N(y; 0, I) - Σ log σ,

relative to the normalized Haar measure on SO(3) times Lebesgue measure on (t, e).  It integrates to 1 and
equals log q_t,e when q is the standard normal in y (uniform rotations: log-density 0).

Charts.  With ``charts = K > 1`` the density is a mixture p = Σ_k w_k(c) p_k over K centres
C_k = G₀ Q_k, where Q_k are the rotations of the quaternions 1, i, j, k (mutually at angle π, so every
rotation is within 2π/3 of some centre) and G₀ a fixed generic rotation that keeps the centres' cut loci off
axis-aligned poses.  One network serves all components: the chart index enters its context one-hot.

Symmetry.  With ``symmetric=True`` the density lives on the quotient by R ~ R·S, S = Rz(π) (a parallel-jaw
grasp): log p([R]) = log((p(R) + p(R S))/2), relative to the quotient of the normalized Haar measure (the
uniform class density is again 0).  Samples are one representative of each class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from robo_flows.data.normalizer import Normalizer
from robo_flows.flows import build_flow
from robo_flows.flows.nets import MLP
from robo_flows.geometry.charts import chart_to_rotation, log_standard_normal, rotation_to_chart
from robo_flows.geometry.so3 import exp_map, half_turn_about_z, quaternion_to_matrix
from robo_flows.geometry.validation import check_finite, check_rotation_matrices

MAX_CHARTS = 4
# G₀ = exp(_CHART_OFFSET): an arbitrary rotation (about 62°) about a non-special axis.
_CHART_OFFSET = (0.61, -0.47, 0.73)


def chart_centres(charts: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """The first ``charts`` centres G₀·{1, i, j, k} (as rotations).  -> [charts, 3, 3]."""
    if not 1 <= charts <= MAX_CHARTS:
        raise ValueError(f"charts must be between 1 and {MAX_CHARTS}, got {charts}")
    basis = torch.eye(4, dtype=torch.float64)[:charts]
    offset = exp_map(torch.tensor(_CHART_OFFSET, dtype=torch.float64))
    return (offset @ quaternion_to_matrix(basis)).to(dtype)


class PoseFlow(nn.Module):
    """Conditional flow over poses (R, t[, extras]) with exact log-densities (see module docstring).

    Args:
        context_features: C, width of the conditioning vector (0: unconditional).
        extra_features:   E, extra Euclidean dimensions modelled jointly (e.g. gripper opening).
        symmetric:        density on classes R ~ R·Rz(π) (parallel-jaw symmetry).
        translation:      model t ∈ R^3; ``False`` gives a density on SO(3) (× extras) only.
        charts:           number K of chart centres of the mixture (1..4).
        flow_kind, layers, hidden_features, **flow_kwargs: passed to ``build_flow``.
        init:             ``build_flow``'s layer init; ``"identity"`` (the default here) starts q at N(0, I),
                          so the untrained PoseFlow is exactly the uniform distribution on SO(3) (log p = 0).
        mixture_hidden:   hidden widths of the context -> chart-weight network (K > 1 and C > 0).
    """

    def __init__(
        self,
        context_features: int = 0,
        extra_features: int = 0,
        *,
        symmetric: bool = False,
        translation: bool = True,
        charts: int = 1,
        flow_kind: str = "nsf",
        layers: int = 4,
        hidden_features: Sequence[int] = (128, 128),
        mixture_hidden: Sequence[int] = (64,),
        init: str = "identity",
        **flow_kwargs,
    ) -> None:
        super().__init__()
        if context_features < 0 or extra_features < 0:
            raise ValueError(
                f"context_features and extra_features must be >= 0, got {context_features}, {extra_features}"
            )
        self.context_features = int(context_features)
        self.extra_features = int(extra_features)
        self.translation = bool(translation)
        self.symmetric = bool(symmetric)
        self.charts = int(charts)
        chart_centres(self.charts)  # validates the count
        euclid = 3 * self.translation + self.extra_features
        # (t, extras) -> standardized; a fixed affine map whose log-det -Σ log σ is part of log_prob.
        self.normalizer = Normalizer(euclid) if euclid else None
        chart_context = self.charts if self.charts > 1 else 0
        self.flow = build_flow(
            flow_kind,
            features=3 + euclid,
            context_features=self.context_features + chart_context,
            layers=layers,
            hidden_features=tuple(hidden_features),
            init=init,
            **flow_kwargs,
        )
        if self.charts > 1 and self.context_features > 0:
            self.mixture = MLP(self.context_features, self.charts, mixture_hidden, zero_last=True)
        elif self.charts > 1:
            self.mixture_logits = nn.Parameter(torch.zeros(self.charts))

    # --- standardization of the Euclidean part ---------------------------------------------------------
    def fit_standardization(self, t: Tensor | None = None, extras: Tensor | None = None) -> None:
        """Fit the normalizer of translation / extras: per-feature mean μ and standard deviation σ in data.

        A fixed affine map (not trained), x̃ = (x - μ)/σ; its log-det -Σ log σ is part of ``log_prob``.
        A constant feature gets σ = 1 (``robo_flows.data.normalizer.Normalizer``).
        """
        parts = ([t] if self.translation else []) + ([extras] if self.extra_features else [])
        if any(p is None for p in parts):
            raise ValueError("fit_standardization needs t (and extras) for every modelled Euclidean part")
        if self.normalizer is None:
            return
        data = torch.cat([p.reshape(-1, p.shape[-1]) for p in parts], dim=-1)
        check_finite(data, "standardization data")
        self.normalizer.load_state_dict(Normalizer.fit(data).state_dict())

    # --- helpers ----------------------------------------------------------------------------------------
    @property
    def _reference(self) -> Tensor:
        """A parameter of the module, for its dtype and device."""
        return next(self.flow.parameters())

    def _centres(self) -> Tensor:
        """Chart centres [K, 3, 3], built in the module's dtype (exact in float64, unlike a cast buffer)."""
        ref = self._reference
        return chart_centres(self.charts, dtype=ref.dtype).to(ref.device)

    def _representatives(self, rot: Tensor) -> Tensor:
        """The class members R·S of R [B, 3, 3] for S in {I} or {I, Rz(π)}, [G, B, 3, 3]."""
        return torch.stack((rot, half_turn_about_z(rot))) if self.symmetric else rot[None]

    def _log_scale(self) -> Tensor:
        """Σ log σ of the Euclidean normalizer (0 when nothing Euclidean is modelled)."""
        if self.normalizer is None:
            return self._reference.new_zeros(())
        return -self.normalizer.log_abs_det().to(self._reference.dtype)

    def _chart_log_weights(self, context: Tensor | None, batch: int) -> Tensor:
        """log w_k(c), [batch, K]."""
        if self.charts == 1:
            return self._reference.new_zeros(batch, 1)
        logits = self.mixture(context) if self.context_features > 0 else self.mixture_logits.expand(batch, -1)
        return F.log_softmax(logits, dim=-1)

    def _flow_context(self, context: Tensor | None, chart_index: Tensor) -> Tensor | None:
        """[context, one-hot(chart)] as the Euclidean flow's context, or None when that is empty."""
        parts = [] if context is None else [context]
        if self.charts > 1:
            parts.append(F.one_hot(chart_index, self.charts).to(self._reference.dtype))
        return torch.cat(parts, dim=-1) if parts else None

    def _check_context(self, context: Tensor | None, batch_shape: tuple[int, ...]) -> Tensor | None:
        """Validate ``context`` [*batch_shape, C] and flatten it to [B, C]."""
        if self.context_features == 0:
            if context is not None:
                raise ValueError(
                    "this PoseFlow is unconditional (context_features=0) but a context was given"
                )
            return None
        if context is None:
            raise ValueError(f"this PoseFlow needs a context of {self.context_features} features")
        if tuple(context.shape) != (*batch_shape, self.context_features):
            raise ValueError(
                f"context must have shape {[*batch_shape, self.context_features]}, got {list(context.shape)}"
            )
        check_finite(context, "context")
        return context.reshape(-1, self.context_features).to(self._reference.dtype)

    def _euclidean(
        self, t: Tensor | None, extras: Tensor | None, batch_shape: tuple[int, ...]
    ) -> Tensor | None:
        """Standardized [t, extras], flattened to [B, 3·translation + E] (None when there is nothing)."""
        parts = []
        for name, value, width, used in (
            ("t", t, 3, self.translation),
            ("extras", extras, self.extra_features, self.extra_features > 0),
        ):
            if not used:
                if value is not None:
                    raise ValueError(f"{name} was given but this PoseFlow does not model it")
                continue
            if value is None:
                raise ValueError(
                    f"this PoseFlow models {name}: pass a tensor of shape {[*batch_shape, width]}"
                )
            if tuple(value.shape) != (*batch_shape, width):
                raise ValueError(f"{name} must have shape {[*batch_shape, width]}, got {list(value.shape)}")
            check_finite(value, name)
            parts.append(value.reshape(-1, width).to(self._reference.dtype))
        return self.normalizer.normalize(torch.cat(parts, dim=-1)) if parts else None

    # --- densities and samples --------------------------------------------------------------------------
    def log_prob(
        self, R: Tensor, t: Tensor | None = None, context: Tensor | None = None, extras: Tensor | None = None
    ) -> Tensor:
        """log p(R, t, extras | context) w.r.t. normalized Haar × Lebesgue.

        R [..., 3, 3] proper rotations, t [..., 3], context [..., C], extras [..., E] -> [...].
        """
        check_rotation_matrices(R, "R")
        batch_shape = tuple(R.shape[:-2])
        ctx = self._check_context(context, batch_shape)
        euclid = self._euclidean(t, extras, batch_shape)
        rot = R.reshape(-1, 3, 3).to(self._reference.dtype)
        representatives = self._representatives(rot)
        G, K, B = len(representatives), self.charts, rot.shape[0]
        # y[g, k, b]: chart-k coordinates of the representative R_b S_g.
        y = rotation_to_chart(representatives[:, None], self._centres()[None, :, None])
        x = y if euclid is None else torch.cat((y, euclid.expand(G, K, B, -1)), dim=-1)
        chart_index = torch.arange(K, device=rot.device).repeat_interleave(B).repeat(G)
        flat_ctx = None if ctx is None else ctx.repeat(G * K, 1)
        flow_lp = self.flow.log_prob(x.reshape(G * K * B, -1), self._flow_context(flat_ctx, chart_index))
        component = flow_lp.reshape(G, K, B) - log_standard_normal(y)
        log_w = self._chart_log_weights(ctx, B).T  # [K, B]
        per_rep = torch.logsumexp(component + log_w, dim=1)  # [G, B]
        lp = torch.logsumexp(per_rep, dim=0) - math.log(G) - self._log_scale()
        return lp.reshape(batch_shape)

    @torch.no_grad()
    def sample(
        self, sample_shape: Sequence[int] = (), context: Tensor | None = None, temperature: float = 1.0
    ) -> tuple[Tensor, ...]:
        """Draw poses: returns (R [*S, *batch, 3, 3], t [*S, *batch, 3] or None) (+ extras [*S, *batch, E]).

        ``context`` [*batch, C] (or None when unconditional).  ``temperature`` scales the flow's latent
        (1: the learned density; < 1 concentrates each chart component toward its latent mode).
        """
        sample_shape = tuple(int(s) for s in sample_shape)
        batch_shape = () if context is None else tuple(context.shape[:-1])
        ctx = self._check_context(context, batch_shape)
        n_draws = math.prod(sample_shape)
        n = n_draws * math.prod(batch_shape)
        ctx = None if ctx is None else ctx.repeat(n_draws, 1)  # row s·B + b: draw s of context b
        chart_index = torch.distributions.Categorical(logits=self._chart_log_weights(ctx, n)).sample()
        flow_ctx = self._flow_context(ctx, chart_index)
        if flow_ctx is None:
            x = self.flow.sample((n,), temperature=temperature)
        else:
            x = self.flow.sample((), flow_ctx, temperature=temperature)
        R = chart_to_rotation(x[:, :3], self._centres()[chart_index])
        euclid = self.normalizer.unnormalize(x[:, 3:]) if self.normalizer is not None else x[:, 3:]
        out_shape = (*sample_shape, *batch_shape)
        t = euclid[:, :3].reshape(*out_shape, 3) if self.translation else None
        result: tuple[Tensor | None, ...] = (R.reshape(*out_shape, 3, 3), t)
        if self.extra_features:
            result += (euclid[:, 3 * self.translation :].reshape(*out_shape, self.extra_features),)
        return result
