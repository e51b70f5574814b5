"""``robo-flows bench policy``: every policy kind head to head with the scripted experts, per task.

Per task (default Detour, Push, PickPlace): collect expert demonstrations (``DEMOS``: how many, and the
DART-style action noise of the collector for the contact-rich tasks), train the presets
``configs/{task}_{kind}.yaml`` of every kind (flow, mse, gmm, diffusion, flow_matching: the same demos,
chunking and training steps), evaluate every policy and the expert on the same seeded episodes (paired).
Each cell reports success with its Wilson 95% interval, the executed modes and the smaller mode's share, and
its cost: parameters, training wall time and steps/s, the step and wall time of its best validation score.

Further rows, each trained on the same demos and judged on the same episodes:

- ``--seeds N``: training seeds ``1 .. N-1`` of the headline kinds (``--seed-kinds``) beside the preset's
  own seed 0, with the mean, spread and pooled interval of their success;
- ``(DP protocol)`` on ``--dp-tasks``: the ``{task}_{kind}_dp`` presets (Diffusion Policy's observation
  horizon 2, action horizon 16, 8 executed steps) of ``--dp-kinds``, so no comparison rests on the flow's
  own settings;
- ``(equal params)`` on ``--equal-params-tasks``: diffusion and flow matching with the U-Net narrowed to about
  the flow preset's parameter count (``EQUAL_PARAMS``), beside their defaults;
- ``(generic)`` with ``--generic``: the untuned ``configs/{kind}.yaml`` presets.

With ``--obs rgb`` the demos carry camera images (env kwargs ``{"obs_mode": "state+rgb"}``, more with
``--env-kwargs``) and the tuned cells use the ``{task}_{kind}_rgb`` presets (the other rows are state-only
and left out).  On ``--sweep-tasks`` (default Detour) the flow policy also runs at other temperatures and
with best-of-4.  On Detour the replanning call (one chunk sample, ``predict_action_chunk``) of every tuned and
equal-parameter policy is timed side by side at batch 1 and 50 (interleaved calls,
``robo_flows.evaluation.latency``), p50 / p95 warm and the cold first call apart.  Prints tables, checks the
issues' targets, and writes ``OUT/bench_policy.json`` through the benchmark harness (machine, versions,
threads, settings, raw latency samples).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robo_flows.benchmarks.harness import format_table as text_table
from robo_flows.benchmarks.harness import result_payload, write_result
from robo_flows.benchmarks.task_runs import (
    DEMO_SEED,
    TASK_ENVS,
    collect,
    finished_run,
    parameter_counts,
    preset,
    preset_name,
    train_preset,
    training_cost,
)
from robo_flows.commands.output import claim_output
from robo_flows.config import MODEL_KINDS
from robo_flows.config.presets import resolve_preset
from robo_flows.evaluation import evaluate, expert_actor, format_table, policy_actor
from robo_flows.evaluation.latency import REPLAN_BATCHES, replanning_latency
from robo_flows.evaluation.metrics import wilson_interval
from robo_flows.policy import FlowPolicy
from robo_flows.training.threads import set_threads

# task -> (demonstrations, collector action noise sigma).  Push and PickPlace policies drift off the clean
# demonstrations after small errors; noise-injected demos (executed a* + N(0, sigma^2), recorded a*) cover the
# recovery states (docs/policy.md).  PickPlace keeps only half its demos at sigma 0.2 within the time limit.
DEMOS = {"reach": (200, 0.0), "detour": (200, 0.0), "push": (400, 0.2), "pickplace": (1000, 0.1)}
# The U-Net kinds narrowed to about the flow preset's parameter count (Detour: 0.44M vs the flow's 0.46M,
# encoders included; their default [64, 128] has 1.2M).
EQUAL_PARAMS = {kind: ("model.unet.down_dims=[32,64]",) for kind in ("diffusion", "flow_matching")}
OBS_ENV_KWARGS: dict[str, dict[str, Any]] = {"state": {}, "rgb": {"obs_mode": "state+rgb"}}
RESULT_FILE = "bench_policy.json"
DEMOS_FILE = "demos.hdf5"


@dataclass(frozen=True)
class Cell:
    """One trained policy of a task: its name in the tables, kind, preset, run folder and overrides."""

    name: str
    kind: str
    preset: str
    folder: str
    overrides: tuple[str, ...] = ()


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="robo-flows bench policy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="detour,push,pickplace", help="comma-separated tasks")
    parser.add_argument("--kinds", default=",".join(MODEL_KINDS), help="comma-separated model kinds")
    parser.add_argument(
        "--episodes", type=int, default=None, help="expert demonstrations per task (default: DEMOS per task)"
    )
    parser.add_argument("--eval-episodes", type=int, default=100, help="evaluation episodes per policy")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the presets')")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override for every trained policy, after the cell's own (repeatable)",
    )
    parser.add_argument("--seeds", type=int, default=1, help="training seeds of the --seed-kinds cells")
    parser.add_argument("--seed-kinds", default="flow,diffusion", help="kinds trained with --seeds seeds")
    parser.add_argument("--dp-tasks", default="push,pickplace", help="tasks with Diffusion Policy rows")
    parser.add_argument("--dp-kinds", default="flow,diffusion", help="kinds of the Diffusion Policy rows")
    parser.add_argument(
        "--equal-params-tasks", default="detour", help="tasks with the U-Net kinds at the flow's size"
    )
    parser.add_argument(
        "--equal-params-kinds", default=",".join(EQUAL_PARAMS), help="kinds of the equal-parameter rows"
    )
    parser.add_argument("--temperatures", default="0.6,0.8,1.0", help="flow temperatures of the sweep")
    parser.add_argument("--sweep-tasks", default="detour", help="tasks with the flow temperature sweep")
    parser.add_argument(
        "--generic", action="store_true", help="also train the generic configs/{kind}.yaml presets per task"
    )
    parser.add_argument("--obs", choices=sorted(OBS_ENV_KWARGS), default="state", help="observations")
    parser.add_argument(
        "--env-kwargs", type=json.loads, default={}, help="JSON kwargs for gym.make, over --obs's"
    )
    parser.add_argument("--num-envs", type=int, default=1, help="environments per evaluation")
    parser.add_argument("--latency-repeats", type=int, default=200, help="timed replanning calls per batch")
    parser.add_argument(
        "--step-repeats", type=int, default=10, help="interleaved training steps timed per policy (0: none)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1: batch-1 inference, small MLPs)"
    )
    parser.add_argument(
        "--reuse",
        type=Path,
        action="append",
        default=[],
        help="an earlier run folder of this benchmark (repeatable): per task, the demos of the first folder "
        "that has them, finished training runs of the same configs and their evaluations with the same "
        "episodes are used instead of collecting, training and evaluating again (so runs of one task "
        "each can be assembled into one result)",
    )
    parser.add_argument("--label", default=None, help="what kind of run this is, kept in the JSON")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_policy"), help="output folder")
    parser.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    return parser.parse_args(argv)


def task_cells(task: str, kinds: list[str], args: argparse.Namespace) -> list[Cell]:
    """The policies trained on ``task``: tuned per kind, extra seeds, DP protocol, equal params, generic."""
    rgb = args.obs == "rgb"
    variant = "rgb" if rgb else ""
    cells = [Cell(kind, kind, preset_name(task, kind, variant), kind) for kind in kinds]
    seed_kinds = [kind for kind in kinds if kind in _names(args.seed_kinds)]
    for seed in range(1, args.seeds):
        for kind in seed_kinds:
            name, folder = f"{kind} seed {seed}", f"{kind}_seed{seed}"
            cells.append(Cell(name, kind, preset_name(task, kind, variant), folder, (f"train.seed={seed}",)))
    if rgb:
        return cells
    if task in _names(args.dp_tasks):
        cells += [
            Cell(f"{kind} (DP protocol)", kind, preset_name(task, kind, "dp"), f"{kind}_dp")
            for kind in kinds
            if kind in _names(args.dp_kinds)
        ]
    if task in _names(args.equal_params_tasks):
        for kind in (k for k in _names(args.equal_params_kinds) if k in EQUAL_PARAMS):
            name, folder = f"{kind} (equal params)", f"{kind}_equal_params"
            cells.append(Cell(name, kind, preset_name(task, kind), folder, EQUAL_PARAMS[kind]))
    if args.generic:
        cells += [Cell(f"{kind} (generic)", kind, kind, f"{kind}_generic") for kind in kinds]
    return cells


def run_task(task: str, cells: list[Cell], args: argparse.Namespace) -> dict[str, Any]:
    """Collect, train every cell, evaluate it and the expert on the same seeded episodes."""
    out = args.out / task
    out.mkdir(parents=True, exist_ok=True)
    default_episodes, noise = DEMOS[task]
    episodes = default_episodes if args.episodes is None else args.episodes
    env_kwargs = OBS_ENV_KWARGS[args.obs] | args.env_kwargs
    earlier = [folder / task for folder in args.reuse]
    # the first earlier run that collected this task's demos (runs of one task each can be reused together)
    source = next((f for f in earlier if (f / DEMOS_FILE).is_file()), None)
    if source is not None:
        demos, demo_seeds = source / DEMOS_FILE, range(DEMO_SEED, DEMO_SEED + episodes)
        summary = {"reused": str(demos), "kept": _demo_count(demos)}
    else:
        demos, summary, demo_seeds = collect(
            task, episodes, out / DEMOS_FILE, action_noise=noise, env_kwargs=env_kwargs
        )
    common = {
        "episodes": args.eval_episodes,
        "seed": 0,
        "demo_seeds": demo_seeds,
        "force": True,
        "env_kwargs": env_kwargs,
    }
    expert = _earlier_evaluation(
        source / "eval" / "expert" if source is not None else None, "expert", args, env_kwargs
    )
    expert = expert or evaluate(expert_actor(), TASK_ENVS[task], out_dir=out / "eval" / "expert", **common)
    results = {"expert": expert}
    checkpoints, costs = {}, {}
    overrides = {cell.name: [*cell.overrides, *args.overrides] for cell in cells}
    # rows no earlier run has begun are trained first, so that an earlier run still training finishes
    # its rows meanwhile; whether a row's run is finished is checked right before the row
    begun = {cell.name: any((f / "train" / cell.folder).is_dir() for f in earlier) for cell in cells}
    for cell in sorted(cells, key=lambda c: begun[c.name]):
        found = _finished_in(earlier, cell, demos, args.steps, overrides[cell.name])
        run_dir = out / "train" / cell.folder
        trained = train_preset(cell.preset, demos, run_dir, args.steps, overrides[cell.name], reuse=found)
        checkpoints[cell.name] = trained["checkpoints"]["best"]
        policy = FlowPolicy.from_checkpoint(checkpoints[cell.name])
        costs[cell.name] = {"preset": cell.preset, "overrides": list(cell.overrides)}
        costs[cell.name] |= parameter_counts(policy.model)
        costs[cell.name] |= training_cost(trained, Path(trained["run_dir"])) | {"reused": trained["reused"]}
        done = None if found is None else found.parents[1] / "eval" / cell.folder
        results[cell.name] = (done and _earlier_evaluation(done, cell.name, args, env_kwargs)) or evaluate(
            policy_actor(checkpoints[cell.name], name=cell.name),
            TASK_ENVS[task],
            out_dir=out / "eval" / cell.folder,
            num_envs=args.num_envs,
            **common,
        )
    order = ["expert", *(cell.name for cell in cells)]
    results, costs = {n: results[n] for n in order}, {n: costs[n] for n in order[1:]}
    step_ms = train_step_timing(cells, demos, args, args.step_repeats) if args.step_repeats > 0 else {}
    for cell in cells:
        timing = step_ms.get(cell.name) or step_ms.get(cell.kind if " seed " in cell.name else "")
        if timing is not None and costs[cell.name]["best_step"] is not None:
            p50, best = timing["warm_ms"]["p50"], costs[cell.name]["best_step"]
            costs[cell.name] |= {"step_ms": p50, "time_to_best_at_step_ms_s": best * p50 / 1e3}
    return {
        "results": results,
        "costs": costs,
        "seeds": seed_summaries(results, cells),
        "train_step_ms": step_ms,
        "checkpoints": checkpoints,
        "collect": summary,
        "demos": str(demos),
        "env_kwargs": env_kwargs,
    }


def train_step_timing(
    cells: list[Cell], demos: Path, args: argparse.Namespace, repeats: int
) -> dict[str, dict[str, Any]]:
    """One training step of each cell's model, interleaved (``harness.time_interleaved``), in ms.

    The wall times of training runs come from runs at different moments of a shared machine; this times every
    architecture side by side instead: the model built from the cell's config, one fixed batch of its
    training windows at the config's batch size, loss + backward + gradient clipping + AdamW step (EMA,
    validation and logging left out).  Extra seeds share their kind's architecture and are not timed again.
    """
    from torch.utils.data import DataLoader

    from robo_flows.benchmarks.harness import time_interleaved
    from robo_flows.training.experiment import policy_trainer

    calls = {}
    for cell in (c for c in cells if " seed " not in c.name):
        cfg = preset(cell.preset, demos, args.steps, [*cell.overrides, *args.overrides])
        trainer = policy_trainer(cfg, args.out / "step_timing")  # builds data and model, writes nothing
        model = trainer.model.train()
        batch = next(iter(DataLoader(trainer.train_set, batch_size=cfg.train.batch_size)))
        calls[cell.name] = _one_step(model, batch, cfg.train)
    timings = time_interleaved(calls, repeats=repeats, calls=1, warmup=2)
    return {name: t.to_json() for name, t in timings.items()}


def _one_step(model: torch.nn.Module, batch: Any, train: Any) -> Callable[[], None]:
    """A call doing one optimizer step of ``model`` on ``batch`` (``train``: the config's lr, decay, clip)."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=train.lr, weight_decay=train.weight_decay)

    def step() -> None:
        loss = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, train.grad_clip)
        optimizer.step()

    return step


