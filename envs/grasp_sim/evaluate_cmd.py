"""``robo-flows grasps eval --checkpoint FILE --seed S --out DIR``: a grasp flow on held-out primitives.

Writes ``DIR/results.json`` (see ``learn_eval``) and prints the headline numbers with their targets.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HEADLINE = ("success_rate", "oracle_success_rate", "top_k_success_rate", "coverage_2cm", "coverage_2cm_15deg",
            "coverage_2cm_15deg_reference", "emd", "emd_floor", "nll", "samples_per_s")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="grasp checkpoint (best.pt / last.pt)")
    parser.add_argument(
        "--seed", type=int, required=True, help="seeds the held-out objects, draws and trials"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json")
    parser.add_argument("--objects", type=int, default=10, help="held-out primitives (default 10)")
    parser.add_argument("--samples", type=int, default=100, help="sampled grasps simulated per object (100)")
    parser.add_argument(
        "--candidates", type=int, default=500, help="samples ranked by log_prob per object (500)"
    )
    parser.add_argument(
        "--top-k", type=int, default=20, help="best-ranked candidates simulated per object (20)"
    )
    parser.add_argument("--reference", type=int, default=100, help="analytic grasps per reference set (100)")
    parser.add_argument("--coverage-samples", type=int, default=2000, help="model draws for coverage (2000)")
    parser.add_argument("--workers", type=int, default=2, help="simulator processes (default 2)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing OUT/results.json")


def run(args: argparse.Namespace) -> int:
    from robo_flows_envs.grasping.learn_eval import evaluate_grasp_flow
    from tqdm import tqdm

    from robo_flows.grasps.model import GraspFlow

    results_path = args.out / "results.json"
    if results_path.exists() and not args.force:
        print(f"robo-flows grasps eval: error: {results_path} exists; pass --force to overwrite it")
        return 2
    try:
        model, _ = GraspFlow.from_checkpoint(args.checkpoint)
        with tqdm(total=4 * args.objects, unit="set", desc="simulating grasps") as bar:
            results = evaluate_grasp_flow(
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
    except (FileNotFoundError, ValueError) as exc:
        print(f"robo-flows grasps eval: error: {exc}")
        return 2
    results["checkpoint"] = str(args.checkpoint)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2))
    print(f"{'metric':28s} {'value':>10s}  target")
    for name in HEADLINE:
        print(f"{name:28s} {results[name]:10.4g}")
    for name, t in results["targets"].items():
        print(f"{name:28s} {t['value']:10.4g}  {t['target']:8s} {'met' if t['met'] else 'NOT met'}")
    print(f"wrote {results_path}")
    return 0
