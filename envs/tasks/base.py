"""``PandaTaskEnv``: the gymnasium side shared by every Panda task.

Action ``a`` in ``Box(-1, 1, (4,), float32)``:
  * ``a[:3]``: EE Cartesian velocity command; the EE position target for this control period is
    ``ee_pos + MAX_EE_STEP * a[:3]`` (at most 5 cm per 0.04 s), kept inside the task's workspace box,
    reached through inverse kinematics and joint position control.
  * ``a[3]``: gripper; the finger opening target is ``(a[3] + 1) / 2 * 0.08`` m (-1 closed, +1 fully open).
Commands outside [-1, 1] saturate at the bound (the actuator limit), like a velocity-limited drive;
actions of the wrong shape or with NaN/inf raise ``ValueError``.

Observation: a flat float32 vector; ``obs_layout`` (ordered name -> size) says which slice is what.
Every step's ``info`` carries ``is_success``; tasks with discrete modes also carry ``mode`` (the mode of the
motion executed so far, final at the episode's last step; ``"none"`` while undecided) and list their modes in
``mode_names``.  ``reset`` reports the scripted expert's mode for the episode in ``info["expert_mode"]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import gymnasium as gym
import numpy as np
from robo_flows_envs.rendering import Camera
from robo_flows_envs.robots.panda import MAX_FINGER_WIDTH, Panda
from robo_flows_envs.sim import Sim

MAX_EE_STEP = 0.05  # m of EE displacement per control period at |a| = 1
ROBOT_PARTS = {"ee_pos": 3, "ee_vel": 3, "finger_width": 1}
NO_MODE = "none"


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

    def __init__(
        self,
        render_mode: str | None = None,
        width: int = 128,
        height: int = 128,
        detailed_meshes: bool = False,
    ) -> None:
        """``width``/``height``: rgb frame size (pixels); ``detailed_meshes``: draw the Panda with its full
        visual meshes (slow to render) instead of its collision hulls (see ``robots.panda.urdf_path``)."""
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.camera = Camera(width, height)
        self.obs_layout: dict[str, int] = {**ROBOT_PARTS, **self.task_parts}
        dim = sum(self.obs_layout.values())
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.sim = Sim()
        self.robot = Panda(self.sim.cid, detailed_meshes)
        self._build(self.sim)
        self._initial_state = self.sim.save()
        self.expert_mode = ""
        # state read once per control period (``_read_state``) and shared by obs, reward, success, expert
        self.ee_pos = np.zeros(3)
        self.ee_vel = np.zeros(3)
        self.finger_width = 0.0

    # ---- gymnasium API -------------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
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

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = np.asarray(action, dtype=np.float64)
        if a.shape != (4,):
            raise ValueError(f"action must have shape (4,) = (vx, vy, vz, gripper), got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action must be finite, got {a}")
        a = np.clip(a, -1.0, 1.0)
        target = np.clip(self.ee_pos + MAX_EE_STEP * a[:3], self.workspace_low, self.workspace_high)
        self.robot.command(target, (a[3] + 1.0) / 2.0 * MAX_FINGER_WIDTH)
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

    def render(self) -> np.ndarray | None:
        """``uint8 [height, width, 3]`` from pybullet's TinyRenderer when ``render_mode="rgb_array"``."""
        if self.render_mode != "rgb_array":
            return None
        return self.camera.render(self.sim.cid)

    def close(self) -> None:
        self.sim.close()

    # ---- expert --------------------------------------------------------------------------------------
    def expert_action(self) -> np.ndarray:
        """The scripted expert's action (float32 [4]) for the current state and this episode's expert mode.
        A pure function of the state: calling it twice without stepping gives the same action."""
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

    def _obs(self) -> np.ndarray:
        parts = [self.ee_pos, self.ee_vel, [self.finger_width], *self._task_obs()]
        return np.concatenate(parts).astype(np.float32)

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