def _earlier_evaluation(
    folder: Path | None, name: str, args: argparse.Namespace, env_kwargs: dict[str, Any]
) -> dict[str, Any] | None:
    """An earlier run's evaluation in ``folder`` (of the expert, or of a training run this run reuses) when
    it is the one this run would make: the same actor name, episodes, seed, env kwargs and number of envs;
    evaluation is seeded, so it would come out the same.  None otherwise."""
    from robo_flows.evaluation.evaluate import RESULTS_FILE

    path = None if folder is None else folder / RESULTS_FILE
    if path is None or not path.is_file():
        return None
    r = json.loads(path.read_text())
    same = (r["actor"], r["episodes"], r["seed"], r["env_kwargs"], r["num_envs"]) == (
        name,
        args.eval_episodes,
        0,
        env_kwargs,
        min(args.num_envs, args.eval_episodes) if name != "expert" else 1,
    )
    return r | {"reused_from": str(path)} if same else None


def _finished_in(
    folders: list[Path], cell: Cell, demos: Path, steps: int | None, overrides: list[str]
) -> Path | None:
    """The first of ``folders`` holding a finished training run of ``cell``'s config (None if none does)."""
    cfg = preset(cell.preset, demos, steps, overrides)
    for folder in folders:
        if finished_run(folder / "train" / cell.folder, cfg) is not None:
            return folder / "train" / cell.folder
    return None


