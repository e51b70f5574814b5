"""``robo-flows eval --checkpoint PT [--env ID] --out DIR``: a policy (or ``--expert``) on seeded episodes.

The env a checkpoint was trained for is known (its demo file's ``env_args``: ``env_name``, ``env_kwargs``),
so ``--env`` and ``--env-kwargs`` default to it.  ``--env-kwargs`` given with the checkpoint's env updates the
checkpoint's kwargs key by key.  Another env, or a kwarg of another value, is refused unless
``--allow-env-mismatch`` (then a warning names the difference on stderr): a policy evaluated on an env it
was not trained for runs silently and scores whatever it scores.

The checkpoint is loaded, the sampling overrides checked and the env made before any rollout; the results
folder is written only after the rollouts (``robo_flows.evaluation.evaluate``), so a failed evaluation leaves
no empty ``--out``.  Episode i of ``--seed S`` is reset with seed ``10**8 + S + i`` (stated in the results).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from robo_flows.commands.options import json_object, positive_float, positive_int
from robo_flows.errors import EnvError

SEED_HELP = "episode i is reset with seed 10**8 + SEED + i (disjoint from demo seeds; default 0)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--checkpoint", help="policy checkpoint (.pt) written by `robo-flows train`")
    who.add_argument("--expert", action="store_true", help="evaluate the env's scripted expert (needs --env)")
    parser.add_argument(
        "--env", help="gymnasium id or module:Id (default: the checkpoint's, from its demonstrations)"
    )
    parser.add_argument(
        "--env-kwargs",
        type=json_object,
        default=None,
        help="JSON dict of gymnasium.make kwargs (default: the checkpoint's; given, it updates them)",
    )
    parser.add_argument(
        "--allow-env-mismatch",
        action="store_true",
        help="evaluate on another env or kwargs than the checkpoint was trained on (warns)",
    )
    parser.add_argument("--episodes", type=positive_int, default=50, help="number of episodes (default 50)")
    parser.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    parser.add_argument(
        "--out", type=Path, required=True, help="run folder for results.json, plots and video"
    )
    parser.add_argument("--num-envs", type=positive_int, default=1, help="parallel envs (async when > 1)")
    parser.add_argument(
        "--success-key",
        default="auto",
        help="where success is read at an episode's end: auto (info is_success, else success), an info "
        "key, or reward (terminal reward > 0); an env reporting none is an error",
    )
    parser.add_argument(
        "--video",
        action="store_true",
        help="also write rollouts.mp4: 4 episodes tiled, outcome and mode on each",
    )
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out (after the rollouts)")
    parser.add_argument(
        "--temperature", type=positive_float, default=None, help="override the sampling temperature"
    )
    parser.add_argument("--best-of", type=positive_int, default=None, help="override sampling best_of")
    parser.add_argument(
        "--n-action-steps", type=positive_int, default=None, help="override the receding horizon"
    )
    parser.add_argument(
        "--perturb-start",
        type=int,
        default=0,
        metavar="STEPS",
        help="shifted starts: push the end effector STEPS control steps in a random direction after reset",
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from robo_flows.evaluation.evaluate import evaluate, expert_actor, policy_actor
    from robo_flows.evaluation.report import format_table

    # Batch-1 inference of small networks: one thread is fastest and immune to other processes' load.
    torch.set_num_threads(1)
    if args.expert:
        if args.env is None:
            raise EnvError("--expert needs --env (there is no checkpoint to take the env from)")
        actor, env_id, env_kwargs = expert_actor(), args.env, args.env_kwargs or {}
    else:
        actor = policy_actor(
            args.checkpoint,
            temperature=args.temperature,
            best_of=args.best_of,
            n_action_steps=args.n_action_steps,
        )
        env_id, env_kwargs = choose_env(
            actor.policy.env_args, args.env, args.env_kwargs, args.allow_env_mismatch
        )
    results = evaluate(
        actor,
        env_id,
        args.episodes,
        args.seed,
        args.out,
        num_envs=args.num_envs,
        video=args.video,
        env_kwargs=env_kwargs,
        perturb_steps=args.perturb_start,
        force=args.force,
        success_key=args.success_key,
    )
    print(format_table([results]))
    print(f"results: {args.out / 'results.json'}")
    return 0


def choose_env(
    env_args: dict[str, Any],
    env: str | None,
    env_kwargs: dict[str, Any] | None,
    allow_mismatch: bool,
) -> tuple[str, dict[str, Any]]:
    """``(env_id, env_kwargs)`` to evaluate a checkpoint whose demonstrations came from ``env_args``.

    Defaults are the checkpoint's ``env_name`` / ``env_kwargs``; given kwargs update the checkpoint's for its
    own env and replace them for another.  A different env or kwarg value is an ``EnvError`` unless
    ``allow_mismatch``, which warns on stderr instead.
    """
    trained_id = env_args.get("env_name")
    trained_kwargs = dict(env_args.get("env_kwargs") or {})
    if env is None:
        if trained_id is None:
            raise EnvError("the checkpoint does not name the env it was trained on; pass --env")
        env = trained_id
    if trained_id is None:
        return env, dict(env_kwargs or {})
    kwargs = {**trained_kwargs, **(env_kwargs or {})} if env == trained_id else dict(env_kwargs or {})
    differences = []
    if env != trained_id:
        differences.append(f"env {env!r} (trained on {trained_id!r})")
    keys = sorted(kwargs.keys() | trained_kwargs.keys())
    changed = [f"{k}={kwargs.get(k)!r} (trained: {trained_kwargs.get(k)!r})" for k in keys
               if kwargs.get(k) != trained_kwargs.get(k)]  # fmt: skip
    if changed:
        differences.append("env kwargs " + ", ".join(changed))
    if differences:
        what = "; ".join(differences)
        if not allow_mismatch:
            raise EnvError(
                f"the checkpoint was trained on another env: {what}; "
                "pass --allow-env-mismatch to evaluate anyway"
            )
        print(f"robo-flows eval: warning: evaluating on {what}", file=sys.stderr)
    return env, kwargs
