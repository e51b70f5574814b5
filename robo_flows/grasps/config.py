"""Typed settings of a grasp-flow experiment (``configs/grasp_flow.yaml``), read by ``load_config``."""

from __future__ import annotations

from dataclasses import dataclass, field

from robo_flows.config import ConfigError, TrainConfig
from robo_flows.geometry.pose_flow import MAX_CHARTS


@dataclass
class GraspDataConfig:
    """Which grasps to learn from.

    path:           grasp HDF5 file (``robo-flows grasps generate``).
    valid_fraction: fraction of the file's objects held out for validation.
    split_seed:     seed of that object split.
    success_only:   learn the distribution of sim-verified successful grasps only.
    """

    path: str
    valid_fraction: float = 0.1
    split_seed: int = 0
    success_only: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.valid_fraction < 1.0:
            raise ConfigError(f"data.valid_fraction must be in [0, 1), got {self.valid_fraction}")


@dataclass
class GraspModelConfig:
    """The PoseFlow over grasps (R, t) conditioned on the standardized object descriptor.

    flow_kind, layers, hidden_features: the Euclidean flow (``robo_flows.flows.build_flow``).
    charts:          chart centres of the rotation mixture (1..4).
    symmetric:       density on classes R ~ R·Rz(π) (the parallel-jaw symmetry).
    mixture_hidden:  hidden widths of the descriptor -> chart weights network.
    temperature:     latent temperature when sampling (1 = the learned density).
    """

    flow_kind: str = "realnvp"
    layers: int = 10
    hidden_features: tuple[int, ...] = (192, 192)
    charts: int = 4
    symmetric: bool = True
    mixture_hidden: tuple[int, ...] = (64,)
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.charts <= MAX_CHARTS:
            raise ConfigError(f"model.charts must be in [1, {MAX_CHARTS}], got {self.charts}")
        if self.layers < 1:
            raise ConfigError(f"model.layers must be >= 1, got {self.layers}")
        if self.temperature <= 0:
            raise ConfigError(f"model.temperature must be > 0, got {self.temperature}")


@dataclass
class GraspExperimentConfig:
    """One grasp-flow experiment: data, model and optimisation."""

    data: GraspDataConfig
    model: GraspModelConfig = field(default_factory=GraspModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str | None = None