def seed_summaries(results: dict[str, dict], cells: list[Cell]) -> dict[str, dict[str, Any]]:
    """Per kind trained on several seeds: per-seed success, mean, sample standard deviation, and the
    Wilson 95% interval of all seeds' episodes pooled (``k`` successes of ``n`` episodes in all)."""
    out = {}
    for kind in dict.fromkeys(c.kind for c in cells if " seed " in c.name):
        runs = [results[kind]] + [results[c.name] for c in cells if c.name.startswith(f"{kind} seed ")]
        rates = [r["success_rate"] for r in runs]
        k, n = sum(r["successes"] for r in runs), sum(r["episodes"] for r in runs)
        shares = [r["smaller_mode_share"] for r in runs if r["smaller_mode_share"] is not None]
        out[kind] = {
            "seeds": len(runs),
            "success": rates,
            "mean": statistics.fmean(rates),
            "std": statistics.stdev(rates),
            "pooled_ci": list(wilson_interval(k, n)),
            "smaller_mode_share": shares,
        }
    return out


def sweep(task: str, checkpoint: str, temperatures: list[float], args: argparse.Namespace) -> list[dict]:
    """The flow policy at several temperatures, and with best_of = 4 at the default temperature."""
    out = args.out / task / "sweep"
    common = {"episodes": args.eval_episodes, "seed": 0, "force": True}
    rows = []
    for t in temperatures:
        actor = policy_actor(checkpoint, name=f"flow T={t}", temperature=t)
        rows.append(evaluate(actor, TASK_ENVS[task], out_dir=out / f"T{t}", **common))
    actor = policy_actor(checkpoint, name="flow best_of=4", best_of=4)
    rows.append(evaluate(actor, TASK_ENVS[task], out_dir=out / "best_of4", **common))
    return rows


