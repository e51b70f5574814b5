"""Typed experiment configuration: the generic loader (``loader``) and every experiment's schema (``schema``).

``load_config(source, cls, overrides)`` builds a dataclass of ``schema`` from a YAML file or a mapping and
``key=value`` overrides; ``config_to_dict`` is its inverse.
"""

from robo_flows.config.loader import config_to_dict, load_config
from robo_flows.config.schema import (
    MODEL_KINDS,
    DataConfig,
    GraspDataConfig,
    GraspExperimentConfig,
    GraspModelConfig,
    ModelConfig,
    PolicyExperimentConfig,
    SamplingConfig,
    TrainConfig,
)
from robo_flows.errors import ConfigError

__all__ = [
    "MODEL_KINDS",
    "ConfigError",
    "DataConfig",
    "GraspDataConfig",
    "GraspExperimentConfig",
    "GraspModelConfig",
    "ModelConfig",
    "PolicyExperimentConfig",
    "SamplingConfig",
    "TrainConfig",
    "config_to_dict",
    "load_config",
]
