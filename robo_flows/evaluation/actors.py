"""Who acts in a rollout: a trained policy or the environment's scripted expert, behind one small protocol."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from robo_flows.policy.policy import FlowPolicy


class Actor(Protocol):
    """Batched actor: ``act(obs, envs) -> [K, act_dim]`` for the vector env's K observations."""

    name: str

    def reset(self, rows: np.ndarray | None = None) -> None: ...

    def act(self, obs: Any, envs: Any) -> np.ndarray: ...


class PolicyActor:
    """A :class:`FlowPolicy` (flow, mse or gmm) acting on batched observations."""

    def __init__(self, policy: FlowPolicy, name: str | None = None) -> None:
        self.policy = policy
        self.name = name or policy.kind

    def reset(self, rows: np.ndarray | None = None) -> None:
        self.policy.reset(rows)

    def act(self, obs: Any, envs: Any) -> np.ndarray:
        return self.policy.select_action(obs)


class ExpertActor:
    """The scripted expert of each sub-environment (``env.unwrapped.expert_action()``), via ``envs.call``."""

    name = "expert"

    def reset(self, rows: np.ndarray | None = None) -> None:
        """The expert is a pure function of the state; nothing to forget."""

    def act(self, obs: Any, envs: Any) -> np.ndarray:
        """``evaluate`` checks beforehand that the env has an expert (a failing call kills async workers)."""
        return np.stack([np.asarray(a, dtype=np.float32) for a in envs.call("expert_action")])
