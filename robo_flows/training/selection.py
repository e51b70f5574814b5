"""Model selection: which validated checkpoint becomes ``best.pt``; rollout scores of a policy in training.

``train.select_by`` names the score (``SELECTION_RULES``): ``val_median`` and ``val_mean`` are validation
losses (lower is better, a strict improvement is needed); ``rollout_success`` is the success rate of
``train.eval_episodes`` seeded rollouts (higher is better; ties go to the later, longer-trained step, since
a success rate over a few episodes ties often and an early tie is usually the under-trained model).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from robo_flows.errors import ConfigError

SELECTION_RULES: tuple[str, ...] = ("val_median", "val_mean", "rollout_success")
SELECTION_SEED_BASE = (
    2 * 10**8
)  # rollout seeds 2e8 + seed + i: apart from demos (0, 1, ...) and eval (1e8 + ...)
EARLY_FRACTION = 0.2  # a best step in the first 20% of training earns a warning

RolloutScore = Callable[[nn.Module], float]


def improves(rule: str, score: float, best: float | None) -> bool:
    """Whether ``score`` replaces ``best`` under ``rule`` (see the module doc); a NaN or inf never does."""
    if not math.isfinite(score):
        return False
    if best is None:
        return True
    return score >= best if rule == "rollout_success" else score < best


def early_warning(step: int | None, steps: int, rule: str) -> str | None:
    """The warning for a best step in the first ``EARLY_FRACTION`` of ``steps`` (None otherwise)."""
    if step is None or step > EARLY_FRACTION * steps:
        return None
    return (
        f"best.pt is from step {step} of {steps} (the first {EARLY_FRACTION:.0%} of training) by {rule}; "
        "the validation score may be owned by odd demonstrations -- evaluate last.pt as well"
    )


def policy_rollout_score(
    env_args: Mapping[str, Any],
    obs_keys: list[str],
    sampling: Any,
    episodes: int,
    seed: int,
    success_key: str = "auto",
    image_shapes: Mapping[str, Any] | None = None,
) -> RolloutScore:
    """``score(model) -> success rate`` of ``episodes`` rollouts of a policy model in the demo file's env.

    The env is ``env_args["env_name"]`` made with ``env_args["env_kwargs"]``; episode i is reset with seed
    ``SELECTION_SEED_BASE + seed + i``, and the policy samples under a forked RNG seeded the same way, so
    scores are reproducible and the training random stream is untouched. The env is made once here, to
    check it (EnvError for an unknown id or kwarg, before training starts); success is read as
    ``success_key`` says (``robo_flows.evaluation.rollout``); ``image_shapes``: a camera policy's frames.
    Raises ConfigError when ``env_args`` names no env.
    """
    env_id = env_args.get("env_name")
    if not env_id:
        raise ConfigError(
            "train.select_by=rollout_success / train.eval_every need the env to roll out in, but the demo "
            "file's env_args name none (env_name)"
        )
    env_kwargs = dict(env_args.get("env_kwargs") or {})
    seeds = [SELECTION_SEED_BASE + seed + i for i in range(episodes)]
    from robo_flows.evaluation.rollout import describe_env  # the simulator: only where rollouts are asked for

    layout = describe_env(env_id, env_kwargs).layout  # an unknown env or kwarg fails now, before training

    def score(model: nn.Module) -> float:
        from robo_flows.evaluation.actors import PolicyActor
        from robo_flows.evaluation.rollout import SuccessSignal, make_vector_env, run_episodes
        from robo_flows.policy.policy import FlowPolicy

        was_training = model.training
        device = next(model.parameters()).device
        policy = FlowPolicy(
            model, obs_keys, env_args, sampling=sampling, device=device, image_shapes=image_shapes
        )
        envs = make_vector_env(env_id, 1, env_kwargs)
        try:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(SELECTION_SEED_BASE + seed)
                success = SuccessSignal(success_key, env_id)
                records = run_episodes(envs, PolicyActor(policy), seeds, layout, success)
        finally:
            envs.close()
            model.train(was_training)
        return sum(r.success for r in records) / len(records)

    return score
