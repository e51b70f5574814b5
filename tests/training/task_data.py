"""The tasks whose tiny demo files the training tests collect (see the ``task_demos`` fixture)."""

TASK_ENVS = {
    "reach": "RoboFlows/PandaReach-v0",
    "detour": "RoboFlows/PandaDetour-v0",
    "push": "RoboFlows/PandaPush-v0",
    "pickplace": "RoboFlows/PandaPickPlace-v0",
}
TINY_EPISODES = 3  # two train demos and one held out (valid_fraction 0.1 keeps at least one)
# "<task>_rgb": the same env seen through a small agentview camera (the image presets, configs/*_rgb.yaml)
RGB_SUFFIX = "_rgb"
RGB_ENV_KWARGS = {"obs_mode": "rgb", "cameras": ["agentview"], "camera_width": 32, "camera_height": 32}
