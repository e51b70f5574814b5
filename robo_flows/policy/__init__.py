"""Policies from demonstrations: the flow policy over action chunks and the baselines it is measured against.

``build_policy_model(cfg, ...)`` makes the trainable model (``cfg.kind``: "flow", "mse" or "gmm");
``FlowPolicy`` runs any of them in a control loop (receding horizon, numpy in and out).
"""

from robo_flows.config.schema import MODEL_KINDS, ModelConfig
from robo_flows.policy.models import MODEL_CLASSES, PolicyModel, build_policy_model
from robo_flows.policy.observations import ObservationAdapter
from robo_flows.policy.policy import FlowPolicy

__all__ = [
    "MODEL_CLASSES",
    "MODEL_KINDS",
    "FlowPolicy",
    "ModelConfig",
    "ObservationAdapter",
    "PolicyModel",
    "build_policy_model",
]
