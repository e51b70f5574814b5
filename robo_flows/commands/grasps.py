"""``robo-flows grasps ACTION``: grasp datasets, grasp-pose flows, their evaluation and sampling.

Actions (argparse subparsers): ``generate`` (sim-verified grasp file), ``oracle`` (how the simulated trial
scores analytic, perturbed and random grasps), ``train`` (a ``GraspFlow`` on a grasp file), ``eval`` (a
trained flow on held-out objects in simulation), ``sample`` (grasps for one object, with pictures).

This module is where the learning side (``robo_flows.grasps``) and the simulator
(``robo_flows_envs.grasp_sim``, imported inside each run) meet: it draws the objects and reference grasps
in the simulator, the grasps from the model, runs the trials, and hands the outcomes back to the metrics.
Errors are raised for ``robo_flows.commands.main`` to report; outputs are claimed
(``claim_output``) only after every input was validated.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from robo_flows.commands.options import positive_int
from robo_flows.commands.output import claim_output
from robo_flows.commands.train import add_training_arguments, run_training_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="grasps_action", metavar="ACTION", required=True)

    def action(name: str, help_text: str, add: Callable, run_action: Callable) -> None:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        add(sub)
        sub.set_defaults(grasps_run=run_action)

    action(
        "generate",
        "simulate analytic grasps on seeded primitive objects and write a grasp file",
        _generate_arguments,
        _generate,
    )
    action(
        "oracle",
        "score analytic, perturbed and random grasps in the simulated trial (per object kind)",
        _oracle_arguments,
        _oracle,
    )
    action("train", "train a grasp-pose flow (YAML config + key=value overrides)", _train_arguments, _train)
    action("eval", "evaluate a grasp flow on held-out primitives in simulation", _eval_arguments, _eval)
    action("sample", "sample grasps for an object; write them and pictures", _sample_arguments, _sample)


def run(args: argparse.Namespace) -> int:
    return int(args.grasps_run(args) or 0)


# --- generate ------------------------------------------------------------------------------------------
def _generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="grasp file (HDF5) to write")
    parser.add_argument("--seed", type=int, required=True, help="seeds objects, grasps and trials")
    parser.add_argument(
        "--objects", type=positive_int, default=50, help="number of primitive objects (default 50)"
    )
    parser.add_argument(
        "--grasps-per-object", type=positive_int, default=100, help="analytic grasps per object (100)"
    )
    parser.add_argument("--workers", type=positive_int, default=2, help="simulator processes (default 2)")
    parser.add_argument("--held-out", action="store_true", help="draw sizes from the held-out bands")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")


def _generate(args: argparse.Namespace) -> int:
    from robo_flows_envs.grasp_sim.generation import generate_grasp_dataset
    from tqdm import tqdm

    claim_output(args.out, force=args.force, kind="file")
    with tqdm(total=args.objects, unit="object", desc="simulating grasps") as bar:
        summary = generate_grasp_dataset(
            args.out,
            seed=args.seed,
            objects=args.objects,
            grasps_per_object=args.grasps_per_object,
            workers=args.workers,
            progress=bar.update,
            held_out=args.held_out,
        )
    print(json.dumps(summary, indent=2))
    return 0


# --- oracle --------------------------------------------------------------------------------------------
def _oracle_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="seeds objects, grasps and trials (default 7)")
    parser.add_argument("--objects", type=positive_int, default=30, help="primitive objects (default 30)")
    parser.add_argument(
        "--grasps-per-object", type=positive_int, default=10, help="grasps per object and row (10)"
    )
    parser.add_argument("--workers", type=positive_int, default=2, help="simulator processes (default 2)")
    parser.add_argument("--held-out", action="store_true", help="held-out object sizes")
    parser.add_argument("--json", type=Path, help="also write the table to this JSON file")
    parser.add_argument("--force", action="store_true", help="replace an existing --json file")


def _oracle(args: argparse.Namespace) -> int:
    from robo_flows_envs.grasp_sim.objects import KINDS
    from robo_flows_envs.grasp_sim.oracle import oracle_table

    from robo_flows.atomic import atomic_write

    if args.json is not None:
        claim_output(args.json, force=args.force, kind="file")
    table = oracle_table(args.seed, args.objects, args.grasps_per_object, args.workers, args.held_out)
    sizes = "held-out" if args.held_out else "training"
    print(
        f"seed {args.seed}, {args.objects} objects ({sizes} sizes) x {args.grasps_per_object} grasps per row"
    )
    print(f"| grasps | n | all | {' | '.join(KINDS)} |")
    print("|---|---|---|" + "---|" * len(KINDS))
    for name, e in table.items():
        cells = " | ".join(f"{e[k]:.3f}" if k in e else "-" for k in KINDS)
        print(f"| {name} | {e['n']} | {e['all']:.3f} | {cells} |")
    if args.json is not None:
        with atomic_write(args.json) as tmp:
            tmp.write_text(
                json.dumps({"seed": args.seed, "held_out": args.held_out, "table": table}, indent=2)
            )
    return 0


# --- train ---------------------------------------------------------------------------------------------
def _train_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, "grasp_flow or configs/grasp_flow.yaml")


def _train(args: argparse.Namespace) -> int:
    from robo_flows.config import GraspExperimentConfig
    from robo_flows.grasps.training import grasp_trainer

    return run_training_command(
        args, config_cls=GraspExperimentConfig, checkpoint_kind="grasp", build_trainer=grasp_trainer
    )


# --- eval ----------------------------------------------------------------------------------------------
EVAL_HEADLINE = ("success_rate", "oracle_success_rate", "top_k_success_rate", "coverage_2cm",
                 "coverage_2cm_15deg", "coverage_2cm_15deg_reference", "emd", "emd_floor", "nll",
                 "samples_per_s")  # fmt: skip


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="grasp checkpoint (best.pt / last.pt)")
    parser.add_argument(
        "--seed", type=int, required=True, help="seeds the held-out objects, draws and trials"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json")
    parser.add_argument("--objects", type=positive_int, default=10, help="held-out primitives (default 10)")
    parser.add_argument(
        "--samples", type=positive_int, default=100, help="sampled grasps simulated per object (100)"
    )
    parser.add_argument(
        "--candidates", type=positive_int, default=500, help="samples ranked by log_prob per object (500)"
    )
    parser.add_argument(
        "--top-k", type=positive_int, default=20, help="best-ranked candidates simulated per object (20)"
    )
    parser.add_argument(
        "--reference", type=positive_int, default=100, help="analytic grasps per reference set (100)"
    )
    parser.add_argument(
        "--coverage-samples", type=positive_int, default=2000, help="model draws for coverage (2000)"
    )
    parser.add_argument("--workers", type=positive_int, default=2, help="simulator processes (default 2)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT folder")


def evaluate_on_primitives(
    model,
    seed: int,
    objects: int,
    samples: int,
    candidates: int,
    top_k: int,
    reference: int,
    coverage_samples: int,
    workers: int,
    progress: Callable[[int], object] | None = None,
) -> dict:
    """``grasps eval`` on ``objects`` held-out primitives (``robo_flows.grasps.evaluation`` has the measures).

    Per object, from the numpy generator seeded by ``seed``: reference sets A and B and fresh analytic grasps
    for the coverage ceiling; from torch's generator (seeded by ``seed``): the model's grasps. The trials of
    A, B, the samples and the top-k run on ``workers`` processes.
    """
    import numpy as np
    import torch
    from robo_flows_envs.grasp_sim.analytic import analytic_grasps
    from robo_flows_envs.grasp_sim.evaluator import GraspJob, evaluate_grasps
    from robo_flows_envs.grasp_sim.objects import describe, sample_primitives

    from robo_flows.grasps.evaluation import (
        draw_model_grasps,
        measure_sampling_speed,
        object_metrics,
        summarize,
    )

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    prims = sample_primitives(rng, objects, held_out=True)
    plans, jobs = [], []
    simulated = ("A", "B", "samples", "top_k")
    for p in prims:
        d = torch.from_numpy(describe(p))
        ref = {"A": analytic_grasps(p, rng, reference), "B": analytic_grasps(p, rng, reference)}
        drawn = draw_model_grasps(model, d, samples, candidates, top_k, coverage_samples)
        ref["coverage_reference"] = analytic_grasps(p, rng, coverage_samples)
        plans.append((p, d, ref, drawn))
        sets = {**ref, **drawn}
        jobs += [GraspJob(p, *sets[k], seed) for k in simulated]
    outcomes = evaluate_grasps(jobs, workers=workers, progress=progress)
    rows, successes = [], []
    for i, (p, d, ref, drawn) in enumerate(plans):
        success = dict(zip(simulated, outcomes[4 * i : 4 * i + 4], strict=True))
        rows.append({"object": p.spec, "kind": p.kind, **object_metrics(model, d, ref, drawn, success)})
        successes.append(success)
    speed = measure_sampling_speed(model, torch.from_numpy(describe(prims[0])))
    return summarize(rows, successes, speed, seed, coverage_samples)


def _eval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from robo_flows.atomic import atomic_write
    from robo_flows.grasps.evaluation import check_eval_sizes
    from robo_flows.grasps.model import GraspFlow

    check_eval_sizes(args.samples, args.candidates, args.top_k, args.reference, args.coverage_samples)
    model, _ = GraspFlow.from_checkpoint(args.checkpoint)
    claim_output(args.out, force=args.force, kind="dir")
    with tqdm(total=4 * args.objects, unit="set", desc="simulating grasps") as bar:
        results = evaluate_on_primitives(
            model,
            args.seed,
            objects=args.objects,
            samples=args.samples,
            candidates=args.candidates,
            top_k=args.top_k,
            reference=args.reference,
            coverage_samples=args.coverage_samples,
            workers=args.workers,
            progress=bar.update,
        )
    results["checkpoint"] = str(args.checkpoint)
    results_path = args.out / "results.json"
    with atomic_write(results_path) as tmp:
        tmp.write_text(json.dumps(results, indent=2))
    print(f"{'metric':28s} {'value':>10s}  target")
    for name in EVAL_HEADLINE:
        print(f"{name:28s} {results[name]:10.4g}")
    for name, t in results["targets"].items():
        print(f"{name:28s} {t['value']:10.4g}  {t['target']:8s} {'met' if t['met'] else 'NOT met'}")
    print(f"wrote {results_path}")
    return 0


# --- sample --------------------------------------------------------------------------------------------
def _sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="grasp checkpoint (best.pt / last.pt)")
    parser.add_argument("--object", required=True, help="primitive spec, e.g. box:0.05,0.04,0.12 (metres)")
    parser.add_argument("--n", type=positive_int, default=500, help="number of grasps (default 500)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the grasps and pictures")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--render", type=int, default=4, help="best grasps shown in the PyBullet render (4)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT folder")


def _sample(args: argparse.Namespace) -> int:
    """Writes OUT/grasps.npz (rotations [n,3,3], translations [n,3] in the object frame, log_prob [n],
    object), OUT/grasps.png (the first 60 grasps over the object, coloured by log-density) and
    OUT/render.png (PyBullet frames of the Panda hand at the ``--render`` best-ranked grasps)."""
    import numpy as np
    import torch
    from robo_flows_envs.grasp_sim.objects import describe, parse_object_spec
    from robo_flows_envs.grasp_sim.render import render_grasps

    from robo_flows.atomic import atomic_write
    from robo_flows.grasps.model import GraspFlow
    from robo_flows.grasps.plots import plot_grasps

    if args.n < 1 or args.render < 0:
        raise ValueError(f"--n must be >= 1 and --render >= 0, got {args.n} and {args.render}")
    prim = parse_object_spec(args.object)
    model, _ = GraspFlow.from_checkpoint(args.checkpoint)
    claim_output(args.out, force=args.force, kind="dir")
    torch.manual_seed(args.seed)
    d = torch.from_numpy(describe(prim))
    R, t = model.sample(d, args.n)
    with torch.no_grad():
        log_prob = model.log_prob(R, t, d.expand(args.n, -1)).numpy()
    R, t = R.numpy(), t.numpy()
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / "grasps.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, rotations=R, translations=t, log_prob=log_prob, object=prim.spec)
    plot_grasps(prim.kind, prim.dims, R, t, args.out / "grasps.png", scores=log_prob)
    written = ["grasps.npz", "grasps.png"]
    if args.render:
        best = np.argsort(-log_prob)[: args.render]
        render_grasps(prim, R[best], t[best], args.out / "render.png")
        written.append("render.png")
    print(json.dumps({"object": prim.spec, "n": args.n, "mean_log_prob": float(log_prob.mean()),
                      "out": str(args.out), "files": written}, indent=2))  # fmt: skip
    return 0
