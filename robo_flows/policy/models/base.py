"""``PolicyModel``: what every policy model kind shares -- normalizers, action box, encoder, shapes.

A model sees raw tensors.  It holds the one copy of its statistics: ``obs_normalizer``, ``action_normalizer``
(submodules) and the action box ``action_low`` / ``action_high`` (raw ``[act_dim]`` buffers), so they live in
its ``state_dict`` and nowhere else in a checkpoint (``robo_flows.policy.loading`` reads them back from
there).  A layer that needs them in other units (the flow's ``Standardize`` / ``Bounded``, a normalized box)
keeps a derived, non-persistent copy that :meth:`PolicyModel.statistics_changed` refreshes after every
``load_state_dict``.

An action chunk is ``a [B, action_horizon, act_dim]``; flattened it has ``D = action_horizon * act_dim``
values.  Kinds that work in normalized coordinates use ``y = normalize(a)`` (:meth:`normalize_chunk`).  A kind
with a density gives it in raw units, ``log p(a | o)`` (:meth:`chunk_log_prob`): the flow models raw actions
directly (its normalization and box are bijections inside it), the mixture maps its parameters into raw units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

from robo_flows.config.schema import ModelConfig
from robo_flows.data.normalizer import Normalizer
from robo_flows.policy.dequantize import dequantization_noise, dequantize_in_box
from robo_flows.policy.encoders import STATE_KEY, ObservationEncoder
from robo_flows.policy.monitor import ObservationMonitor

Observations = torch.Tensor | Mapping[str, torch.Tensor]


class PolicyModel(nn.Module):
    """Base of the model kinds (``flow``, ``mse``, ``gmm``, ``diffusion``, ``flow_matching``).

    Shapes: ``obs`` ``[B, obs_horizon, obs_dim]``, ``actions`` ``[B, action_horizon, act_dim]``, raw units;
    ``ctx`` is the encoder's context ``[B, C]``.  A model with cameras (``cfg.encoder.images``) takes ``obs``
    as a dict: ``{"state": [B, obs_horizon, obs_dim], <image key>: uint8 [B, obs_horizon, H, W, 3], ...}``.
    A kind implements :meth:`chunk_loss` (raw actions in) and
    either :meth:`sample_normalized` (normalized chunks out, the base unnormalizes) or :meth:`sample_actions`
    (raw chunks out); a kind with ``has_density`` implements :meth:`chunk_log_prob` (raw units).
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
            self.obs_dim,
            self.obs_horizon,
            cfg.encoder_hidden,
            cfg.context_features,
            images=cfg.encoder.images,
            image_net=cfg.encoder.image_net,
            keypoints=cfg.encoder.keypoints,
            image_features=cfg.encoder.image_features,
            crop=cfg.encoder.crop,
            augment=cfg.encoder.augment,
            shift_pad=cfg.encoder.shift_pad,
        )
        self.monitor = (
            ObservationMonitor(self.obs_dim, cfg.monitor_layers, cfg.monitor_hidden, cfg.flow_kind)
            if cfg.obs_monitor
            else None
        )
        self.register_load_state_dict_post_hook(lambda module, _keys: module.statistics_changed())

    def statistics_changed(self) -> None:
        """Refresh copies derived from the normalizers and the box; called after every ``load_state_dict``.

        Kinds that keep such a copy override this; the base keeps none.
        """

    @property
    def chunk_features(self) -> int:
        """``action_horizon * act_dim``: the size of one flattened action chunk."""
        return self.action_horizon * self.act_dim

    # -- shared plumbing -------------------------------------------------------------------------
    def context(self, obs: Observations) -> torch.Tensor:
        """Encoder context ``[B, C]`` of raw observations: ``[B, obs_horizon, obs_dim]``, or the dict of the
        state and the camera images for a model with cameras (class doc)."""
        images = self.cfg.encoder.images
        if isinstance(obs, Mapping):
            missing = [k for k in [STATE_KEY, *images] if k not in obs]
            if missing:
                raise ValueError(
                    f"obs lacks {missing}; this model takes {[STATE_KEY, *images]}, got {list(obs)}"
                )
            state = obs[STATE_KEY]
        elif images:
            raise ValueError(
                f"this model sees the cameras {images}: obs must be a dict with them and 'state'"
            )
        else:
            state = obs
        if state.ndim != 3 or state.shape[1:] != (self.obs_horizon, self.obs_dim):
            raise ValueError(
                f"obs must have shape [B, {self.obs_horizon}, {self.obs_dim}], got {tuple(state.shape)}"
            )
        frames = {}
        for key in images:
            frame = obs[key]
            if frame.dtype != torch.uint8 or frame.ndim != 5 or frame.shape[:2] != state.shape[:2]:
                raise ValueError(
                    f"obs[{key!r}] must be uint8 [B={state.shape[0]}, {self.obs_horizon}, H, W, 3], "
                    f"got {frame.dtype} {list(frame.shape)}"
                )
            frames[key] = frame
        return self.encoder(self.obs_normalizer.normalize(state), frames)

    def normalize_chunk(self, actions: torch.Tensor) -> torch.Tensor:
        """Raw ``[B, action_horizon, act_dim]`` -> normalized flat ``[B, action_horizon * act_dim]``."""
        self.check_chunk(actions)
        return self.action_normalizer.normalize(actions).flatten(start_dim=1)

    def unnormalize_chunk(self, y: torch.Tensor) -> torch.Tensor:
        """Normalized flat ``[..., action_horizon * act_dim]`` -> raw ``[..., action_horizon, act_dim]``."""
        return self.action_normalizer.unnormalize(y.unflatten(-1, (self.action_horizon, self.act_dim)))

    def normalized_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The action box in normalized flat chunk coordinates, two ``[H*A]`` tensors."""
        low = self.action_normalizer.normalize(self.action_low).repeat(self.action_horizon)
        high = self.action_normalizer.normalize(self.action_high).repeat(self.action_horizon)
        return low, high

    def check_chunk(self, actions: torch.Tensor) -> torch.Tensor:
        """Raw ``[B, action_horizon, act_dim]`` (shape checked) -> flat ``[B, action_horizon * act_dim]``."""
        if actions.ndim != 3 or actions.shape[1:] != (self.action_horizon, self.act_dim):
            raise ValueError(
                f"actions must have shape [B, {self.action_horizon}, {self.act_dim}], "
                f"got {tuple(actions.shape)}"
            )
        return actions.flatten(start_dim=1)

    def dequantized(self, actions: torch.Tensor) -> torch.Tensor:
        """Raw actions blurred inside the action box for the density losses (see ``dequantize``)."""
        eps = dequantization_noise(actions, self.training)
        return dequantize_in_box(actions, self.action_low, self.action_high, eps)

    def clip_to_bounds(self, actions: torch.Tensor) -> torch.Tensor:
        """Clamp raw actions into ``[action_low, action_high]``: the documented output clamp of the kinds
        without a bounded support (``clips_samples``: mse, gmm, diffusion, flow matching), applied to their
        samples only, never to training data."""
        return torch.maximum(torch.minimum(actions, self.action_high), self.action_low)

    # -- the interface the trainer and the policy call --------------------------------------------
    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Scalar training loss of a collated batch ``{"obs", "actions"}`` in raw units."""
        return self.chunk_loss(self.context(batch["obs"]), batch["actions"])

    @torch.no_grad()
    def sample_chunk(self, obs: Observations, *, temperature: float = 1.0, best_of: int = 1) -> torch.Tensor:
        """Raw action chunks ``[B, action_horizon, act_dim]`` for raw ``obs [B, obs_horizon, obs_dim]``.

        With ``best_of = N > 1`` each observation draws N chunks and keeps the one of highest (untempered)
        log-density.  (A policy's defaults for both are its ``sampling`` config, see ``FlowPolicy``.)
        """
        temperature, best_of = check_temperature(temperature), int(best_of)
        if best_of < 1:
            raise ValueError(f"best_of must be >= 1, got {best_of}")
        if best_of > 1 and not self.has_density:
            raise ValueError(
                f"best_of={best_of} ranks samples by log-density; the {self.kind!r} model has none "
                "(use best_of=1)"
            )
        ctx = self.context(obs)
        if best_of == 1:
            a = self.sample_actions(ctx, 1, temperature)[0]
        else:
            a, logp = self.sample_actions_and_log_prob(ctx, best_of, temperature)  # [N, B, D], [N, B]
            a = a[logp.argmax(dim=0), torch.arange(a.shape[1], device=a.device)]
        actions = a.unflatten(-1, (self.action_horizon, self.act_dim))
        return self.clip_to_bounds(actions) if self.clips_samples else actions

    def log_prob(self, obs: Observations, actions: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(a_chunk | obs)`` in raw action units, ``[B]`` (flow and gmm)."""
        if not self.has_density:
            raise TypeError(
                f"the {self.kind!r} model has no exact density, so no log_prob (flow and gmm have one)"
            )
        return self.chunk_log_prob(self.context(obs), self.check_chunk(actions))

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

        The monitor sees the current (last) state observation of every training window, normalized (from the
        dataset's ``current_observations()`` when it has one: no camera image is read).
        Returns ``{"monitor_nll": mean NLL in normalized units}`` (empty without a monitor).
        """
        if self.monitor is None:
            return {}
        device = self.action_low.device
        current = getattr(train_dataset, "current_observations", None)
        if callable(current):
            obs = current()
        else:
            obs = torch.stack(
                [torch.as_tensor(train_dataset[i]["obs"])[-1] for i in range(len(train_dataset))]
            )
        x = self.obs_normalizer.normalize(obs.to(device=device, dtype=torch.float32))
        return {"monitor_nll": self.monitor.fit(x, steps=self.cfg.monitor_steps)}

    # -- implemented by the model kinds ------------------------------------------------------------
    has_density: bool = True
    clips_samples: bool = False  # baselines without bounded support clamp their samples into the box

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Scalar loss of raw chunks ``actions [B, action_horizon, act_dim]`` given ``ctx [B, C]``."""
        raise NotImplementedError

    def sample_normalized(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        """``[n, B, D]`` normalized flat chunks for context ``[B, C]`` (kinds in normalized coordinates)."""
        raise NotImplementedError

    def sample_actions(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        """``[n, B, D]`` raw flat chunks for context ``[B, C]``: by default the unnormalized
        :meth:`sample_normalized`; a kind that samples raw actions itself (the flow) overrides this."""
        return self.unnormalize_chunk(self.sample_normalized(ctx, n, temperature)).flatten(start_dim=-2)

    def chunk_log_prob(self, ctx: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """``log p(a | c)`` ``[B]`` in raw units of raw flat chunks ``a [B, D]`` (kinds with a density)."""
        raise NotImplementedError

    def sample_actions_and_log_prob(
        self, ctx: torch.Tensor, n: int, temperature: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``[n, B, D]`` raw flat chunks and their untempered ``log p(a | c)`` ``[n, B]``."""
        a = self.sample_actions(ctx, n, temperature)
        b, d = a.shape[1:]
        return a, self.chunk_log_prob(ctx.repeat(n, 1), a.reshape(n * b, d)).reshape(n, b)


def check_temperature(temperature: float) -> float:
    """``temperature`` as a float if it is a finite number > 0, else a ValueError naming it."""
    value = float(temperature)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return value
