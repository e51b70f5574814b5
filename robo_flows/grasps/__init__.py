"""Grasp-pose distributions: ``GraspFlow`` (a symmetric PoseFlow on object descriptors), training, metrics."""

from robo_flows.config.schema import GraspDataConfig, GraspExperimentConfig, GraspModelConfig
from robo_flows.grasps.model import GraspFlow

__all__ = ["GraspDataConfig", "GraspExperimentConfig", "GraspFlow", "GraspModelConfig"]
