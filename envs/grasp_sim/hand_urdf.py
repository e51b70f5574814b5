"""A compact URDF of the floating Panda hand, built on the ``pybullet_data`` Franka meshes.

The base link is the hand (frame = ``panda_hand`` of the Franka URDF: z toward the fingers, y the finger
axis); two prismatic fingers slide along ±y from 0 (closed) to MAX_OPENING / 2 each. The hand collides
through its mesh's convex hull; each finger through a box spanning the finger's length and its pad's
width, flush with the pad (the finger mesh's hull touches a flat face at one or two points, which lets a
squeezed box spin out; a box gives a four-point patch like a rubber pad). Masses and
inertias are those of small solid blocks (the Franka file's 0.1 kg·m² placeholders would make the
hand sluggish to shake). The hand's centre of mass sits at its frame origin because PyBullet places a
base by its inertial frame, and the evaluator places the hand by its URDF frame.
"""

from __future__ import annotations

import math
import os

import pybullet_data
from robo_flows_envs.grasp_sim.gripper import FINGER_LENGTH, FINGER_MOUNT, MAX_OPENING, PAD_HALF_WIDTH

HAND_MASS = 0.73
FINGER_MASS = 0.015
PAD_THICKNESS = 0.02
"""Thickness (along y) of the box that stands in for a finger's collision mesh, metres."""


def _mesh_path(kind: str, name: str) -> str:
    return os.path.join(pybullet_data.getDataPath(), "franka_panda", "meshes", kind, f"{name}.obj")


def _finger(name: str, side: int) -> str:
    """A finger link; ``side`` +1 (left, along +y) or -1 (right, the mesh turned half a turn about z)."""
    yaw = 0.0 if side > 0 else math.pi
    return f"""
  <link name="{name}">
    <inertial><origin xyz="0 0 0.03"/><mass value="{FINGER_MASS}"/>
      <inertia ixx="4e-6" ixy="0" ixz="0" iyy="4e-6" iyz="0" izz="1e-6"/></inertial>
    <visual><origin rpy="0 0 {yaw}"/><geometry><mesh filename="{_mesh_path("visual", "finger")}"/></geometry>
    </visual>
    <collision><origin xyz="0 {side * PAD_THICKNESS / 2} {FINGER_LENGTH / 2}"/>
      <geometry><box size="{2 * PAD_HALF_WIDTH} {PAD_THICKNESS} {FINGER_LENGTH}"/></geometry></collision>
  </link>"""


def _slide(name: str, child: str, direction: int) -> str:
    return f"""
  <joint name="{name}" type="prismatic">
    <parent link="hand"/><child link="{child}"/>
    <origin xyz="0 0 {FINGER_MOUNT}"/><axis xyz="0 {direction} 0"/>
    <limit effort="100" lower="0.0" upper="{MAX_OPENING / 2}" velocity="0.3"/>
  </joint>"""


def hand_urdf() -> str:
    """URDF text of the floating hand, with absolute paths to the ``pybullet_data`` meshes."""
    return f"""<?xml version="1.0"?>
<robot name="panda_hand">
  <link name="hand">
    <inertial><origin xyz="0 0 0"/><mass value="{HAND_MASS}"/>
      <inertia ixx="2.5e-3" ixy="0" ixz="0" iyy="6e-4" iyz="0" izz="2.5e-3"/></inertial>
    <visual><geometry><mesh filename="{_mesh_path("visual", "hand")}"/></geometry></visual>
    <collision><geometry><mesh filename="{_mesh_path("collision", "hand")}"/></geometry></collision>
  </link>{_finger("left_finger", 1)}{_finger("right_finger", -1)}
{_slide("left_slide", "left_finger", 1)}{_slide("right_slide", "right_finger", -1)}
</robot>
"""
