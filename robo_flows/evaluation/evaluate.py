"""``evaluate``: roll a policy (or the scripted expert) out on seeded episodes and write a run folder.

``DIR/results.json`` holds ``success_rate``, ``success_ci`` (Wilson 95%), ``episodes``, ``modes``
(executed mode -> episodes, from ``info["mode"]``), ``replan_ms`` (a policy's chunk sample at batch 1 and 50,
cold and warm; ``robo_flows.evaluation.latency``) and, for a policy with an observation monitor,
``obs_log_prob`` of the episodes' first observations.  Beside it:
``paths.png`` (top-down end-effector paths coloured by mode, over the goals and obstacles), ``modes.png`` and,
on request, ``rollouts.mp4`` (``VIDEO_EPISODES`` episodes tiled, outcome and mode on each; a GIF only without
an mp4 writer).
``seed_rule`` says how episodes were seeded (episode i of seed S is reset with 10**8 + S + i) and
``success_key`` from what the success was read (``robo_flows.evaluation.rollout.SuccessSignal``).

Nothing is written before the rollouts are done: a run that fails (bad env, no success signal) leaves no
folder behind, and an existing non-empty ``out_dir`` is refused up front unless ``force``, which removes it
only once the rollouts succeeded (``robo_flows.commands.output.claim_output``).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robo_flows.commands.output import claim_output
from robo_flows.evaluation.actors import Actor, ExpertActor, PolicyActor
from robo_flows.evaluation.latency import replanning_latency
from robo_flows.evaluation.metrics import mode_counts, wilson_interval
from robo_flows.evaluation.plots import (
    missing_paths_reason,
    plot_mode_histogram,
    plot_paths,
    scene_observations,
)
from robo_flows.evaluation.rollout import (
    EpisodeRecord,
    SuccessSignal,
    describe_env,
    make_vector_env,
    run_episodes,
)
from robo_flows.evaluation.seeds import check_disjoint, episode_seeds, seed_rule
from robo_flows.evaluation.video import record_video
from robo_flows.policy.policy import FlowPolicy

RESULTS_FILE = "results.json"
VIDEO_EPISODES = 4


def evaluate(
    actor: Actor,
    env_id: str,
    episodes: int,
    seed: int,
    out_dir: str | Path,
    *,
    num_envs: int = 1,
    video: bool = False,
    env_kwargs: dict[str, Any] | None = None,
    perturb_steps: int = 0,
    demo_seeds: Sequence[int] = (),
    force: bool = False,
    success_key: str = "auto",
) -> dict[str, Any]:
    """Evaluate ``actor`` on ``episodes`` seeded episodes of ``env_id``; returns (and writes) the results.

    ``success_key``: "auto", an info key or "reward" (see :class:`SuccessSignal`).  A non-empty ``out_dir``
    is refused (``FileExistsError``) unless ``force``; see the module doc for the order of things.
    """
    out = Path(out_dir)
    if not force:
        claim_output(out, force=False, kind="dir")  # refuse now, not after the rollouts
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    seeds = episode_seeds(seed, episodes)
    check_disjoint(seeds, demo_seeds)
    success = SuccessSignal(success_key, env_id)

    env = describe_env(env_id, env_kwargs)
    if isinstance(actor, ExpertActor) and not env.has_expert:
        raise ValueError(f"{env_id} has no scripted expert (env.unwrapped.expert_action)")
    start = time.perf_counter()
    envs = make_vector_env(env_id, min(num_envs, episodes), env_kwargs, perturb_steps=perturb_steps)
    try:
        # the policy's draws follow the seed (reproducible results); the caller's RNG is left as it was
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            records = run_episodes(envs, actor, seeds, env.layout, success)
    finally:
        envs.close()
    wall = time.perf_counter() - start

    results = summarize(records, actor.name, env_id, env.mode_names)
    results.update(
        seed=seed,
        seed_rule=seed_rule(seed),
        seeds=[seeds[0], seeds[-1]],
        success_key=success.resolved,
        num_envs=min(num_envs, episodes),
        perturb_steps=perturb_steps,
        env_kwargs=env_kwargs or {},
        rollout_seconds=round(wall, 2),
        machine=f"{platform.machine()} {platform.processor()} torch threads={torch.get_num_threads()}",
    )
    if isinstance(actor, PolicyActor):
        results.update(policy_measurements(actor.policy, [r.first_obs for r in records]))
    claim_output(out, force=force, kind="dir")
    out.mkdir(parents=True, exist_ok=True)
    results["files"] = {
        "paths": plot_paths(
            records,
            out / "paths.png",
            actor.name,
            layout=env.layout,
            footprints=env.footprints,
            scenes=scene_observations(env_id, env_kwargs, seeds),
        ).name,
        "modes": plot_mode_histogram(results["modes"], out / "modes.png", actor.name).name,
    }
    no_paths = missing_paths_reason(records, env.layout)
    if no_paths is not None:  # say why paths.png holds no paths, in the results and on stderr
        results["notes"] = [*results.get("notes", []), no_paths]
        print(f"warning: {no_paths}", file=sys.stderr)
    if video:
        video_path = record_video(
            env_id, actor, seeds[:VIDEO_EPISODES], out / "rollouts.mp4", env_kwargs, perturb_steps
        )
        results["files"]["video"] = video_path.name
    (out / RESULTS_FILE).write_text(json.dumps(results, indent=2))
    return results


def summarize(
    records: list[EpisodeRecord], name: str, env_id: str, mode_names: Sequence[str] = ()
) -> dict[str, Any]:
    """Success rate with its Wilson 95% interval, mode counts and episode lengths.

    ``smaller_mode_share`` is the least executed of the env's declared modes, as a fraction of all episodes
    (None for tasks with fewer than two modes).
    """
    n = len(records)
    k = sum(r.success for r in records)
    lo, hi = wilson_interval(k, n)
    modes = mode_counts(r.mode for r in records)
    smaller = min(modes.get(m, 0) for m in mode_names) / n if len(mode_names) > 1 else None
    return {
        "actor": name,
        "env": env_id,
        "episodes": n,
        "successes": k,
        "success_rate": k / n,
        "success_ci": [lo, hi],
        "modes": modes,
        "mode_names": list(mode_names),
        "smaller_mode_share": smaller,
        "success_modes": mode_counts(r.mode for r in records if r.success),
        "mean_length": float(np.mean([r.length for r in records])),
    }


def policy_measurements(policy: FlowPolicy, first_obs: list[Any]) -> dict[str, Any]:
    """Latency of the replanning call (chunk sample at batch 1 and 50); the monitor's view of the starts."""
    out: dict[str, Any] = {
        "replan_ms": replanning_latency({policy.kind: policy}, first_obs)[policy.kind],
        "policy": {
            "kind": policy.kind,
            "temperature": policy.temperature,
            "best_of": policy.best_of,
            "n_action_steps": policy.n_action_steps,
        },
    }
    if policy.model.monitor is not None:
        logp = np.array([policy.obs_log_prob(o) for o in first_obs])
        out["obs_log_prob"] = {
            "mean": float(logp.mean()),
            "p05": float(np.percentile(logp, 5)),
            "min": float(logp.min()),
            "values": [round(v, 3) for v in logp.tolist()],  # 1e-3 nats: far below the spread
        }
    return out


def expert_actor() -> ExpertActor:
    """The scripted expert, evaluated by the same code as the policies."""
    return ExpertActor()


def policy_actor(checkpoint: str | Path, name: str | None = None, **overrides: Any) -> PolicyActor:
    """A policy from a checkpoint, shown as ``name`` (default: its kind); ``temperature``, ``best_of`` and
    ``n_action_steps`` may be overridden."""
    return PolicyActor(FlowPolicy.from_checkpoint(checkpoint, **overrides), name=name)
