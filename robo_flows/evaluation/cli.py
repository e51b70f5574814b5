"""``robo-flows eval``: evaluate a policy checkpoint (or the scripted expert) on a gymnasium environment."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from robo_flows.evaluation.evaluate import evaluate, expert_actor, policy_actor
from robo_flows.evaluation.report import format_table
from robo_flows.evaluation.seeds import EVAL_SEED_OFFSET


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--checkpoint", help="policy checkpoint (.pt) written by `robo-flows train`")
    who.add_argument("--expert", action="store_true", help="evaluate the env's scripted expert instead")
    parser.add_argument("--env", required=True, help="gymnasium id, e.g. RoboFlows/PandaDetour-v0")
    parser.add_argument("--episodes", type=int, default=50, help="number of episodes (default 50)")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help=f"episode i is reset with seed {EVAL_SEED_OFFSET} + SEED + i (disjoint from demo seeds)",
    )
    parser.add_argument("--out", required=True, help="run folder for results.json, plots and video")
    parser.add_argument("--num-envs", type=int, default=1, help="parallel envs (async when > 1)")
    parser.add_argument("--video", action="store_true", help="also write rollouts.gif of two episodes")
    parser.add_argument("--force", action="store_true", help="overwrite an existing results.json")
    parser.add_argument("--temperature", type=float, default=None, help="override the policy's temperature")
    parser.add_argument("--best-of", type=int, default=None, help="override the policy's best_of")
    parser.add_argument("--n-action-steps", type=int, default=None, help="override the receding horizon")
    parser.add_argument(
        "--perturb-start",
        type=int,
        default=0,
        metavar="STEPS",
        help="shifted starts: push the end effector STEPS control steps in a random direction after reset",
    )
    parser.add_argument(
        "--env-kwargs", type=json.loads, default=None, help="JSON dict of gymnasium.make kwargs"
    )


def run(args: argparse.Namespace) -> int:
    try:
        results = _evaluate(args)
    except (FileExistsError, FileNotFoundError, ValueError) as error:  # CheckpointError is a ValueError
        print(f"robo-flows eval: error: {error}", file=sys.stderr)
        return 2
    print(format_table([results]))
    print(f"results: {Path(args.out) / 'results.json'}")
    return 0


def _evaluate(args: argparse.Namespace) -> dict:
    # Batch-1 inference of small networks: one thread is fastest and immune to other processes' load.
    torch.set_num_threads(1)
    if args.expert:
        actor = expert_actor()
    else:
        actor = policy_actor(
            args.checkpoint,
            temperature=args.temperature,
            best_of=args.best_of,
            n_action_steps=args.n_action_steps,
        )
    return evaluate(
        actor,
        args.env,
        args.episodes,
        args.seed,
        args.out,
        num_envs=args.num_envs,
        video=args.video,
        env_kwargs=args.env_kwargs,
        perturb_steps=args.perturb_start,
        force=args.force,
    )
