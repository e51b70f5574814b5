"""SO(3)/SE(3) maths and PoseFlow, flows on poses with exact densities (normalized Haar × Lebesgue)."""

from robo_flows.geometry.charts import (
    chart_to_rotation,
    chart_to_rotvec,
    log_abs_det_chart,
    log_haar_density_rotvec,
    rotation_to_chart,
    rotvec_to_chart,
)
from robo_flows.geometry.pose_flow import PoseFlow
from robo_flows.geometry.so3 import (
    exp_map,
    geodesic_distance,
    half_turn_about_z,
    hat,
    log_map,
    matrix_to_quaternion,
    matrix_to_sixd,
    quaternion_to_matrix,
    quaternion_to_rotvec,
    random_rotations,
    rotation_about_z,
    rotation_angle,
    rotvec_to_quaternion,
    sixd_to_matrix,
    vee,
)
from robo_flows.geometry.validation import check_rotation_matrices, check_sixd

__all__ = [
    "PoseFlow",
    "chart_to_rotation",
    "chart_to_rotvec",
    "check_rotation_matrices",
    "check_sixd",
    "exp_map",
    "geodesic_distance",
    "half_turn_about_z",
    "hat",
    "log_abs_det_chart",
    "log_haar_density_rotvec",
    "log_map",
    "matrix_to_quaternion",
    "matrix_to_sixd",
    "quaternion_to_matrix",
    "quaternion_to_rotvec",
    "random_rotations",
    "rotation_about_z",
    "rotation_angle",
    "rotation_to_chart",
    "rotvec_to_chart",
    "rotvec_to_quaternion",
    "sixd_to_matrix",
    "vee",
]
