"""Grasps in simulation: objects (primitives, pybullet_data meshes), the floating Panda hand, grasp trials,
analytic and antipodal grasp sets, and sim-verified grasp datasets (``robo-flows grasps generate``)."""