def side_by_side_latency(
    checkpoints: dict[str, str], first_obs: list[np.ndarray], repeats: int
) -> dict[str, Any]:
    """Replanning latency of the policies (name -> checkpoint), interleaved, batch 1 and 50, on the CPU and,
    where present, on CUDA (names ``"<name> (cuda)"``); each with its p50 ratio to mse on the same device."""
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    out: dict[str, Any] = {}
    for device in devices:
        suffix = "" if device == "cpu" else f" ({device})"
        policies = {
            kind + suffix: FlowPolicy.from_checkpoint(path, device=device)
            for kind, path in checkpoints.items()
        }
        measured = replanning_latency(policies, first_obs, repeats=repeats)
        reference = measured.get("mse" + suffix)
        for name, lat in measured.items():
            if reference is not None:
                lat["p50_ratio_to_mse"] = {
                    b: t["warm_ms"]["p50"] / reference[b]["warm_ms"]["p50"] for b, t in lat.items()
                }
            out[name] = lat
    return out


def _pooled(task: dict[str, Any], kind: str) -> tuple[float, list[float], str]:
    """``(rate, interval, what)`` of a kind on a task: pooled over its seeds if it has several, else the one
    cell's."""
    seeds = task.get("seeds", {}).get(kind)
    if seeds:
        return seeds["mean"], seeds["pooled_ci"], f"{seeds['seeds']} seeds"
    r = task["results"][kind]
    return r["success_rate"], r["success_ci"], "1 seed"


