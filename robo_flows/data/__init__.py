"""Demonstration data: robomimic-layout HDF5 files -> windowed torch datasets, and the Normalizer."""

from robo_flows.data.demos import DemoDataset, split_episodes
from robo_flows.data.normalizer import NORMALIZATION_MODES, Normalizer
from robo_flows.data.robomimic import DemoFile, Episode, read_demo_file, write_demo_file
from robo_flows.data.windows import window_indices

__all__ = [
    "NORMALIZATION_MODES",
    "DemoDataset",
    "DemoFile",
    "Episode",
    "Normalizer",
    "read_demo_file",
    "split_episodes",
    "window_indices",
    "write_demo_file",
]
