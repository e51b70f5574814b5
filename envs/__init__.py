"""robo_flows_envs: PyBullet Panda tasks, scripted experts and grasp evaluation for robo_flows."""