def targets(tasks: dict[str, dict], latency: dict[str, Any] | None) -> list[tuple[str, bool, str]]:
    """The issues' targets (#10 head-to-head, #15 Detour): ``(name, met, measured)``.

    "Flow success >= diffusion's within the intervals" is met when the flow's rate is at least the
    diffusion's or the diffusion's rate lies inside the flow's Wilson 95% interval (pooled over seeds where
    both kinds have several).
    """
    checks = []
    if "detour" in tasks:
        r = tasks["detour"]["results"]
        expert, flow = r["expert"]["success_rate"], r.get("flow")
        if flow:
            share = flow["smaller_mode_share"] or 0.0
            checks.append(
                (
                    "Detour flow >= 0.95x expert, smaller mode >= 25%",
                    flow["success_rate"] >= 0.95 * expert and share >= 0.25,
                    f"flow {flow['success_rate']:.2f} vs expert {expert:.2f}, smaller mode {share:.0%}",
                )
            )
        if flow and "mse" in r:
            gap = flow["success_rate"] - r["mse"]["success_rate"]
            checks.append(("Detour mse >= 0.2 below flow", gap >= 0.2, f"gap {gap:.2f}"))
    for name, task in tasks.items():
        r = task["results"]
        if "flow" in r and name in ("push", "pickplace"):
            f, e = r["flow"]["success_rate"], r["expert"]["success_rate"]
            checks.append((f"{name} flow >= 0.9x expert", f >= 0.9 * e, f"flow {f:.2f} vs expert {e:.2f}"))
        if "flow" not in r or "diffusion" not in r:
            continue
        (fr, (_, fhi), fwhat), (dr, _, dwhat) = _pooled(task, "flow"), _pooled(task, "diffusion")
        checks.append(
            (
                f"{name} flow success >= diffusion's (within the intervals)",
                fr >= dr or dr <= fhi,
                f"flow {fr:.2f} (CI up to {fhi:.2f}, {fwhat}) vs diffusion {dr:.2f} ({dwhat})",
            )
        )
        fs, ds = r["flow"]["smaller_mode_share"], r["diffusion"]["smaller_mode_share"]
        if fs is not None and ds is not None:
            measured = f"flow {fs:.0%} vs diffusion {ds:.0%}"
            checks.append((f"{name} flow smaller-mode share >= diffusion's", fs >= ds, measured))
        costs = task.get("costs", {})
        for key, how in (
            ("time_to_best_at_step_ms_s", "at interleaved step times"),
            ("time_to_best_s", "wall"),
        ):
            ft, dt = (costs.get(k, {}).get(key) for k in ("flow", "diffusion"))
            if ft is not None and dt is not None:
                measured = f"flow {ft:.0f} s vs diffusion {dt:.0f} s"
                checks.append((f"{name} flow time to best <= diffusion's ({how})", ft <= dt, measured))
    if latency and "flow" in latency:
        warm = latency["flow"]["b1"]["warm_ms"]
        checks.append(("replanning p50 <= 2 ms (batch 1)", warm["p50"] <= 2.0, f"{warm['p50']:.3f} ms"))
        for ref in ("diffusion (equal params)", "diffusion"):
            if ref in latency:
                theirs = latency[ref]["b1"]["warm_ms"]["p50"]
                checks.append(
                    (
                        f"flow batch-1 p50 <= 1/30 of {ref} (DDIM)",
                        warm["p50"] <= theirs / 30,
                        f"{warm['p50']:.2f} ms vs {theirs:.2f} ms ({theirs / warm['p50']:.0f}x)",
                    )
                )
    return checks


