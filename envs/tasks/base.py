"""``PandaTaskEnv``: the gymnasium side shared by every Panda task.

Action ``a`` in ``Box(-1, 1, (4,), float32)``:
  * ``a[:3]``: EE Cartesian velocity command; the EE position target for this control period is
    ``ee_pos + MAX_EE_STEP * a[:3]`` (at most 5 cm per 0.04 s), kept inside the task's workspace box,
    reached through inverse kinematics and joint position control.
  * ``a[3]``: gripper; the finger opening target is ``(a[3] + 1) / 2 * 0.08`` m (-1 closed, +1 fully open).
Commands outside [-1, 1] saturate at the bound (the actuator limit), like a velocity-limited drive;
actions of the wrong shape or with NaN/inf raise ``ValueError``.

Observation (``obs_mode``):
  * ``"state"`` (default): a flat float32 vector; ``obs_layout`` (ordered name -> size) says which slice
    is what.
  * ``"rgb"``: a ``gymnasium.spaces.Dict`` of the robot's own state parts (``ee_pos``, ``ee_vel``,
    ``finger_width``: what a real arm knows of itself, as ManiSkill's ``"rgb"`` mode keeps the agent state)
    and one uint8 ``[camera_height, camera_width, 3]`` image per camera, keyed ``<camera>_image``.
  * ``"state+rgb"``: the same Dict with every ``obs_layout`` part (robot and task) as its own float32 key.
  Cameras (``cameras=``, default both): ``agentview`` (fixed, above the workspace) and ``eye_in_hand`` (on the
  hand), robomimic's names; the Dict's keys are robomimic's ``obs/<key>`` datasets.
Every step's ``info`` carries ``is_success``; tasks with discrete modes also carry ``mode`` (the mode of the
motion executed so far, final at the episode's last step; ``"none"`` while undecided) and list their modes in
``mode_names``.  ``reset`` reports the scripted expert's mode for the episode in ``info["expert_mode"]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from robo_flows_envs.rendering import CameraPose, FixedCamera, WristCamera, check_size
from robo_flows_envs.robots.panda import EE_LINK, MAX_FINGER_WIDTH, Panda
from robo_flows_envs.sim import Sim

from robo_flows.errors import EnvError

MAX_EE_STEP = 0.05  # m of EE displacement per control period at |a| = 1
ROBOT_PARTS = {"ee_pos": 3, "ee_vel": 3, "finger_width": 1}
NO_MODE = "none"
OBS_MODES = ("state", "rgb", "state+rgb")
CAMERA_NAMES = ("agentview", "eye_in_hand")
IMAGE_SUFFIX = "_image"


class PandaTaskEnv(gym.Env[np.ndarray, np.ndarray], ABC):
    """Base of the Panda tasks; subclasses build a scene, sample episodes, score them and script an expert.

    Subclass hooks: ``_build(sim)`` (add bodies once), ``_sample_episode()`` (place things with
    ``self.np_random``, return the EE start position), ``_read_objects()`` (cache object states),
    ``_task_obs()`` (the parts after the robot's, in ``obs_layout`` order), ``_success()``, ``_failure()``,
    ``_reward()``, ``_track()`` (update the executed mode after each step), ``_executed_mode()``,
    ``_expert_action()``.  Hooks read ``self.ee_pos``, ``self.ee_vel``, ``self.finger_width`` and the cached
    object states rather than querying the simulator again.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}
    # class-level task description, overridden per task
    task_parts: dict[str, int] = {}
    mode_names: tuple[str, ...] = ()
    workspace_low = np.array([0.25, -0.35, 0.01])
    workspace_high = np.array([0.75, 0.35, 0.45])
    start_finger_width = 0.0
    action_names: tuple[str, ...] = ("vx", "vy", "vz", "gripper")  # a task with another action overrides
    # obs part holding a box's centre -> its top-down half extents (m), for path plots of the scene
    scene_footprints: dict[str, tuple[float, float]] = {}

    # fixed cameras, per task where the scene needs it: the rendered scene (``render()``) and the agentview
    scene_pose = CameraPose(target=(0.45, 0.0, 0.05), distance=1.25, yaw=90.0, pitch=-60.0)
    agentview_pose = CameraPose(target=(0.5, 0.0, 0.05), distance=0.85, yaw=90.0, pitch=-62.0, fov=55.0)

    def __init__(
        self,
        render_mode: str | None = None,
        width: int = 256,
        height: int = 256,
        detailed_meshes: bool = False,
        *,
        obs_mode: str = "state",
        cameras: Sequence[str] | None = None,
        camera_width: int = 84,
        camera_height: int = 84,
        physics_timestep: float | None = None,
        physics_substeps: int | None = None,
    ) -> None:
        """``width``/``height``: ``render()`` frame size (pixels); ``detailed_meshes``: draw the Panda with
        its full visual meshes (slow to render) instead of its render hulls (``robots.panda.urdf_path``);
        ``obs_mode``, ``cameras``, ``camera_width``/``camera_height``: the observation (module docstring);
        ``physics_timestep``/``physics_substeps``: the physics step and steps per 0.04 s control period,
        whose product must be 0.04 s (default 0.01 x 4; ``sim.physics_settings``).  Bad values raise
        ``EnvError``."""
        if render_mode not in (None, "rgb_array"):
            raise EnvError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if obs_mode not in OBS_MODES:
            raise EnvError(f"obs_mode must be one of {OBS_MODES}, got {obs_mode!r}")
        if cameras is not None and obs_mode == "state":
            raise EnvError(f"cameras={cameras!r} needs obs_mode 'rgb' or 'state+rgb', got obs_mode 'state'")
        self.camera_names = _camera_names(CAMERA_NAMES if cameras is None else cameras)
        camera_size = check_size("camera_width", camera_width), check_size("camera_height", camera_height)
        self.render_mode, self.obs_mode = render_mode, obs_mode
        self.scene_camera = FixedCamera(
            self.scene_pose, check_size("width", width), check_size("height", height)
        )
        self.obs_layout: dict[str, int] = {**ROBOT_PARTS, **self.task_parts}
        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(self.action_names),), np.float32)
        self.sim = Sim(physics_timestep, physics_substeps)
        try:
            self.robot = Panda(self.sim.cid, detailed_meshes, self.sim.timestep)
            self._build(self.sim)
        except BaseException:
            self.sim.close()
            raise
        self._initial_state = self.sim.save()
        self.cameras: dict[str, FixedCamera | WristCamera] = {}
        if obs_mode == "state":
            dim = sum(self.obs_layout.values())
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        else:
            self.cameras = {
                f"{name}{IMAGE_SUFFIX}": self._make_camera(name, *camera_size) for name in self.camera_names
            }
            self.observation_space = gym.spaces.Dict(
                {
                    **{
                        k: gym.spaces.Box(-np.inf, np.inf, (n,), np.float32)
                        for k, n in self.state_keys.items()
                    },
                    **{
                        k: gym.spaces.Box(0, 255, (c.height, c.width, 3), np.uint8)
                        for k, c in self.cameras.items()
                    },
                }
            )
        self.expert_mode = ""
        # state read once per control period (``_read_state``) and shared by obs, reward, success, expert
        self.ee_pos = np.zeros(3)
        self.ee_vel = np.zeros(3)
        self.finger_width = 0.0

    @property
    def state_keys(self) -> dict[str, int]:
        """The state parts (name -> size) the observation holds: all of ``obs_layout`` in ``"state"`` and
        ``"state+rgb"``, the robot's own in ``"rgb"``."""
        return dict(ROBOT_PARTS) if self.obs_mode == "rgb" else dict(self.obs_layout)

    @property
    def image_keys(self) -> tuple[str, ...]:
        """The observation's image keys (``<camera>_image``, uint8 [H, W, 3]); empty in ``"state"`` mode."""
        return tuple(self.cameras)

    def _make_camera(self, name: str, width: int, height: int) -> FixedCamera | WristCamera:
        if name == "agentview":
            return FixedCamera(self.agentview_pose, width, height)
        return WristCamera(self.robot.uid, EE_LINK, width, height)

    # ---- gymnasium API -------------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self._check_open("reset")
        super().reset(seed=seed)
        self.sim.restore(self._initial_state)
        ee_start = self._sample_episode()
        self.robot.reset(ee_start, self.start_finger_width)
        self.sim.forget_contacts()
        self._read_state()
        self.expert_mode = self._draw_expert_mode()
        self._reset_tracking()
        info = {"is_success": False, "expert_mode": self.expert_mode}
        if self.mode_names:
            info["mode"] = NO_MODE
        return self._obs(), info

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._check_open("step")
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape:
            raise ValueError(
                f"action must have shape {self.action_space.shape} = ({', '.join(self.action_names)}), "
                f"got shape {a.shape}"
            )
        if not np.isfinite(a).all():
            raise ValueError(f"action must be finite, got {a}")
        self._command(np.clip(a, -1.0, 1.0))
        self.sim.step()
        self._read_state()
        self._track()
        failed = self._failure()
        success = not failed and self._success()
        terminated = success or failed
        info: dict[str, Any] = {"is_success": success}
        if self.mode_names:
            info["mode"] = self._executed_mode()
        return self._obs(), float(self._reward()), terminated, False, info

    def _command(self, a: np.ndarray) -> None:
        """Send action ``a`` (in [-1, 1]) to the robot: the EE position target and finger opening of the
        module docstring.  A task with another action (``action_names``) overrides this."""
        target = np.clip(self.ee_pos + MAX_EE_STEP * a[:3], self.workspace_low, self.workspace_high)
        self.robot.command(target, (a[3] + 1.0) / 2.0 * MAX_FINGER_WIDTH)

    def render(self) -> np.ndarray | None:
        """``uint8 [height, width, 3]`` from pybullet's TinyRenderer when ``render_mode="rgb_array"``."""
        if self.render_mode != "rgb_array":
            return None
        self._check_open("render")
        return self.scene_camera.render(self.sim.cid)

    def render_cameras(self) -> dict[str, np.ndarray]:
        """The observation cameras' current images (``<camera>_image`` -> uint8 [H, W, 3]); empty in
        ``"state"`` mode."""
        self._check_open("render_cameras")
        return {key: camera.render(self.sim.cid) for key, camera in self.cameras.items()}

    def close(self) -> None:
        """Disconnect the physics client; afterwards ``reset``, ``step`` and ``render`` raise ``EnvError``."""
        self.sim.close()

    def _check_open(self, call: str) -> None:
        if self.sim.closed:
            raise EnvError(
                f"{type(self).__name__}.{call}() after close(): the env was closed; make a new one"
            )

    # ---- expert --------------------------------------------------------------------------------------
    def expert_action(self) -> np.ndarray:
        """The scripted expert's action (float32 [4]) for the current state and this episode's expert mode.
        A pure function of the state: calling it twice without stepping gives the same action."""
        self._check_open("expert_action")
        if not self.expert_mode:
            raise RuntimeError("expert_action() needs an episode: call reset() first")
        return np.clip(self._expert_action(), -1.0, 1.0).astype(np.float32)

    def _draw_expert_mode(self) -> str:
        """The expert's mode for the episode, uniform over ``mode_names`` ("direct" for unimodal tasks)."""
        if not self.mode_names:
            return "direct"
        return self.mode_names[int(self.np_random.integers(len(self.mode_names)))]

    # ---- shared pieces -------------------------------------------------------------------------------
    def _read_state(self) -> None:
        """Read the robot's (and, through ``_read_objects``, the task's) state once after a change."""
        self.ee_pos, self.ee_vel = self.robot.ee_state()
        self.finger_width = self.robot.finger_width()
        self._read_objects()

    def _state(self) -> np.ndarray:
        """The flat float32 state vector in ``obs_layout`` order."""
        parts = [self.ee_pos, self.ee_vel, [self.finger_width], *self._task_obs()]
        return np.concatenate(parts).astype(np.float32)

    def _obs(self) -> np.ndarray | dict[str, np.ndarray]:
        """The observation of ``obs_mode``: the state vector, or the Dict of state parts and images."""
        state = self._state()
        if self.obs_mode == "state":
            return state
        obs: dict[str, np.ndarray] = {}
        start = 0
        for name, size in self.obs_layout.items():
            if name in self.state_keys:
                obs[name] = state[start : start + size]
            start += size
        obs.update(self.render_cameras())
        return obs

    def _uniform(self, low: Any, high: Any, size: int | None = None) -> np.ndarray:
        """``self.np_random.uniform``: the episode's only source of randomness (seeded by ``reset``)."""
        return self.np_random.uniform(low, high, size)

    # ---- task hooks ----------------------------------------------------------------------------------
    @abstractmethod
    def _build(self, sim: Sim) -> None: ...

    @abstractmethod
    def _sample_episode(self) -> np.ndarray: ...

    @abstractmethod
    def _task_obs(self) -> list[np.ndarray]: ...

    @abstractmethod
    def _success(self) -> bool: ...

    def _failure(self) -> bool:
        return False

    @abstractmethod
    def _reward(self) -> float: ...

    def _read_objects(self) -> None:
        """Cache the task's object states for this control period (tasks with free bodies override)."""

    def _reset_tracking(self) -> None:
        """Forget the executed mode at reset (tasks with modes override)."""

    def _track(self) -> None:
        """Update the executed mode after a step (tasks with modes override)."""

    def _executed_mode(self) -> str:
        return NO_MODE

    @abstractmethod
    def _expert_action(self) -> np.ndarray: ...


def _camera_names(cameras: Sequence[str]) -> tuple[str, ...]:
    """Validated camera names: a non-empty sequence of distinct names from ``CAMERA_NAMES``."""
    if isinstance(cameras, str):
        cameras = (cameras,)
    names = tuple(cameras)
    unknown = [c for c in names if c not in CAMERA_NAMES]
    if not names or unknown or len(set(names)) != len(names):
        raise EnvError(f"cameras must be distinct names from {CAMERA_NAMES}, got {cameras!r}")
    return names
