"""``robo-flows bench ablation``: what the generic flow preset's settings buy on the longer tasks.

Per task (PickPlace and the multi-stage PushTwo): collect expert demonstrations once (``TASKS``: how many,
the collector's DART-style noise), train the generic ``configs/flow.yaml`` as shipped ("base") and the
variants of ``CELLS``, each changing one setting (observation history, chunk length, replanning period,
training length, model kind), and evaluate each on the same seeded episodes (``10**8 + seed + i``).  A cell
whose folder already holds its ``cell.json`` is read back, not re-run, so an interrupted ablation goes on
where it stopped (``--assemble`` writes the result from the cells done, running none); a cell that only
changes sampling (``n_action_steps``) reuses its parent's checkpoint.
Writes ``OUT/ablation.json`` through the harness (machine, threads, settings, per-cell success with its
Wilson interval, executed modes, training steps and wall time); ``robo_flows.benchmarks.render`` turns it
into the table of docs/training.md.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robo_flows.benchmarks.harness import format_table, refuse_existing_result, result_payload, write_result
from robo_flows.config import PolicyExperimentConfig, config_to_dict, load_config
from robo_flows.config.presets import resolve_preset
from robo_flows.training.threads import set_threads

# task -> (env id, demonstrations, collector action noise sigma, the base's epochs).  The epochs are about
# what one training of ~8 minutes reaches on the shared 2-core development machine (1 thread, 4-7 steps/s
# at a load of ~10): ~1200 steps on PickPlace's 500 demos, ~2800 on PushTwo's 250 longer ones (10 epochs,
# ~1100 steps, left PushTwo at 0 / 50).
TASKS: dict[str, tuple[str, int, float, float]] = {
    "pickplace": ("RoboFlows/PandaPickPlace-v0", 500, 0.1, 20.0),
    "pushtwo": ("RoboFlows/PandaPushTwo-v0", 250, 0.1, 25.0),
}
CELL_FILE = "cell.json"
RESULT_FILE = "ablation.json"


@dataclass(frozen=True)
class Cell:
    """One ablation row: the preset and the overrides that change one setting of the base; ``sampling``
    cells (``n_action_steps``) evaluate the checkpoint of ``parent`` with other sampling settings."""

    name: str
    preset: str = "flow"
    overrides: tuple[str, ...] = ()
    parent: str | None = None
    sampling: tuple[tuple[str, Any], ...] = ()


# The base: the generic presets' settings (configs/flow.yaml) spelled out, so that a row keeps its meaning
# when a preset changes, at the task's epochs ("{epochs}"); every other row changes one setting.
BASE = ("data.obs_horizon=2", "data.action_horizon=8", "sampling.n_action_steps=4", "train.epochs={epochs}")
CELLS: tuple[Cell, ...] = (
    Cell("base", overrides=BASE),
    Cell("obs_horizon=1", overrides=(*BASE, "data.obs_horizon=1")),
    Cell(
        "action_horizon=2 n_action_steps=1",
        overrides=(*BASE, "data.action_horizon=2", "sampling.n_action_steps=1"),
    ),
    Cell("n_action_steps=1", parent="base", sampling=(("n_action_steps", 1),)),
    Cell("epochs x 0.4", overrides=(*BASE, "train.epochs={short}")),
    Cell("mse", preset="mse", overrides=BASE),
)


def cell_overrides(cell: Cell, epochs: float) -> list[str]:
    """The cell's overrides at the task's base ``epochs`` (``{epochs}``; ``{short}``: 0.4 of them)."""
    return [o.format(epochs=epochs, short=round(0.4 * epochs, 6)) for o in cell.overrides]


def cell_config(cell: Cell, demos: Path, epochs: float, extra: Sequence[str] = ()) -> PolicyExperimentConfig:
    """The cell's preset on ``demos`` with its overrides at the task's base ``epochs``, then the ``extra``
    ones on that (as on a file: ``train.steps`` there replaces the cell's ``train.epochs``)."""
    items = [f"data.path={demos}", *cell_overrides(cell, epochs)]
    cfg = load_config(resolve_preset(cell.preset), PolicyExperimentConfig, items)
    return load_config(config_to_dict(cfg), PolicyExperimentConfig, list(extra))


def _folder(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def demo_file(task: str, out: Path, episodes: int | None) -> tuple[Path, dict[str, Any]]:
    """The task's demonstrations in ``out/demos.hdf5`` (collected once, seeds 0 ..; then read back) and
    their size: ``{"demos", "steps", "longest", "action_noise"}``."""
    from robo_flows.data.robomimic import read_demo_file

    env_id, default, noise, _ = TASKS[task]
    path = out / "demos.hdf5"
    if not path.is_file():
        from robo_flows_envs.collect import collect_demos  # the simulator is only loaded when collecting

        n = default if episodes is None else episodes
        collect_demos(env_id, n, 0, path, progress=False, action_noise=noise)
    lengths = [len(e.actions) for e in read_demo_file(path).episodes]
    size = {"demos": len(lengths), "steps": sum(lengths), "longest": max(lengths), "action_noise": noise}
    return path, size


def run_cell(
    task: str, cell: Cell, demos: Path, out: Path, episodes: int, seed: int, extra: Sequence[str] = ()
) -> dict[str, Any]:
    """Train (or reuse) and evaluate one cell; its record is written to ``out/<cell>/cell.json``."""
    from robo_flows.evaluation import evaluate, policy_actor
    from robo_flows.training.experiment import train_policy

    folder = out / _folder(cell.name)
    record_path = folder / CELL_FILE
    if record_path.is_file():
        return json.loads(record_path.read_text())
    if cell.parent is None:
        cfg = cell_config(cell, demos, TASKS[task][3], extra)
        summary = train_policy(cfg, folder / "train")
        training = {
            "preset": cell.preset,
            "overrides": [*cell_overrides(cell, TASKS[task][3]), *extra],
            "obs_horizon": cfg.data.obs_horizon,
            "action_horizon": cfg.data.action_horizon,
            "n_action_steps": cfg.sampling.n_action_steps,
            "length": summary["length"],
            "best_step": summary["best"]["step"],
            "wall_s": round(summary["wall_s"], 1),
        }
        checkpoint = summary["checkpoints"]["best"]
    else:
        parent = json.loads((out / _folder(cell.parent) / CELL_FILE).read_text())
        training = {**parent["training"], **dict(cell.sampling), "parent": cell.parent}
        checkpoint = parent["checkpoint"]
    actor = policy_actor(checkpoint, name=cell.name, **dict(cell.sampling))
    result = evaluate(actor, TASKS[task][0], episodes, seed, folder / "eval", force=True)
    record = {
        "cell": cell.name,
        "checkpoint": checkpoint,
        "training": training,
        "success_rate": result["success_rate"],
        "success_ci": result["success_ci"],
        "episodes": result["episodes"],
        "modes": result["modes"],
        "mode_names": result.get("mode_names", []),
    }
    folder.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, indent=2))
    return record


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="robo-flows bench ablation", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="run folder (cells found there are reused)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {list(TASKS)}")
    parser.add_argument("--cells", default=None, help="comma-separated cell names (default: all)")
    parser.add_argument("--demos", type=int, default=None, help="demonstrations per task (default: TASKS)")
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="evaluation episodes reset with 10**8 + seed + i")
    parser.add_argument("--threads", default="1", help="torch threads (a count or 'auto'; default 1)")
    parser.add_argument("--label", default=None, help="what kind of run this was, for the result's caption")
    parser.add_argument(
        "--assemble",
        action="store_true",
        help="run nothing: write the result from the cells already in --out (the others left out)",
    )
    parser.add_argument(
        "--set",
        dest="extra",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override for every cell",
    )
    args = parser.parse_args(argv)
    args.tasks = [t for t in args.tasks.split(",") if t]
    unknown = sorted(set(args.tasks) - set(TASKS))
    names = [c.name for c in CELLS]
    args.cells = names if args.cells is None else args.cells.split(",")
    unknown += sorted(set(args.cells) - set(names))
    if unknown:
        raise ValueError(f"unknown tasks or cells {unknown}; tasks: {list(TASKS)}, cells: {names}")
    missing = [c.name for c in CELLS if c.name in args.cells and c.parent and c.parent not in args.cells]
    if missing:
        raise ValueError(f"cells {missing} evaluate their parent's checkpoint: list the parent too")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    refuse_existing_result(args.out / RESULT_FILE)  # a finished ablation is kept; an interrupted one goes on
    threads = set_threads(args.threads if args.threads == "auto" else int(args.threads))
    tasks = args.tasks
    cells = [c for c in CELLS if c.name in args.cells]
    results: dict[str, Any] = {}
    for task in tasks:
        out = args.out / task
        out.mkdir(parents=True, exist_ok=True)
        demos, attrs = demo_file(task, out, args.demos)
        todo = [c for c in cells if not args.assemble or (out / _folder(c.name) / CELL_FILE).is_file()]
        rows = {
            c.name: run_cell(task, c, demos, out, args.eval_episodes, args.seed, args.extra) for c in todo
        }
        results[task] = {"env": TASKS[task][0], "demos": attrs, "cells": rows}
        print(
            f"{task}:\n{format_table(['cell', 'success'], [[n, r['success_rate']] for n, r in rows.items()])}"
        )
    settings = {
        "tasks": {t: {"env": TASKS[t][0], "noise": TASKS[t][2], "base_epochs": TASKS[t][3]} for t in tasks},
        "eval_episodes": args.eval_episodes,
        "seed": args.seed,
        "seed_rule": f"episode i resets with 10**8 + {args.seed} + i",
        "threads": threads,
        "cells": [c.name for c in cells],
        "overrides": args.extra,
    }
    payload = result_payload("ablation", settings=settings, results=results, label=args.label)
    path = write_result(args.out / RESULT_FILE, payload)
    print(f"wrote {path}")
    return 0