def _check_presets(cells: dict[str, list[Cell]]) -> None:
    """Every cell's preset exists (a ConfigError names the first missing one) before anything runs."""
    for task_cells_ in cells.values():
        for cell in task_cells_:
            resolve_preset(cell.preset)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tasks, kinds = _names(args.tasks), _names(args.kinds)
    unknown = sorted(set(tasks) - set(TASK_ENVS))
    if unknown:
        raise ValueError(f"unknown tasks {unknown}; choose from {sorted(TASK_ENVS)}")
    bad_kinds = sorted(set(kinds + _names(args.seed_kinds) + _names(args.dp_kinds)) - set(MODEL_KINDS))
    if bad_kinds:
        raise ValueError(f"unknown model kinds {bad_kinds}; choose from {list(MODEL_KINDS)}")
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    cells = {task: task_cells(task, kinds, args) for task in tasks}
    _check_presets(cells)
    claim_output(args.out, force=args.force, kind="dir")
    threads = set_threads(args.threads)
    started = time.perf_counter()
    per_task = {task: run_task(task, cells[task], args) for task in tasks}
    report: dict[str, Any] = {"tasks": per_task}
    for task, data in per_task.items():
        print(f"\n== {task} ==")
        print(format_table(list(data["results"].values())))
        print(_cost_table(data["costs"]))
    if "flow" in kinds:
        temps = [float(t) for t in args.temperatures.split(",")]
        report["sweeps"] = {
            task: sweep(task, per_task[task]["checkpoints"]["flow"], temps, args)
            for task in _names(args.sweep_tasks)
            if task in per_task
        }
        for task, rows in report["sweeps"].items():
            print(f"\n== {task} flow: temperature and best-of ==")
            print(format_table(rows))
    latency = None
    if "detour" in per_task and args.obs == "state":
        detour = per_task["detour"]
        first_obs = _first_observations(Path(detour["demos"]))
        timed = {c.name: detour["checkpoints"][c.name] for c in cells["detour"] if " seed " not in c.name}
        timed = {name: path for name, path in timed.items() if "(generic)" not in name}
        latency = side_by_side_latency(timed, first_obs, args.latency_repeats)
        report["latency"] = latency
        print(f"\n== replanning call (chunk sample), interleaved, {threads} thread(s): ms ==")
        print(_latency_table(latency))
    checks = targets(per_task, latency)
    report["targets"] = [{"target": n, "met": ok, "measured": m} for n, ok, m in checks]
    report["wall_s"] = time.perf_counter() - started
    print("\n== targets ==")
    for name, ok, measured in checks:
        print(f"[{'met' if ok else 'MISSED'}] {name}: {measured}")
    settings = vars(args) | {"threads": threads, "demos": {t: DEMOS[t] for t in tasks}}
    payload = result_payload("policy", settings=settings, results=report, label=args.label)
    machine = payload["machine"]
    print(f"\nmachine: {machine['cpu_model']}, {threads} thread(s); wall {report['wall_s']:.0f} s")
    print(f"results: {write_result(args.out / RESULT_FILE, payload)}")
    return 0


