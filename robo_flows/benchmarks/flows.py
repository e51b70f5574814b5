"""``robo-flows bench flows``: robo_flows' flows side by side with zuko and nflows.

Speed (same architecture, contenders interleaved through the harness, medians; at each of ``--threads``):
training step (forward + backward + Adam), ``log_prob`` throughput, batch-1 and batch-``B`` sampling.
Coupling kinds meet zuko's coupling flows, autoregressive kinds zuko's MAF / NSF.  Quality: held-out NLL
after the same Adam steps on the same batches (2-D toys and conditional sets of 6 to 16 dimensions), mean
and spread over seeds; float32 round-trip error of perturbed flows.  Prints tables, writes one harness
JSON per part into ``--out`` (``flows_speed.json``, ``flows_nll.json``, ``flows_roundtrip.json``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

from robo_flows.benchmarks.flows_contenders import CONTENDERS, Architecture, build_contender
from robo_flows.benchmarks.flows_nll import DATASETS, GRAD_CLIP, held_out_nll
from robo_flows.benchmarks.flows_roundtrip import (
    PERTURBATIONS,
    format_round_trip,
    round_trip_headers,
    round_trip_table,
)
from robo_flows.benchmarks.flows_speed import SPEED_METRICS, cpu_summary, measure_speed, summary
from robo_flows.benchmarks.harness import format_table, result_payload, write_result
from robo_flows.flows import FLOW_KINDS
from robo_flows.training.threads import set_threads

OURS = "robo_flows"
NLL_MARGIN = 0.05
PACKAGES = ("zuko", "nflows")
# (metric, kinds, reference, maximal time ratio ours / reference), from issue 15
SPEED_TARGETS: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    ("train_step_ms", FLOW_KINDS, "zuko", 0.5),
    ("sample_b1_ms", FLOW_KINDS, "zuko", 0.5),
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
        "--threads",
        type=lambda text: [int(t) for t in text.split(",") if t],
        default=None,
        help="comma-separated torch thread counts for the speed part, e.g. 1,2 (default: torch's choice)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nll-seeds", type=int, default=3, help="NLL runs per cell (seeds seed, seed+1, ...)")
    p.add_argument("--nll-batch", type=int, default=256, help="batch of the NLL training runs")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-nll", action="store_true")
    p.add_argument("--skip-roundtrip", action="store_true")
    p.add_argument("--label", default=None, help="what kind of run this is (goes into the JSON)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 reps x 1 call, 3 steps, small held-out")
    p.add_argument("--out", type=Path, default=Path("runs/bench_flows"), help="output folder")
    return p


def run_speed(args: argparse.Namespace, threads: list[int | None]) -> tuple[dict, dict, dict]:
    """Per thread count and kind: raw wall and CPU timings (for the JSON), wall medians (for tables and
    targets) and CPU-time medians, and the 1-minute load average as each thread count began (the machine
    may be shared).  Returns ``(raw, medians, extra)`` with ``extra = {"cpu_medians", "load_avg_1m"}``."""
    arch = Architecture(args.features, args.context, args.layers, tuple(args.hidden), args.bins)
    raw: dict[str, dict] = {}
    medians: dict[str, dict] = {}
    cpu_medians: dict[str, dict] = {}
    loads: dict[str, float] = {}
    for count in threads:
        key = f"threads={set_threads(count)}"
        loads[key] = os.getloadavg()[0]
        for kind in args.kinds:
            contenders = [build_contender(name, kind, arch, args.seed) for name in args.contenders]
            timings, cpu = measure_speed(
                contenders, args.features, args.context, args.batch, args.reps, args.calls, args.seed
            )
            raw.setdefault(key, {})[kind] = {"wall": timings, "cpu_s": cpu}
            medians.setdefault(key, {})[kind] = summary(timings, args.batch)
            cpu_medians.setdefault(key, {})[kind] = cpu_summary(cpu)
            print(f"  speed {key} {kind}: done", flush=True)
    return raw, medians, {"cpu_medians": cpu_medians, "load_avg_1m": loads}


def run_nll(args: argparse.Namespace) -> dict[str, dict[str, dict[str, dict[str, object]]]]:
    """``{dataset: {kind: {contender: {"seeds": [...], "mean", "spread"}}}}``, spread the sample std."""
    results: dict[str, dict[str, dict[str, dict[str, object]]]] = {}
    seeds = list(range(args.seed, args.seed + args.nll_seeds))
    for dataset in args.datasets:
        for kind in args.kinds:
            row = {}
            for name in args.nll_contenders:
                values = [
                    held_out_nll(
                        name,
                        kind,
                        dataset,
                        args.steps,
                        args.nll_batch,
                        args.lr,
                        args.held_out,
                        seed,
                        args.layers,
                        tuple(args.hidden),
                        args.bins,
                    )
                    for seed in seeds
                ]
                spread = statistics.stdev(values) if len(values) > 1 else 0.0
                row[name] = {"seeds": values, "mean": statistics.fmean(values), "spread": spread}
            results.setdefault(dataset, {})[kind] = row
            text = ", ".join(f"{k}={v['mean']:.3f}+-{v['spread']:.3f}" for k, v in row.items())
            print(f"  nll {dataset} {kind}: {text}", flush=True)
    return results


def _time_ratio(metric: str, ours: float, theirs: float) -> float:
    """ours / theirs as a time ratio (< 1: ours faster), also for the throughput metric."""
    return theirs / ours if metric == "log_prob_per_s" else ours / theirs


def evaluate_targets(speed: dict, nll: dict) -> list[dict[str, object]]:
    """Each issue target with the measured value and whether it is met (targets whose data is missing are
    left out).  ``speed``: ``{threads: {kind: {metric: {contender: median}}}}``; ``nll``:
    ``{dataset: {kind: {contender: {"mean": ...}}}}``."""
    checks: list[dict[str, object]] = []
    for key, by_kind in speed.items():
        for metric, kinds, reference, bound in SPEED_TARGETS:
            for kind in kinds:
                row = by_kind.get(kind, {}).get(metric, {})
                if OURS in row and reference in row:
                    ratio = _time_ratio(metric, row[OURS], row[reference])
                    checks.append(
                        {
                            "target": f"{metric} {kind} <= {bound} x {reference} ({key})",
                            "value": round(ratio, 3),
                            "met": ratio <= bound,
                        }
                    )
    for dataset, kinds in nll.items():
        for kind, row in kinds.items():
            if OURS in row and "zuko" in row:
                gap = row[OURS]["mean"] - row["zuko"]["mean"]
                checks.append(
                    {
                        "target": f"nll {dataset} {kind} <= zuko + {NLL_MARGIN}",
                        "value": round(gap, 3),
                        "met": gap <= NLL_MARGIN,
                    }
                )
    return checks


def format_tables(speed: dict, nll: dict, checks: list[dict[str, object]]) -> str:
    """Text tables of the medians (speed), NLL means with their spread, and the targets."""
    lines: list[str] = []
    for key, by_kind in speed.items():
        names = list(next(iter(next(iter(by_kind.values())).values())))
        others = [n for n in names if n != OURS]
        rows = []
        for kind, metrics in by_kind.items():
            for metric in SPEED_METRICS:
                row = metrics[metric]
                ratios = [_time_ratio(metric, row[OURS], row[n]) if OURS in row else None for n in others]
                rows.append([kind, metric, *(row[n] for n in names), *ratios])
        lines += [
            f"speed, {key} (ms per call; log_prob in samples/s; ratios are time ratios, < 1: ours faster)",
            format_table(["kind", "metric", *names, *(f"ours/{n}" for n in others)], rows),
            "",
        ]
    if nll:
        names = list(next(iter(next(iter(nll.values())).values())))
        rows = []
        for dataset, kinds in nll.items():
            for kind, row in kinds.items():
                gap = row[OURS]["mean"] - row["zuko"]["mean"] if OURS in row and "zuko" in row else None
                cells = [f"{row[n]['mean']:.3f} +- {row[n]['spread']:.3f}" for n in names]
                rows.append([dataset, kind, *cells, gap])
        lines += [
            "held-out NLL (nats, lower is better; mean +- sample std over seeds)",
            format_table(["dataset", "kind", *names, "ours-zuko"], rows),
        ]
    if checks:
        lines += ["", "targets"] + [
            f"  {'MET ' if c['met'] else 'MISS'} {c['target']}: {c['value']}" for c in checks
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.reps, args.calls, args.steps, args.held_out, args.nll_seeds = 2, 1, 3, 256, 1
    if OURS not in args.contenders + args.nll_contenders:
        raise SystemExit(f"{OURS} must be among the contenders")
    parts = [p for p, skip in (("speed", args.skip_speed), ("nll", args.skip_nll)) if not skip]
    parts += [] if args.skip_roundtrip else ["roundtrip"]
    outputs = {part: args.out / f"flows_{part}.json" for part in parts}
    existing = [str(p) for p in outputs.values() if p.exists()]
    if existing:  # refuse before spending the run
        raise FileExistsError(f"{', '.join(existing)} exist(s); results are never overwritten")
    warnings.filterwarnings("ignore", module="nflows")  # nflows warns about its own spline initialisation
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    settings["grad_clip"] = GRAD_CLIP
    start = time.perf_counter()
    speed_raw, speed, extra = ({}, {}, {}) if args.skip_speed else run_speed(args, args.threads or [None])
    set_threads(1 if args.threads else None)  # the NLL and round-trip parts run at 1 thread when asked
    nll = {} if args.skip_nll else run_nll(args)
    roundtrip = {} if args.skip_roundtrip else round_trip_table(args.kinds, seeds=(0, 1, 2))
    checks = evaluate_targets(speed, nll)
    print(format_tables(speed, nll, checks))
    if roundtrip:
        print("\nfloat32 round trip, max |x - inverse(transform(x))| over 3 seeds (x ~ 2 N(0, 1))")
        print(format_table(round_trip_headers([OURS, "zuko"]), format_round_trip(roundtrip)))
    wall = round(time.perf_counter() - start, 1)
    results = {
        "speed": {
            "medians": speed,
            "timings": speed_raw,
            "targets": [c for c in checks if "nll" not in c["target"]],
            **extra,
        },
        "nll": {"nll": nll, "targets": [c for c in checks if "nll" in c["target"]]},
        "roundtrip": {"max_abs_error": roundtrip, "perturbations": list(PERTURBATIONS)},
    }
    for part, path in outputs.items():
        payload = result_payload(
            f"flows_{part}",
            settings={**settings, "wall_seconds": wall},
            results=results[part],
            packages=PACKAGES,
            label=args.label,
        )
        print(f"wrote {write_result(path, payload)}")
    return 0
