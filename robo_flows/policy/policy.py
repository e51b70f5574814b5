"""``FlowPolicy``: the numpy-facing control loop around a trained policy model (any model kind).

Receding horizon: each call of :meth:`FlowPolicy.select_action` returns one action; when a row's queue of
planned actions is empty, a fresh chunk of ``action_horizon`` actions is sampled for that row from its last
``obs_horizon`` observations and its first ``n_action_steps`` are queued.  Observation histories start by
repeating the first observation of an episode, as the training windows are padded.  The loop's state is
two pure objects of ``robo_flows.policy.control``: an ``ObservationWindow`` (one more per camera for a
policy that sees images) and an ``ActionQueue``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robo_flows.config.schema import SamplingConfig
from robo_flows.policy.control import ActionQueue, ObservationWindow
from robo_flows.policy.encoders import STATE_KEY
from robo_flows.policy.loading import load_policy_model
from robo_flows.policy.models.base import Observations, PolicyModel, check_temperature
from robo_flows.policy.observations import AdaptedObservation, ObservationAdapter, as_finite_float32

Observation = np.ndarray | Mapping[str, np.ndarray]


class FlowPolicy:
    """Acts with a :class:`PolicyModel` on single ``[obs_dim]``, batched ``[N, obs_dim]`` or dict observations
    (every model kind alike); a policy with cameras takes the Dict observation (single or batched, as a
    vector env gives it) with its image keys.

    ``temperature``, ``best_of`` and ``n_action_steps`` default to ``sampling`` (the experiment's
    ``sampling`` section; its defaults when None).
    ``env_args`` (from the demonstrations) may carry ``obs_layout``, the ordered ``{key: size}`` of the
    environment's flat observation, which lets a policy trained on a subset of keys read that observation.
    ``image_shapes``: ``{image key: (H, W, 3)}`` of the cameras among ``obs_keys`` (the checkpoint's).
    """

    def __init__(
        self,
        model: PolicyModel,
        obs_keys: list[str],
        env_args: Mapping[str, Any] | None = None,
        *,
        sampling: SamplingConfig | None = None,
        temperature: float | None = None,
        best_of: int | None = None,
        n_action_steps: int | None = None,
        device: str | torch.device = "cpu",
        image_shapes: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model.to(device).eval()
        self.device = torch.device(device)
        self.env_args = dict(env_args or {})
        self.adapter = ObservationAdapter(
            obs_keys, model.obs_dim, self.env_args.get("obs_layout"), image_shapes
        )
        if self.adapter.image_keys != list(model.cfg.encoder.images):
            raise ValueError(
                f"obs_keys hold the cameras {self.adapter.image_keys}, the model's encoder sees "
                f"{list(model.cfg.encoder.images)}"
            )
        sampling = SamplingConfig() if sampling is None else sampling
        self.temperature = check_temperature(sampling.temperature if temperature is None else temperature)
        self.best_of = int(sampling.best_of if best_of is None else best_of)
        self.n_action_steps = int(sampling.n_action_steps if n_action_steps is None else n_action_steps)
        if self.best_of < 1:
            raise ValueError(f"best_of must be >= 1, got {self.best_of}")
        if not 1 <= self.n_action_steps <= model.action_horizon:
            raise ValueError(
                f"n_action_steps must be in [1, action_horizon={model.action_horizon}], "
                f"got {self.n_action_steps}"
            )
        self.windows = {
            key: ObservationWindow(model.obs_horizon) for key in [STATE_KEY, *self.adapter.image_keys]
        }
        self.queue = ActionQueue(self.n_action_steps)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        device: str | torch.device = "cpu",
        temperature: float | None = None,
        best_of: int | None = None,
        n_action_steps: int | None = None,
    ) -> FlowPolicy:
        """Load a policy checkpoint written by the trainer (EMA weights when present)."""
        model, meta = load_policy_model(path, device=device)
        return cls(
            model,
            list(meta["obs_keys"]),
            meta.get("env_args"),
            sampling=meta["sampling"],
            temperature=temperature,
            best_of=best_of,
            n_action_steps=n_action_steps,
            device=device,
            image_shapes=meta.get("image_shapes"),
        )

    # -- properties ------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def obs_keys(self) -> list[str]:
        return self.adapter.obs_keys

    @property
    def action_low(self) -> np.ndarray:
        return self.model.action_low.cpu().numpy()

    @property
    def action_high(self) -> np.ndarray:
        return self.model.action_high.cpu().numpy()

    # -- control loop -----------------------------------------------------------------------------
    def reset(self, rows: np.ndarray | list[int] | None = None) -> None:
        """Start new episodes: all rows (``rows=None``, also forgets the batch size) or the given rows
        (indices or a boolean mask); a restarted row refills its window and replans at the next call."""
        for window in self.windows.values():
            window.reset(rows)
        self.queue.reset(rows)

    def select_action(self, obs: Observation) -> np.ndarray:
        """The next action ``[act_dim]`` (single) or ``[N, act_dim]`` (batched) of the receding plan."""
        seen = self.adapter(obs)
        replan = self.queue.empty_rows(len(seen.state))
        windows = {key: self.windows[key].push(part) for key, part in _parts(seen).items()}
        if replan.any():
            self.queue.refill(replan, self._sample({key: w[replan] for key, w in windows.items()}))
        action = self.queue.pop()
        return action if seen.batched else action[0]

    def predict_action_chunk(self, obs: Observation) -> np.ndarray:
        """A full chunk ``[action_horizon, act_dim]`` (or ``[N, ...]``) for an episode-start observation.

        Stateless: the observation is repeated over ``obs_horizon`` (the convention at an episode's start).
        """
        seen = self.adapter(obs)
        chunk = self._sample(self._constant(seen))
        return chunk if seen.batched else chunk[0]

    def log_prob(self, obs: Observation, action_chunk: np.ndarray) -> np.ndarray | float:
        """Exact ``log p(chunk | obs)`` in nats (raw action units); obs repeated over ``obs_horizon``."""
        seen = self.adapter(obs)
        m = self.model
        chunk = as_finite_float32(action_chunk, "action_chunk")
        n = seen.state.shape[0]
        expected = (n, m.action_horizon, m.act_dim) if seen.batched else (m.action_horizon, m.act_dim)
        if chunk.shape != expected:
            raise ValueError(f"action_chunk must have shape {list(expected)}, got {list(chunk.shape)}")
        chunks = chunk.reshape(-1, *expected[-2:])
        with torch.inference_mode():
            lp = m.log_prob(self._model_obs(self._constant(seen)), self._tensor(chunks))
        out = lp.cpu().numpy().astype(np.float64)
        return out if seen.batched else float(out[0])

    def obs_log_prob(self, obs: Observation) -> np.ndarray | float:
        """Log-density of observations under the observation monitor; low = far from the demonstrations."""
        seen = self.adapter(obs)
        with torch.inference_mode():
            out = self.model.obs_log_prob(self._tensor(seen.state)).cpu().numpy().astype(np.float64)
        return out if seen.batched else float(out[0])

    # -- helpers ----------------------------------------------------------------------------------
    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x)).to(self.device)

    def _constant(self, seen: AdaptedObservation) -> dict[str, np.ndarray]:
        """Every part's window at an episode's start: its observation repeated over ``obs_horizon``."""
        return {key: self.windows[key].constant(part) for key, part in _parts(seen).items()}

    def _model_obs(self, windows: dict[str, np.ndarray]) -> Observations:
        """What the model takes: the state window tensor, or the dict with the camera windows."""
        if len(windows) == 1:
            return self._tensor(windows[STATE_KEY])
        return {key: self._tensor(w) for key, w in windows.items()}

    def _sample(self, windows: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            chunk = self.model.sample_chunk(
                self._model_obs(windows), temperature=self.temperature, best_of=self.best_of
            )
        return chunk.cpu().numpy()


def _parts(seen: AdaptedObservation) -> dict[str, np.ndarray]:
    return {STATE_KEY: seen.state, **seen.images}
