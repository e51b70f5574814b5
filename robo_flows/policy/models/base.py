"""``PolicyModel``: what the flow policy and its baselines share -- normalizers, encoder, shapes, bounds.

A model sees raw tensors; it normalizes internally with the normalizers it holds (as submodules, so their
statistics live in every ``state_dict`` and checkpoint).  Actions are modelled as the flattened chunk
``y = normalize(a)`` of ``action_horizon x act_dim`` values.  The action normalizer is a per-dimension
affine map ``y_d = (a_d - m_d) / s_d``, so a density over ``y`` becomes one over raw actions by

    log p(a | o) = log p(y | o) - action_horizon * sum_d log s_d,

which :meth:`PolicyModel.chunk_log_det` supplies from the normalizer's ``log_abs_det``.
"""

from __future__ import annotations

import torch
from torch import nn

from robo_flows.data.normalizer import Normalizer
from robo_flows.policy.config import ModelConfig
from robo_flows.policy.dequantize import dequantization_noise, dequantize_in_box
from robo_flows.policy.monitor import ObservationMonitor
from robo_flows.policy.networks import ObservationEncoder


class PolicyModel(nn.Module):
    """Base of the ``flow``, ``mse`` and ``gmm`` models.

    Shapes: ``obs`` ``[B, obs_horizon, obs_dim]``, ``actions`` ``[B, action_horizon, act_dim]``, raw units.
    Subclasses implement :meth:`chunk_loss`, :meth:`sample_normalized` and (if they have a density)
    :meth:`normalized_log_prob`, all in normalized action space with the encoder's context ``[B, C]``.
    """

    kind: str = ""

    def __init__(
        self,
        cfg: ModelConfig,
        *,
        obs_dim: int,
        act_dim: int,
        obs_horizon: int,
        action_horizon: int,
        obs_normalizer: Normalizer,
        action_normalizer: Normalizer,
        action_low: torch.Tensor,
        action_high: torch.Tensor,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.obs_dim, self.act_dim = int(obs_dim), int(act_dim)
        self.obs_horizon, self.action_horizon = int(obs_horizon), int(action_horizon)
        if cfg.n_action_steps > self.action_horizon:
            raise ValueError(
                f"model.n_action_steps={cfg.n_action_steps} exceeds data.action_horizon={self.action_horizon}"
            )
        low = torch.as_tensor(action_low, dtype=torch.float32).reshape(-1)
        high = torch.as_tensor(action_high, dtype=torch.float32).reshape(-1)
        if low.shape != (self.act_dim,) or high.shape != (self.act_dim,):
            raise ValueError(
                f"action bounds must have {self.act_dim} values each, "
                f"got {tuple(low.shape)} and {tuple(high.shape)}"
            )
        if not torch.all(high > low):
            raise ValueError(f"action bounds need low < high per dimension, got low={low}, high={high}")
        self.register_buffer("action_low", low)
        self.register_buffer("action_high", high)
        self.obs_normalizer = obs_normalizer
        self.action_normalizer = action_normalizer
        self.encoder = ObservationEncoder(
            self.obs_dim, self.obs_horizon, cfg.encoder_hidden, cfg.context_features
        )
        self.monitor = (
            ObservationMonitor(self.obs_dim, cfg.monitor_layers, cfg.monitor_hidden, cfg.flow_kind)
            if cfg.obs_monitor
            else None
        )

    @property
    def chunk_features(self) -> int:
        """``action_horizon * act_dim``: the size of one flattened action chunk."""
        return self.action_horizon * self.act_dim

    # -- shared plumbing -------------------------------------------------------------------------
    def context(self, obs: torch.Tensor) -> torch.Tensor:
        """Encoder context ``[B, C]`` of raw observations ``[B, obs_horizon, obs_dim]``."""
        if obs.ndim != 3 or obs.shape[1:] != (self.obs_horizon, self.obs_dim):
            raise ValueError(
                f"obs must have shape [B, {self.obs_horizon}, {self.obs_dim}], got {tuple(obs.shape)}"
            )
        return self.encoder(self.obs_normalizer.normalize(obs))

    def normalize_chunk(self, actions: torch.Tensor) -> torch.Tensor:
        """Raw ``[B, action_horizon, act_dim]`` -> normalized flat ``[B, action_horizon * act_dim]``."""
        if actions.ndim != 3 or actions.shape[1:] != (self.action_horizon, self.act_dim):
            raise ValueError(
                f"actions must have shape [B, {self.action_horizon}, {self.act_dim}], "
                f"got {tuple(actions.shape)}"
            )
        return self.action_normalizer.normalize(actions).flatten(start_dim=1)

    def unnormalize_chunk(self, y: torch.Tensor) -> torch.Tensor:
        """Normalized flat ``[..., action_horizon * act_dim]`` -> raw ``[..., action_horizon, act_dim]``."""
        return self.action_normalizer.unnormalize(y.unflatten(-1, (self.action_horizon, self.act_dim)))

    def chunk_log_det(self, like: torch.Tensor) -> torch.Tensor:
        """``log|det dy/da| = -action_horizon * sum_d log s_d`` (scalar) of the chunk normalization."""
        return self.action_horizon * self.action_normalizer.log_abs_det().to(like.dtype)

    def dequantized(self, actions: torch.Tensor) -> torch.Tensor:
        """Raw actions blurred inside the action box for the density losses (see ``dequantize``)."""
        eps = dequantization_noise(actions, self.training)
        return dequantize_in_box(actions, self.action_low, self.action_high, eps)

    def clip_to_bounds(self, actions: torch.Tensor) -> torch.Tensor:
        """Clamp raw actions into ``[action_low, action_high]`` (used by the baselines' samples only)."""
        return torch.maximum(torch.minimum(actions, self.action_high), self.action_low)

    # -- the interface the trainer and the policy call --------------------------------------------
    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Scalar training loss of a collated batch ``{"obs", "actions"}`` in raw units."""
        return self.chunk_loss(self.context(batch["obs"]), batch["actions"])

    @torch.no_grad()
    def sample_chunk(
        self, obs: torch.Tensor, *, temperature: float | None = None, best_of: int | None = None
    ) -> torch.Tensor:
        """Raw action chunks ``[B, action_horizon, act_dim]`` for raw ``obs [B, obs_horizon, obs_dim]``.

        ``temperature`` and ``best_of`` default to the config's.  With ``best_of = N > 1`` each observation
        draws N chunks and keeps the one of highest (untempered) log-density.
        """
        temperature = self.cfg.temperature if temperature is None else float(temperature)
        best_of = self.cfg.best_of if best_of is None else int(best_of)
        if temperature <= 0 or best_of < 1:
            raise ValueError(f"need temperature > 0 and best_of >= 1, got {temperature} and {best_of}")
        ctx = self.context(obs)
        if best_of == 1 or not self.has_density:
            y = self.sample_normalized(ctx, 1, temperature)[0]
        else:
            y, logp = self.sample_normalized_and_log_prob(ctx, best_of, temperature)  # [N, B, D], [N, B]
            y = y[logp.argmax(dim=0), torch.arange(y.shape[1], device=y.device)]
        actions = self.unnormalize_chunk(y)
        return self.clip_to_bounds(actions) if self.clips_samples else actions

    def log_prob(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(a_chunk | obs)`` in raw action units, ``[B]`` (flow and gmm)."""
        if not self.has_density:
            raise TypeError(f"the {self.kind!r} model is a deterministic regressor and has no log_prob")
        y = self.normalize_chunk(actions)
        return self.normalized_log_prob(self.context(obs), y) + self.chunk_log_det(y)

    def obs_log_prob(self, obs: torch.Tensor) -> torch.Tensor:
        """Log-density ``[B]`` of raw single observations ``[B, obs_dim]`` under the observation monitor."""
        if self.monitor is None:
            raise RuntimeError("this model was trained with model.obs_monitor=false; no observation density")
        if obs.ndim != 2 or obs.shape[-1] != self.obs_dim:
            raise ValueError(f"obs must have shape [B, {self.obs_dim}], got {tuple(obs.shape)}")
        log_det = self.obs_normalizer.log_abs_det().to(obs.dtype)
        return self.monitor.log_prob(self.obs_normalizer.normalize(obs)) + log_det

    def fit_extra(self, train_dataset: torch.utils.data.Dataset) -> dict[str, float]:
        """Hook the trainer calls once before training: fits the observation monitor (if any).

        The monitor sees the current (last) observation of every training window, normalized.
        Returns ``{"monitor_nll": mean NLL in normalized units}`` (empty without a monitor).
        """
        if self.monitor is None:
            return {}
        device = self.action_low.device
        obs = torch.stack([torch.as_tensor(train_dataset[i]["obs"])[-1] for i in range(len(train_dataset))])
        x = self.obs_normalizer.normalize(obs.to(device=device, dtype=torch.float32))
        return {"monitor_nll": self.monitor.fit(x, steps=self.cfg.monitor_steps)}

    # -- implemented by the model kinds ------------------------------------------------------------
    has_density: bool = True
    clips_samples: bool = False  # baselines without bounded support clamp their samples into the box

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def sample_normalized(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        """``[n, B, D]`` normalized chunks for context ``[B, C]``."""
        raise NotImplementedError

    def normalized_log_prob(self, ctx: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``log p(y | c)`` ``[B]`` of normalized flat chunks ``y [B, D]``."""
        raise NotImplementedError

    def sample_normalized_and_log_prob(
        self, ctx: torch.Tensor, n: int, temperature: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``[n, B, D]`` normalized chunks and their untempered ``log p(y | c)`` ``[n, B]``."""
        y = self.sample_normalized(ctx, n, temperature)
        b, d = y.shape[1:]
        return y, self.normalized_log_prob(ctx.repeat(n, 1), y.reshape(n * b, d)).reshape(n, b)
