"""robo_flows: conditional normalizing flows for robot actions and grasp poses."""

__version__ = "0.1.0"
