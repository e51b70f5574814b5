"""robo_flows_envs: PyBullet Panda tasks, scripted experts and grasp evaluation for robo_flows.

Importing registers the gymnasium ids below by entry-point string only, so ``import robo_flows_envs`` does not
import pybullet; the simulator loads when an env is made.  Every id takes the kwargs of
``tasks.base.PandaTaskEnv``: ``obs_mode`` ("state" | "rgb" | "state+rgb"), ``cameras``, ``camera_width`` /
``camera_height``, ``physics_timestep`` / ``physics_substeps``, ``render_mode``, ``width`` / ``height``
(docs/envs.md).
"""

import gymnasium

# id -> (entry point, max_episode_steps): about 1.2-2x the expert's longest episode in 200 (docs/envs.md)
TASKS = {
    "RoboFlows/PandaReach-v0": ("robo_flows_envs.tasks.reach:PandaReachEnv", 25),
    "RoboFlows/PandaDetour-v0": ("robo_flows_envs.tasks.detour:PandaDetourEnv", 40),
    "RoboFlows/PandaPush-v0": ("robo_flows_envs.tasks.push:PandaPushEnv", 120),
    "RoboFlows/PandaPickPlace-v0": ("robo_flows_envs.tasks.pickplace:PandaPickPlaceEnv", 60),
    "RoboFlows/PandaPushTwo-v0": ("robo_flows_envs.tasks.push_two:PandaPushTwoEnv", 300),
}

# tasks outside TASKS' shared contract (the 4-D action of tasks.base): their own tests cover them
GRASP_TASKS = {"RoboFlows/PandaPickObject-v0": ("robo_flows_envs.tasks.pick_object:PandaPickObjectEnv", 150)}

for _id, (_entry, _steps) in {**TASKS, **GRASP_TASKS}.items():
    if _id not in gymnasium.registry:
        gymnasium.register(id=_id, entry_point=_entry, max_episode_steps=_steps)
