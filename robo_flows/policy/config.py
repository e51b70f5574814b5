"""``ModelConfig``: the typed settings of a policy model (flow, mse or gmm), one place for the defaults.

The training helper's ``load_config`` fills this dataclass from the ``model:`` section of a YAML preset;
``build_policy_model`` reads it. Every field is a plain type so ``config_to_dict`` round trips it.
"""

from __future__ import annotations

from dataclasses import dataclass

MODEL_KINDS: tuple[str, ...] = ("flow", "mse", "gmm")


@dataclass
class ModelConfig:
    """Settings of the policy model.

    kind:             "flow" (conditional normalizing flow over the action chunk), "mse" (deterministic
                      regression of the chunk) or "gmm" (mixture density head with ``gmm_components``).
    flow_kind:        which ``robo_flows.flows.build_flow`` kind the flow policy uses.  "realnvp" by
                      measurement (docs/policy.md): the splines of "nsf" are the identity beyond their tail
                      bound, where saturated (bounded-latent) actions land, and train 3x slower.
    flow_layers:      number of flow transforms.
    flow_linear:      mixing between flow layers: "permutation" (couplings alternate halves) or "lu" (a
                      learned LU-decomposed linear map, which mixes all chunk entries).
    hidden_features:  hidden widths of the flow conditioners, and of the mse / gmm heads.
    encoder_hidden:   hidden widths of the observation encoder MLP (obs_horizon x obs_dim -> context).
    context_features: width of the encoder output (the flow's context).
    gmm_components:   mixture components of the gmm head.
    temperature:      base-distribution temperature when sampling (flow: z ~ N(0, T^2 I); gmm: component
                      scales times T). 1.0 samples the learned density itself; 0.8 measured better
                      on Detour (docs/policy.md).
    n_action_steps:   receding horizon: actions of a chunk executed before replanning (<= action_horizon).
    best_of:          sample this many chunks per observation and keep the one of highest log-density.
    obs_monitor:      also fit an unconditional flow to the training observations (``obs_log_prob``).
    monitor_layers:   flow transforms of that observation-density monitor.
    monitor_hidden:   conditioner widths of the monitor.
    monitor_steps:    gradient steps used to fit the monitor in ``fit_extra``.
    """

    kind: str = "flow"
    flow_kind: str = "realnvp"
    flow_layers: int = 4
    flow_linear: str = "permutation"
    hidden_features: tuple[int, ...] = (256, 256)
    encoder_hidden: tuple[int, ...] = (256, 256)
    context_features: int = 64
    gmm_components: int = 5
    temperature: float = 0.8
    n_action_steps: int = 4
    best_of: int = 1
    obs_monitor: bool = True
    monitor_layers: int = 3
    monitor_hidden: tuple[int, ...] = (128, 128)
    monitor_steps: int = 500

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"model.kind must be one of {MODEL_KINDS}, got {self.kind!r}")
        if self.flow_linear not in ("permutation", "lu"):
            raise ValueError(f"model.flow_linear must be 'permutation' or 'lu', got {self.flow_linear!r}")
        positive = {
            "flow_layers": self.flow_layers,
            "context_features": self.context_features,
            "gmm_components": self.gmm_components,
            "n_action_steps": self.n_action_steps,
            "best_of": self.best_of,
            "monitor_layers": self.monitor_layers,
        }
        for name, value in positive.items():
            if int(value) < 1:
                raise ValueError(f"model.{name} must be >= 1, got {value!r}")
        if self.monitor_steps < 0:
            raise ValueError(f"model.monitor_steps must be >= 0, got {self.monitor_steps!r}")
        if not self.temperature > 0:
            raise ValueError(f"model.temperature must be > 0, got {self.temperature!r}")
        for name in ("hidden_features", "encoder_hidden", "monitor_hidden"):
            widths = tuple(getattr(self, name))
            if any(int(w) < 1 for w in widths):
                raise ValueError(f"model.{name} must hold positive widths, got {widths!r}")
            setattr(self, name, tuple(int(w) for w in widths))
