r"""``Flow``: a chain of bijections on top of a base distribution, with an optional context encoder.

Direction (see DESIGN): ``transform`` maps data to latent through ``transforms[0], transforms[1], ...`` and
returns ``log|det dz/dx|``; ``log p(x | c) = log p_base(z | c') + log|det dz/dx|`` with ``c' = encoder(c)``.
Sampling draws ``z`` from the base and runs the inverses in reverse order.  The encoder runs once per call;
every layer and the base receive the encoded context ``c'``.

Shapes follow ``torch.distributions``: with a context ``[*batch, C]`` the batch shape is ``batch`` and
``sample(sample_shape)`` returns ``[*sample_shape, *batch, D]``; an unconditional flow has batch shape ``()``.
``log_prob`` and ``transform`` broadcast ``x [..., D]`` against ``context [..., C]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn
from torch.distributions import Distribution


class Transform(nn.Module):
    """A bijection of the chain (DESIGN "Flows"): ``forward(x [N, D], c) -> (z, log|det dz/dx| [N])`` (data
    -> latent) and ``inverse(z, c) -> (x, log|det dx/dz| [N])``.

    ``generate(z, c) -> x`` is the inverse without its log-determinant, the sampling path: a layer whose
    log-determinant costs extra operations (a sum over features, the logs of a sigmoid, a spline's
    derivative) overrides it, so drawing a sample computes only what the sample needs.
    """

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def generate(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        """Latent -> data, the value of ``inverse`` alone."""
        return self.inverse(z, context)[0]


class Flow(nn.Module):
    """Normalizing flow ``x <-> z`` on ``features`` dimensions, conditioned on ``context_features`` (0: none).

    ``transforms``: :class:`Transform` layers, or any modules with ``forward(x [N, D], c) -> (z, ladj [N])``
    and ``inverse(z, c) -> (x, ladj)``;
    ``base``: a module with ``log_prob(z, c)`` and ``sample(num, c, temperature)``;
    ``context_encoder``: optional module ``[N, C] -> [N, C']`` applied once per call;
    ``features`` defaults to ``base.features``; ``context_features`` is the raw context size ``C``.
    """

    def __init__(
        self,
        transforms: Sequence[nn.Module],
        base: nn.Module,
        context_encoder: nn.Module | None = None,
        *,
        features: int | None = None,
        context_features: int = 0,
    ) -> None:
        super().__init__()
        features = int(base.features) if features is None else features
        if features < 1 or context_features < 0:
            raise ValueError(
                f"need features >= 1 and context_features >= 0, got {features}, {context_features}"
            )
        if context_encoder is not None and context_features == 0:
            raise ValueError("a context_encoder was given to an unconditional flow (context_features=0)")
        self.transforms = nn.ModuleList(transforms)
        self.base = base
        self.context_encoder = context_encoder
        self.features = int(features)
        self.context_features = int(context_features)

    # ---------------------------------------------------------------- input checks and context handling
    def _check_x(self, x: Tensor, name: str) -> None:
        if not isinstance(x, Tensor) or x.dim() < 1 or x.shape[-1] != self.features:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"{name} must have shape [..., {self.features}] (features={self.features}), got {shape}"
            )

    def _check_context(self, context: Tensor | None) -> None:
        if self.context_features == 0:
            if context is not None:
                raise ValueError(
                    f"this flow is unconditional (context_features=0) but a context of shape "
                    f"{tuple(context.shape)} was given"
                )
            return
        if context is None:
            raise ValueError(
                f"this flow is conditional: expected a context [..., {self.context_features}], got None"
            )
        if not isinstance(context, Tensor) or context.dim() < 1 or context.shape[-1] != self.context_features:
            shape = tuple(context.shape) if isinstance(context, Tensor) else type(context).__name__
            raise ValueError(
                f"context must have shape [..., {self.context_features}] "
                f"(context_features={self.context_features}), got {shape}"
            )

    def _encode(self, context: Tensor | None) -> Tensor | None:
        """Run the encoder once on ``context [..., C]`` -> ``[..., C']`` (identity without an encoder)."""
        if context is None or self.context_encoder is None:
            return context
        lead = context.shape[:-1]
        return self.context_encoder(context.reshape(-1, context.shape[-1])).reshape(*lead, -1)

    def _flatten(self, x: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor | None, torch.Size]:
        """Check, encode and broadcast ``x [..., D]`` with ``context [..., C]`` to ``[N, D]``, ``[N, C']``."""
        self._check_context(context)
        encoded = self._encode(context)
        if encoded is None:
            return x.reshape(-1, self.features), None, x.shape[:-1]
        try:
            lead = torch.broadcast_shapes(x.shape[:-1], encoded.shape[:-1])
        except RuntimeError as error:
            raise ValueError(
                f"x {tuple(x.shape)} and context {tuple(context.shape)}: leading shapes do not broadcast"
            ) from error
        x = x.expand(*lead, self.features).reshape(-1, self.features)
        encoded = encoded.expand(*lead, encoded.shape[-1]).reshape(x.shape[0], -1)
        return x, encoded, lead

    # ---------------------------------------------------------------- the two directions
    def _forward(self, x: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._chain(x, context, self.transforms, inverse=False)

    def _inverse(self, z: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._chain(z, context, reversed(self.transforms), inverse=True)

    @staticmethod
    def _chain(
        v: Tensor, context: Tensor | None, layers: Iterable[nn.Module], inverse: bool
    ) -> tuple[Tensor, Tensor]:
        """Run ``layers`` (their inverses if ``inverse``) and sum their ladj; the first layer's ladj starts
        the sum (no zeros tensor and add per call)."""
        ladj = None
        for t in layers:
            v, l = t.inverse(v, context) if inverse else t(v, context)
            ladj = l if ladj is None else ladj + l
        return v, v.new_zeros(v.shape[0]) if ladj is None else ladj

    def _generate(self, z: Tensor, context: Tensor | None) -> Tensor:
        """Latent -> data without log-determinants (the sampling path, :meth:`Transform.generate`)."""
        for t in reversed(self.transforms):
            z = t.generate(z, context) if isinstance(t, Transform) else t.inverse(z, context)[0]
        return z

    def transform(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Data -> latent: ``(z [..., D], log|det dz/dx| [...])``."""
        self._check_x(x, "x")
        flat, encoded, lead = self._flatten(x, context)
        z, ladj = self._forward(flat, encoded)
        return z.reshape(*lead, self.features), ladj.reshape(lead)

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Latent -> data: ``(x [..., D], log|det dx/dz| [...])``."""
        self._check_x(z, "z")
        flat, encoded, lead = self._flatten(z, context)
        x, ladj = self._inverse(flat, encoded)
        return x.reshape(*lead, self.features), ladj.reshape(lead)

    def log_prob(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        """``log p(x | c) = log p_base(z | c') + log|det dz/dx|``, shape ``[...]``."""
        self._check_x(x, "x")
        flat, encoded, lead = self._flatten(x, context)
        z, ladj = self._forward(flat, encoded)
        return (self.base.log_prob(z, encoded) + ladj).reshape(lead)

    # ---------------------------------------------------------------- sampling
    def _draw(
        self, sample_shape: Sequence[int] | torch.Size, context: Tensor | None, temperature: float
    ) -> tuple[Tensor, Tensor | None, torch.Size]:
        """Base draw for ``sample_shape`` x the context's batch: ``(z [N, D], c' [N, C'] | None, shape)``."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        self._check_context(context)
        sample_shape = torch.Size(sample_shape)
        encoded = self._encode(context)
        n = sample_shape.numel()
        if encoded is None:
            batch = torch.Size()
        else:
            batch = encoded.shape[:-1]
            encoded = encoded.reshape(-1, encoded.shape[-1])
            if n != 1:
                encoded = encoded.expand(n, *encoded.shape).reshape(-1, encoded.shape[-1])
        z = self.base.sample(n * batch.numel(), encoded, temperature)
        return z, encoded, torch.Size((*sample_shape, *batch))

    def rsample(
        self,
        sample_shape: Sequence[int] | torch.Size = (),
        context: Tensor | None = None,
        temperature: float = 1.0,
    ) -> Tensor:
        """Samples ``[*sample_shape, *batch, D]``, differentiable w.r.t. the parameters and the context."""
        z, encoded, shape = self._draw(sample_shape, context, temperature)
        return self._generate(z, encoded).reshape(*shape, self.features)

    def sample(
        self,
        sample_shape: Sequence[int] | torch.Size = (),
        context: Tensor | None = None,
        temperature: float = 1.0,
    ) -> Tensor:
        """Samples ``[*sample_shape, *batch, D]`` (no autograd graph; ``z = T * eps`` in the base)."""
        with torch.no_grad():
            return self.rsample(sample_shape, context, temperature)

    def sample_and_log_prob(
        self,
        sample_shape: Sequence[int] | torch.Size = (),
        context: Tensor | None = None,
        temperature: float = 1.0,
    ) -> tuple[Tensor, Tensor]:
        """Samples ``[*S, *batch, D]`` and their log-density ``[*S, *batch]`` under the flow (temperature 1).

        ``log p(x) = log p_base(z) - log|det dx/dz|``: one inverse pass, no forward pass.  Differentiable.
        """
        z, encoded, shape = self._draw(sample_shape, context, temperature)
        x, ladj = self._inverse(z, encoded)
        log_prob = self.base.log_prob(z, encoded) - ladj
        return x.reshape(*shape, self.features), log_prob.reshape(shape)

    def forward(self, context: Tensor | None = None) -> FlowDistribution:
        """The flow as a ``torch.distributions.Distribution`` for this context."""
        return FlowDistribution(self, context)


class FlowDistribution(Distribution):
    """``torch.distributions`` view of ``Flow`` at a fixed context: batch shape ``context.shape[:-1]``,
    event shape ``[D]``; ``log_prob``, ``sample``, ``rsample`` delegate to the flow."""

    arg_constraints: dict = {}
    has_rsample = True

    def __init__(self, flow: Flow, context: Tensor | None = None, temperature: float = 1.0) -> None:
        flow._check_context(context)
        self.flow = flow
        self.context = context
        self.temperature = float(temperature)
        batch = torch.Size() if context is None else context.shape[:-1]
        super().__init__(batch_shape=batch, event_shape=torch.Size([flow.features]), validate_args=False)

    def log_prob(self, value: Tensor) -> Tensor:
        return self.flow.log_prob(value, self.context)

    def rsample(self, sample_shape: Sequence[int] | torch.Size = ()) -> Tensor:
        return self.flow.rsample(sample_shape, self.context, self.temperature)

    def sample(self, sample_shape: Sequence[int] | torch.Size = ()) -> Tensor:
        return self.flow.sample(sample_shape, self.context, self.temperature)

    def sample_and_log_prob(self, sample_shape: Sequence[int] | torch.Size = ()) -> tuple[Tensor, Tensor]:
        return self.flow.sample_and_log_prob(sample_shape, self.context, self.temperature)
