"""``robo-flows bench flows``: robo_flows' flows side by side with zuko and nflows.

Speed (same architecture, contenders interleaved, medians): training step (forward + backward + Adam),
``log_prob`` throughput, batch-1 and batch-``B`` sampling.  Quality: held-out NLL after the same number of
Adam steps on the same batches of 2-D toys and one conditional toy.  Prints tables with ratios, writes JSON.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import torch

from robo_flows.benchmarks.flows_contenders import CONTENDERS, Architecture, build_contender
from robo_flows.benchmarks.flows_nll import DATASETS, held_out_nll
from robo_flows.benchmarks.flows_speed import SPEED_METRICS, measure_speed
from robo_flows.flows import FLOW_KINDS

OURS = "robo_flows"
NLL_MARGIN = 0.05
# (metric, kinds, reference, maximal time ratio ours / reference), from the issue
SPEED_TARGETS: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    ("train_step_ms", ("maf", "nsf_ar"), "zuko", 0.75),
    ("sample_b1_ms", ("maf", "nsf_ar"), "zuko", 0.75),
    ("sample_b1_ms", ("realnvp",), "nflows", 0.5),
)


def _csv(choices: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        items = [t for t in text.split(",") if t]
        unknown = [t for t in items if t not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {','.join(choices)}")
        return items

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robo-flows bench flows", description=__doc__.splitlines()[0])
    p.add_argument("--kinds", type=_csv(FLOW_KINDS), default=list(FLOW_KINDS), help="comma-separated kinds")
    p.add_argument("--contenders", type=_csv(CONTENDERS), default=list(CONTENDERS), help="for the speed part")
    p.add_argument("--nll-contenders", type=_csv(CONTENDERS), default=[OURS, "zuko"])
    p.add_argument("--datasets", type=_csv(DATASETS), default=list(DATASETS))
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--context", type=int, default=32, help="context features (speed part)")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    p.add_argument("--bins", type=int, default=8)
    p.add_argument("--reps", type=int, default=7, help="interleaved repetitions per speed metric")
    p.add_argument("--calls", type=int, default=5, help="timed calls per repetition")
    p.add_argument("--steps", type=int, default=500, help="Adam steps per NLL run")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--held-out", type=int, default=20_000)
    p.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--nll-seeds", type=int, default=2, help="NLL runs per cell (seeds seed, seed+1, ...), averaged"
    )
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-nll", action="store_true")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 reps x 1 call, 3 steps, small held-out")
    p.add_argument("--out", type=Path, default=Path("runs/bench/flows.json"))
    return p


def _machine() -> dict[str, object]:
    versions = {}
    for package in ("torch", "zuko", "nflows"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "versions": versions,
    }


def run_speed(args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    arch = Architecture(args.features, args.context, args.layers, tuple(args.hidden), args.bins)
    results = {}
    for kind in args.kinds:
        contenders = [build_contender(name, kind, arch, args.seed) for name in args.contenders]
        results[kind] = measure_speed(
            contenders, args.features, args.context, args.batch, args.reps, args.calls, args.seed
        )
        print(f"  speed {kind}: done", flush=True)
    return results


def run_nll(args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for dataset in args.datasets:
        for kind in args.kinds:
            seeds = range(args.seed, args.seed + args.nll_seeds)
            row = {
                name: statistics.fmean(
                    held_out_nll(
                        name,
                        kind,
                        dataset,
                        args.steps,
                        args.batch,
                        args.lr,
                        args.held_out,
                        seed,
                        args.layers,
                        tuple(args.hidden),
                        args.bins,
                    )
                    for seed in seeds
                )
                for name in args.nll_contenders
            }
            results.setdefault(dataset, {})[kind] = row
            print(f"  nll {dataset} {kind}: " + ", ".join(f"{k}={v:.3f}" for k, v in row.items()), flush=True)
    return results


def _time_ratio(metric: str, ours: float, theirs: float) -> float:
    """ours / theirs as a time ratio (< 1: ours faster), also for the throughput metric."""
    return theirs / ours if metric == "log_prob_per_s" else ours / theirs


def evaluate_targets(speed: dict, nll: dict) -> list[dict[str, object]]:
    """Each issue target with the measured value and whether it is met (targets whose data is missing are
    left out)."""
    checks: list[dict[str, object]] = []
    for metric, kinds, reference, bound in SPEED_TARGETS:
        for kind in kinds:
            row = speed.get(kind, {}).get(metric, {})
            if OURS in row and reference in row:
                ratio = _time_ratio(metric, row[OURS], row[reference])
                checks.append(
                    {
                        "target": f"{metric} {kind} <= {bound} x {reference}",
                        "value": round(ratio, 3),
                        "met": ratio <= bound,
                    }
                )
    for dataset, kinds in nll.items():
        for kind, row in kinds.items():
            if OURS in row and "zuko" in row:
                gap = row[OURS] - row["zuko"]
                checks.append(
                    {
                        "target": f"nll {dataset} {kind} <= zuko + {NLL_MARGIN}",
                        "value": round(gap, 3),
                        "met": gap <= NLL_MARGIN,
                    }
                )
    return checks


def format_tables(speed: dict, nll: dict, checks: list[dict[str, object]]) -> str:
    lines: list[str] = []
    if speed:
        names = list(next(iter(next(iter(speed.values())).values())))
        others = [n for n in names if n != OURS]
        header = f"{'kind':8} {'metric':15}" + "".join(f"{n:>12}" for n in names)
        header += "".join(f"{'ours/' + n:>14}" for n in others)
        lines += [
            "speed (ms per call; log_prob in samples/s; ratios are time ratios, < 1: ours faster)",
            header,
        ]
        for kind, metrics in speed.items():
            for metric in SPEED_METRICS:
                row = metrics[metric]
                text = f"{kind:8} {metric:15}" + "".join(
                    f"{row[n]:12.2f}" if row[n] < 1e4 else f"{row[n]:12.0f}" for n in names
                )
                if OURS in row:
                    text += "".join(f"{_time_ratio(metric, row[OURS], row[n]):14.2f}" for n in others)
                lines.append(text)
    if nll:
        names = list(next(iter(next(iter(nll.values())).values())))
        lines += [
            "",
            "held-out NLL (nats, lower is better; mean over seeds)",
            f"{'dataset':16} {'kind':8}" + "".join(f"{n:>12}" for n in names) + f"{'ours-zuko':>12}",
        ]
        for dataset, kinds in nll.items():
            for kind, row in kinds.items():
                gap = f"{row[OURS] - row['zuko']:12.3f}" if OURS in row and "zuko" in row else ""
                lines.append(f"{dataset:16} {kind:8}" + "".join(f"{row[n]:12.3f}" for n in names) + gap)
    if checks:
        lines += ["", "targets"] + [
            f"  {'MET ' if c['met'] else 'MISS'} {c['target']}: {c['value']}" for c in checks
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.reps, args.calls, args.steps, args.held_out, args.nll_seeds = 2, 1, 3, 256, 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if OURS not in args.contenders + args.nll_contenders:
        raise SystemExit(f"{OURS} must be among the contenders")
    warnings.filterwarnings("ignore", module="nflows")  # nflows warns about its own spline initialisation
    start = time.perf_counter()
    speed = {} if args.skip_speed else run_speed(args)
    nll = {} if args.skip_nll else run_nll(args)
    checks = evaluate_targets(speed, nll)
    print(format_tables(speed, nll, checks))
    report = {
        "benchmark": "flows",
        "machine": _machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "speed": speed,
        "nll": nll,
        "targets": checks,
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out} ({report['wall_seconds']} s)")
    return 0
