"""Demonstration data: the robomimic HDF5 format, windowed torch datasets, the action box, the Normalizer."""

from robo_flows.data.action_box import ACTION_BOUNDS_MODES, resolve_action_box
from robo_flows.data.demos import DemoDataset, split_episodes
from robo_flows.data.normalizer import NORMALIZATION_MODES, Normalizer
from robo_flows.data.robomimic import DemoFile, DemoRecord, Episode, read_demo_file, write_demo_file
from robo_flows.data.windows import window_indices

__all__ = [
    "ACTION_BOUNDS_MODES",
    "NORMALIZATION_MODES",
    "DemoDataset",
    "DemoFile",
    "DemoRecord",
    "Episode",
    "Normalizer",
    "read_demo_file",
    "resolve_action_box",
    "split_episodes",
    "window_indices",
    "write_demo_file",
]