def _cost_table(costs: dict[str, dict[str, Any]]) -> str:
    headers = ["policy", "params", "steps", "train s", "steps/s", "best step", "to best s"]
    headers += ["step ms (interleaved)", "to best at that step s"]
    keys = ["params", "steps", "train_s", "steps_per_s", "best_step", "time_to_best_s"]
    keys += ["step_ms", "time_to_best_at_step_ms_s"]
    return text_table(headers, [[name, *(c.get(k) for k in keys)] for name, c in costs.items()])


def _latency_table(latency: dict[str, Any]) -> str:
    headers = ["kind"]
    for b in REPLAN_BATCHES:
        headers += [f"b{b} p50", f"b{b} p95", f"b{b} cold"]
    headers += [f"b{b} p50 / mse" for b in REPLAN_BATCHES]
    rows = []
    for kind, lat in latency.items():
        row: list[Any] = [kind]
        for b in REPLAN_BATCHES:
            t = lat[f"b{b}"]
            row += [t["warm_ms"]["p50"], t["warm_ms"]["p95"], t["cold_ms"]]
        ratios = lat.get("p50_ratio_to_mse", {})
        row += [ratios.get(f"b{b}") for b in REPLAN_BATCHES]
        rows.append(row)
    return text_table(headers, rows)


def _demo_count(demos: Path) -> int:
    from robo_flows.data import read_demo_file

    return len(read_demo_file(demos).episodes)


def _first_observations(demos: Path, count: int = 50) -> list[np.ndarray]:
    """Flat first observations of the demonstrations (inputs for the latency loops)."""
    from robo_flows.data import read_demo_file

    episodes = read_demo_file(demos).episodes[:count]
    return [ep.obs[0] for ep in episodes]
