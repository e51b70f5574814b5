"""``robo-flows grasps ACTION``: grasp datasets, grasp-pose flows, their evaluation and sampling.

Actions (argparse subparsers): ``generate`` (sim-verified grasp file), ``oracle`` (how the simulated trial
scores analytic, perturbed and random grasps), ``train`` (a ``GraspFlow`` on a grasp file), ``eval`` (a
trained flow on held-out objects in simulation), ``sample`` (grasps for one object, with pictures), ``pick``
(the flow's grasps executed by the Panda arm in ``RoboFlows/PandaPickObject-v0``, beside the antipodal
baseline).

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

from robo_flows.commands.options import positive_float, positive_int
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
    action("pick", "pick objects with the Panda arm using a point-cloud grasp flow (and the antipodal "
           "baseline) in RoboFlows/PandaPickObject-v0", _pick_arguments, _pick)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    return int(args.grasps_run(args) or 0)


# --- generate ------------------------------------------------------------------------------------------
def object_set(text: str) -> int | str:
    """``--objects``: a number of primitives, or a mesh set ("meshes" = the training split, "train", "val",
    "held-out")."""
    if text in ("meshes", "train", "val", "held-out"):
        return "train" if text == "meshes" else text
    return positive_int(text)


def _generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="grasp file (HDF5) to write")
    parser.add_argument("--seed", type=int, required=True, help="seeds objects, grasps and trials")
    parser.add_argument("--objects", type=object_set, default=50, metavar="N|meshes|train|val|held-out",
                        help="N primitive objects (default 50), or a mesh split with antipodal grasps and "
                        "point clouds ('meshes' = train)")  # fmt: skip
    parser.add_argument("--max-objects", type=positive_int, help="meshes: only the first N of the split")
    parser.add_argument("--grasps-per-object", type=positive_int, default=100, help="grasps per object (100)")
    parser.add_argument("--views", type=positive_int, default=4, help="meshes: partial clouds per object (4)")
    parser.add_argument("--points", type=positive_int, default=1024, help="meshes: points per cloud (1024)")
    parser.add_argument("--point-noise", type=float, default=0.0, help="meshes: point noise σ in metres (0)")
    parser.add_argument("--workers", type=positive_int, default=2, help="simulator processes (default 2)")
    parser.add_argument("--held-out", action="store_true", help="primitives: sizes from the held-out bands")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")


def _generate(args: argparse.Namespace) -> int:
    from robo_flows_envs.grasp_sim.generation import (
        generate_grasp_dataset,
        generate_mesh_dataset,
        mesh_objects,
    )
    from robo_flows_envs.grasp_sim.meshes import mesh_split

    from robo_flows.training.progress import Progress

    if isinstance(args.objects, int):
        claim_output(args.out, force=args.force, kind="file")
        with Progress(args.objects, "simulating grasps") as bar:
            summary = generate_grasp_dataset(
                args.out,
                seed=args.seed,
                objects=args.objects,
                grasps_per_object=args.grasps_per_object,
                workers=args.workers,
                progress=bar.update,
                held_out=args.held_out,
            )
    else:
        if args.point_noise < 0:
            raise ValueError(f"--point-noise must be >= 0 metres, got {args.point_noise}")
        objects, broken = mesh_objects(mesh_split(args.objects)[: args.max_objects])  # loads every mesh
        if not objects:
            raise ValueError(f"every mesh of the {args.objects} split is broken: {broken}")
        claim_output(args.out, force=args.force, kind="file")
        with Progress(len(objects), "labelling meshes") as bar:
            summary = generate_mesh_dataset(
                args.out,
                objects,
                seed=args.seed,
                grasps_per_object=args.grasps_per_object,
                views=args.views,
                points=args.points,
                point_noise=args.point_noise,
                workers=args.workers,
                progress=bar.update,
                split=args.objects,
            )
        summary["broken"] = broken
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
    parser.add_argument("--objects", type=object_set, default=10, metavar="N|held-out|val|train",
                        help="N held-out primitives (descriptor models, default 10) or a mesh split "
                        "(point-cloud models)")  # fmt: skip
    parser.add_argument("--max-objects", type=positive_int, help="meshes: only the first N of the split")
    parser.add_argument("--views", type=view_list, default=("full", "partial"),
                        help="meshes: clouds to condition on, comma separated (full,partial)")  # fmt: skip
    parser.add_argument("--points", type=positive_int, default=1024, help="meshes: points per cloud (1024)")
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


def view_list(text: str) -> tuple[str, ...]:
    """``--views full,partial``."""
    views = tuple(v.strip() for v in text.split(",") if v.strip())
    if not views or any(v not in ("full", "partial") for v in views):
        raise argparse.ArgumentTypeError(f"views are 'full' and/or 'partial', comma separated; got {text!r}")
    return views


def evaluate_on_meshes(
    model,
    names: list[str],
    seed: int,
    views: tuple[str, ...],
    points: int,
    samples: int,
    coverage_samples: int,
    workers: int,
    progress: Callable[[int], object] | None = None,
) -> dict:
    """``grasps eval --objects held-out``: a point-cloud model on mesh objects, per view.

    Per object (numpy generator seeded by ``seed``): its full cloud, one partial cloud from a random camera,
    and ``samples`` antipodal candidates (the baseline, and its successes the verified grasp set).  Per view
    (torch seeded by ``seed``): ``samples`` model draws (simulated, ranked by log-density) and
    ``coverage_samples`` draws for coverage.  ``results[view]`` holds the means of
    ``robo_flows.grasps.evaluation.cloud_object_metrics``.
    """
    import numpy as np
    import torch
    from robo_flows_envs.grasp_sim.antipodal import antipodal_grasps
    from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator, GraspJob, evaluate_grasps
    from robo_flows_envs.grasp_sim.generation import mesh_objects
    from robo_flows_envs.grasp_sim.point_clouds import full_cloud, partial_cloud

    from robo_flows.grasps.evaluation import cloud_object_metrics, measure_sampling_speed, summarize_view

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    candidates, skipped = mesh_objects(names)
    objects, clouds, reference = [], [], []
    with GraspEvaluator() as ev:
        for obj in candidates:
            try:
                ref = antipodal_grasps(ev, obj, rng, samples)
            except RuntimeError:
                skipped.append(obj.name)
                continue
            objects.append(obj)
            reference.append(ref)
            clouds.append(
                {"full": full_cloud(obj, rng, points), "partial": partial_cloud(ev, obj, rng, points)}
            )
    if not objects:
        raise ValueError(f"no antipodal grasp candidates on any of {names}")
    drawn: dict[str, list] = {v: [] for v in views}
    for v in views:
        for cloud in clouds:
            cond = torch.from_numpy(cloud[v])
            R, t = model.sample(cond, samples)
            with torch.no_grad():
                log_prob = model.log_prob(R, t, cond).numpy()
            cover = model.sample(cond, coverage_samples)
            drawn[v].append(((R.double().numpy(), t.double().numpy()), log_prob,
                             tuple(x.double().numpy() for x in cover)))  # fmt: skip
    jobs = [GraspJob(o, *ref, seed) for o, ref in zip(objects, reference, strict=True)]
    jobs += [GraspJob(o, *d[0], seed) for v in views for o, d in zip(objects, drawn[v], strict=True)]
    outcomes = evaluate_grasps(jobs, workers=workers, progress=progress)
    ref_ok, rest = outcomes[: len(objects)], outcomes[len(objects) :]
    results: dict = {"seed": seed, "objects": [o.spec for o in objects], "skipped": skipped}
    for j, v in enumerate(views):
        ok = rest[j * len(objects) : (j + 1) * len(objects)]
        rows = []
        for o, c, ref, r_ok, d, s_ok in zip(objects, clouds, reference, ref_ok, drawn[v], ok, strict=True):
            metrics = cloud_object_metrics(model, torch.from_numpy(c[v]), ref, r_ok, d[0], d[1], s_ok, d[2])
            rows.append({"object": o.spec, **metrics})
        speed = measure_sampling_speed(model, torch.from_numpy(clouds[0][v]), n=1000)
        results[v] = {**summarize_view(rows, speed), "per_object": rows}
    return results


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
    from robo_flows.atomic import atomic_write
    from robo_flows.grasps.evaluation import check_eval_sizes
    from robo_flows.grasps.model import GraspFlow
    from robo_flows.training.progress import Progress

    check_eval_sizes(args.samples, args.candidates, args.top_k, args.reference, args.coverage_samples)
    model, _ = GraspFlow.from_checkpoint(args.checkpoint)
    on_meshes = isinstance(args.objects, str)
    if on_meshes != model.uses_points:
        raise ValueError(
            f"{args.checkpoint} is a {model.cfg.encoder} model: evaluate it with "
            + ("--objects held-out (mesh objects)" if model.uses_points else "--objects N (primitives)")
        )
    if on_meshes:
        from robo_flows_envs.grasp_sim.meshes import mesh_split

        names = mesh_split(args.objects)[: args.max_objects]
    claim_output(args.out, force=args.force, kind="dir")
    if on_meshes:
        with Progress(len(names) * (1 + len(args.views)), "simulating grasps") as bar:
            results = evaluate_on_meshes(model, names, args.seed, args.views, args.points, args.samples,
                                         args.coverage_samples, args.workers, bar.update)  # fmt: skip
    else:
        with Progress(4 * args.objects, "simulating grasps") as bar:
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
    if on_meshes:
        keys = ("success_rate", "top_decile_success_rate", "baseline_success_rate", "coverage_2cm_15deg",
                "emd", "nll", "samples_per_s")  # fmt: skip
        print(f"{'metric':26s} " + " ".join(f"{v:>10s}" for v in args.views))
        for key in keys:
            print(f"{key:26s} " + " ".join(f"{results[v][key]:10.4g}" for v in args.views))
    else:
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
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--object", help="primitive spec, e.g. box:0.05,0.04,0.12 (metres)")
    which.add_argument(
        "--mesh", help="mesh file (.obj, .stl, .urdf) or pybullet_data name (point-cloud models)"
    )
    parser.add_argument("--scale", type=positive_float, default=1.0,
                        help="--mesh: metres per file unit (default 1: the file is in metres)")  # fmt: skip
    parser.add_argument("--partial", action="store_true",
                        help="condition on one depth camera's view, not the full cloud")  # fmt: skip
    parser.add_argument("--points", type=positive_int, default=1024, help="points per cloud (1024)")
    parser.add_argument("--n", type=positive_int, default=500, help="number of grasps drawn (default 500)")
    parser.add_argument("--top", type=positive_int, help="keep the K best by log-density (default: all n)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the grasps and pictures")
    parser.add_argument("--seed", type=int, default=0, help="sampling and camera seed (default 0)")
    parser.add_argument("--render", type=int, default=4, help="best grasps shown in the PyBullet render (4)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT folder")


def _sample(args: argparse.Namespace) -> int:
    """Writes, sorted by log-density (best first; the ``--top`` best when given): OUT/grasps.npz
    (rotations [k,3,3], translations [k,3] in the object frame and units of the object as given — a mesh
    file's units times ``--scale`` —, TCP convention of ``grasp_sim.gripper``; log_prob [k]; object; the
    points conditioned on), OUT/grasps.json (the same as lists), OUT/grasps.png (the first 60 grasps over
    the object, coloured by log-density) and OUT/render.png (PyBullet frames of the Panda hand at the
    ``--render`` best grasps)."""
    import numpy as np
    import torch
    from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator
    from robo_flows_envs.grasp_sim.meshes import load_trimesh, resolve_mesh
    from robo_flows_envs.grasp_sim.objects import describe, parse_object_spec
    from robo_flows_envs.grasp_sim.point_clouds import full_cloud, partial_cloud
    from robo_flows_envs.grasp_sim.render import render_grasps

    from robo_flows.atomic import atomic_write
    from robo_flows.grasps.model import GraspFlow
    from robo_flows.grasps.plots import plot_grasps

    if args.render < 0:
        raise ValueError(f"--render must be >= 0, got {args.render}")
    obj = parse_object_spec(args.object) if args.object else resolve_mesh(args.mesh, args.scale)
    model, _ = GraspFlow.from_checkpoint(args.checkpoint)
    rng = np.random.default_rng(args.seed)
    if model.uses_points:
        if args.partial:
            with GraspEvaluator() as ev:
                points = partial_cloud(ev, obj, rng, args.points)
        else:
            points = full_cloud(obj, rng, args.points)  # loads and checks a mesh file
        condition = torch.from_numpy(points)
    elif args.mesh:
        raise ValueError(f"{args.checkpoint} is conditioned on primitive descriptors; --mesh needs a "
                         "point-cloud model (model.encoder=pointnet)")  # fmt: skip
    else:
        points, condition = None, torch.from_numpy(describe(obj))
    claim_output(args.out, force=args.force, kind="dir")
    torch.manual_seed(args.seed)
    R, t = model.sample(condition, args.n)
    with torch.no_grad():
        log_prob = model.log_prob(R, t, condition).numpy()
    best = np.argsort(-log_prob)[: args.top]
    R, t, log_prob = R.numpy()[best], t.numpy()[best], log_prob[best]
    spec = obj.spec
    args.out.mkdir(parents=True, exist_ok=True)
    arrays = {"rotations": R, "translations": t, "log_prob": log_prob, "object": spec}
    if points is not None:
        arrays["points"] = points
    with atomic_write(args.out / "grasps.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    listed = [{"rotation": Ri.tolist(), "translation": ti.tolist(), "log_prob": float(lp)}
              for Ri, ti, lp in zip(R, t, log_prob, strict=True)]  # fmt: skip
    with atomic_write(args.out / "grasps.json") as tmp:
        tmp.write_text(json.dumps({"object": spec, "frame": "object (mesh file frame, units x scale)",
                                   "tcp": "columns x = y × z, y closing, z approach; origin between pads",
                                   "grasps": listed}, indent=1))  # fmt: skip
    if args.object and not model.uses_points:
        plot_grasps(obj.kind, obj.dims, R, t, args.out / "grasps.png", scores=log_prob)
    else:
        extents = obj.dims if args.object else tuple(load_trimesh(obj).extents)
        plot_grasps("points", extents, R, t, args.out / "grasps.png", scores=log_prob, points=points,
                    title=f"{spec}: {min(len(R), 60)} best grasps")  # fmt: skip
    written = ["grasps.npz", "grasps.json", "grasps.png"]
    if args.render:
        render_grasps(obj, R[: args.render], t[: args.render], args.out / "render.png")
        written.append("render.png")
    print(json.dumps({"object": spec, "n": args.n, "kept": len(R), "best_log_prob": float(log_prob[0]),
                      "out": str(args.out), "files": written}, indent=2))  # fmt: skip
    return 0


# --- pick ----------------------------------------------------------------------------------------------
PICK_ENV = "RoboFlows/PandaPickObject-v0"
PICKERS = ("flow", "antipodal")


def _pick_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="point-cloud grasp checkpoint")
    parser.add_argument("--episodes", type=positive_int, default=100, help="episodes per picker (100)")
    parser.add_argument("--objects", choices=("held-out", "val", "train"), default="held-out",
                        help="object split the episodes draw from (default held-out)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed + i (default 0)")
    parser.add_argument("--candidates", type=positive_int, default=64,
                        help="grasps proposed per episode, tried best first (64)")  # fmt: skip
    parser.add_argument("--pickers", type=picker_list, default=PICKERS,
                        help="comma separated: flow, antipodal (default both)")  # fmt: skip
    parser.add_argument(
        "--video", action="store_true", help="write OUT/pick.mp4 of the first 4 flow episodes"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json (and pick.mp4)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT folder")


def picker_list(text: str) -> tuple[str, ...]:
    """``--pickers flow,antipodal``."""
    names = tuple(v.strip() for v in text.split(",") if v.strip())
    if not names or any(v not in PICKERS for v in names):
        raise argparse.ArgumentTypeError(
            f"pickers are {' and/or '.join(PICKERS)}, comma separated; got {text!r}"
        )
    return names


def flow_grasp_sampler(model, n: int, seed: int) -> Callable:
    """``sample(points [N, 3]) -> (R, t, log_prob)``: ``n`` grasps from a point-cloud ``GraspFlow`` in the
    frame of the points, scored by log-density; torch's generator is seeded by ``seed`` and the call count,
    so episodes are reproducible."""
    import torch

    calls = [0]

    def sample(points):
        torch.manual_seed(seed + calls[0])
        calls[0] += 1
        cond = torch.from_numpy(points)
        R, t = model.sample(cond, n)
        with torch.no_grad():
            log_prob = model.log_prob(R, t, cond)
        return R.double().numpy(), t.double().numpy(), log_prob.double().numpy()

    return sample


def _pick(args: argparse.Namespace) -> int:
    """Writes OUT/results.json: per picker the success rate (Wilson 95 % interval), how often no proposed
    grasp was reachable, and every episode (seed, object, success, candidates checked, steps)."""
    import gymnasium as gym
    import robo_flows_envs  # noqa: F401  (registers the ids)
    from robo_flows_envs.grasp_sim.picker import GraspPicker, antipodal_proposer, cloud_proposer, pick_episode

    from robo_flows.atomic import atomic_write
    from robo_flows.evaluation.metrics import wilson_interval
    from robo_flows.evaluation.video import write_video
    from robo_flows.grasps.model import GraspFlow
    from robo_flows.training.progress import Progress

    model, _ = GraspFlow.from_checkpoint(args.checkpoint)
    if not model.uses_points:
        raise ValueError(
            f"{args.checkpoint} is a {model.cfg.encoder} model; picking needs a point-cloud model"
        )
    claim_output(args.out, force=args.force, kind="dir")
    args.out.mkdir(parents=True, exist_ok=True)
    env = gym.make(PICK_ENV, objects=args.objects, render_mode="rgb_array" if args.video else None)
    results: dict = {"env": PICK_ENV, "objects": args.objects, "seed": args.seed, "episodes": args.episodes,
                     "candidates": args.candidates, "checkpoint": str(args.checkpoint)}  # fmt: skip
    frames: list = []
    try:
        for name in args.pickers:
            if name == "flow":
                propose = cloud_proposer(flow_grasp_sampler(model, args.candidates, args.seed))
            else:
                propose = antipodal_proposer(args.candidates)
            picker = GraspPicker(propose, args.candidates)
            rows = []
            with Progress(args.episodes, f"picking ({name})") as bar:
                for i in range(args.episodes):
                    record = frames if args.video and name == "flow" and i < 4 else None
                    rows.append(pick_episode(env, picker, args.seed + i, record))
                    bar.update(1)
            picker.close()
            wins = sum(r["success"] for r in rows)
            results[name] = {
                "success_rate": wins / len(rows),
                "success_rate_ci95": list(wilson_interval(wins, len(rows))),
                "no_reachable_grasp_rate": sum(not r["grasp_found"] for r in rows) / len(rows),
                "per_episode": rows,
            }
    finally:
        env.close()
    with atomic_write(args.out / "results.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2))
    if frames:
        write_video(frames, args.out / "pick.mp4", fps=25)
    for name in args.pickers:
        r = results[name]
        low, high = r["success_rate_ci95"]
        print(f"{name:10s} success {r['success_rate']:.3f} ({low:.3f}-{high:.3f}) over {args.episodes} "
              f"episodes; no reachable grasp {r['no_reachable_grasp_rate']:.3f}")  # fmt: skip
    print(f"wrote {args.out / 'results.json'}")
    return 0
