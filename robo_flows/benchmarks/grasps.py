"""``robo-flows bench grasps``: PoseFlow's exactness on the uniform distribution and its sampling speed.

1. Uniform-rotation NLL: a PoseFlow (rotation only; plain and jaw-symmetric with 4 charts) is moved off its
   identity start, refitted to Haar-uniform rotations, and its NLL on fresh uniform rotations is reported
   with its standard error (target: within 0.05 nats of 0, the entropy of the uniform distribution).
2. Grasp sampling speed, side by side: ``GraspFlow.sample`` (the Euclidean flow + chart map + chart mixture)
   against the bare Euclidean flow of the same size drawing the same number of points, interleaved by the
   benchmark harness, as samples per second (median call) and their ratio (target: >= 1e4 grasp samples
   per second on CPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from robo_flows.benchmarks.harness import (
    format_table,
    refuse_existing_result,
    result_payload,
    time_interleaved,
    write_result,
)
from robo_flows.config.schema import GraspModelConfig
from robo_flows.flows import build_flow
from robo_flows.geometry import PoseFlow, random_rotations
from robo_flows.grasps.model import GraspFlow
from robo_flows.training.threads import set_threads


def uniform_nll(charts: int, symmetric: bool, steps: int, seed: int = 0) -> dict[str, float]:
    """Fit a perturbed rotation-only PoseFlow to uniform rotations; NLL (mean, stderr) before and after."""
    torch.manual_seed(seed)
    pf = PoseFlow(translation=False, charts=charts, symmetric=symmetric, flow_kind="realnvp", layers=4,
                  hidden_features=(64, 64))  # fmt: skip
    with torch.no_grad():
        for p in pf.parameters():
            p.add_(0.1 * torch.randn_like(p))
    held_out = random_rotations(50000, generator=torch.Generator().manual_seed(seed + 1))

    def nll() -> tuple[float, float]:
        with torch.no_grad():
            values = -pf.log_prob(held_out)
        return values.mean().item(), values.std().item() / len(values) ** 0.5

    before, _ = nll()
    opt = torch.optim.Adam(pf.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        loss = -pf.log_prob(random_rotations(512)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    after, stderr = nll()
    return {"charts": charts, "symmetric": symmetric, "steps": steps, "nll_before": before, "nll": after,
            "nll_stderr": stderr}  # fmt: skip


def sampling_speed(cfg: GraspModelConfig, n: int, repeats: int) -> dict[str, Any]:
    """GraspFlow.sample against the bare Euclidean flow (same kind and size), interleaved by the harness.

    Rates are n / median time per call; the ratio is GraspFlow's rate over the bare flow's.
    """
    torch.manual_seed(0)
    model = GraspFlow(cfg, descriptor_dim=6).eval()
    descriptor = torch.tensor([1.0, 0.0, 0.0, 0.05, 0.04, 0.12])
    bare = build_flow(cfg.flow_kind, features=6, context_features=6 + cfg.charts, layers=cfg.layers,
                      hidden_features=cfg.hidden_features)  # fmt: skip
    context = torch.zeros(n, 6 + cfg.charts)
    with torch.no_grad():
        timings = time_interleaved(
            {
                "grasp_flow": lambda: model.sample(descriptor, n),
                "euclidean_flow": lambda: bare.sample((), context),
            },
            repeats=repeats,
        )
    rates = {name: n / t.median_s for name, t in timings.items()}
    grasp, euclid = rates["grasp_flow"], rates["euclidean_flow"]
    return {"n": n, "grasp_samples_per_s": grasp, "euclidean_samples_per_s": euclid, "ratio": grasp / euclid,
            "timings": timings}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robo-flows bench grasps", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="fit steps for the uniform NLL (400)")
    parser.add_argument("--n", type=int, default=10000, help="grasps per sampling call (10000)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timing repeats (5)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/grasps.json"),
                        help="result JSON (never overwritten)")  # fmt: skip
    args = parser.parse_args(argv)
    refuse_existing_result(args.out)
    threads = set_threads(args.threads)
    cfg = GraspModelConfig()  # the configs/grasp_flow.yaml model
    uniform = [uniform_nll(1, False, args.steps), uniform_nll(4, True, args.steps)]
    speed = sampling_speed(cfg, args.n, args.repeats)
    print(
        f"uniform-rotation fit ({args.steps} steps; NLL of 50 000 held-out uniform rotations, "
        "target |NLL| <= 0.05)"
    )
    print(format_table(
        ["PoseFlow", "NLL before", "NLL after", "± stderr"],
        [[f"charts={u['charts']} symmetric={u['symmetric']}", round(u["nll_before"], 4), round(u["nll"], 4),
          round(u["nll_stderr"], 4)] for u in uniform],
    ))  # fmt: skip
    print(f"\nsampling, {args.n} per call, {threads} thread(s), median of {args.repeats} interleaved calls")
    print(format_table(
        ["sampler", "samples/s"],
        [["GraspFlow.sample", round(speed["grasp_samples_per_s"])],
         ["bare Euclidean flow", round(speed["euclidean_samples_per_s"])],
         ["ratio (GraspFlow / bare)", round(speed["ratio"], 3)]],
    ))  # fmt: skip
    payload = result_payload(
        "grasps",
        settings={"steps": args.steps, "n": args.n, "repeats": args.repeats, "threads": threads,
                  "model": vars(cfg)},
        results={"uniform_nll": uniform, "sampling": speed},
    )  # fmt: skip
    print(f"wrote {write_result(args.out, payload)}")
    return 0


# --- point-cloud grasps on held-out meshes and the pick task -------------------------------------------
POINTCLOUD_KEYS = ("success_rate", "top_decile_success_rate", "baseline_success_rate", "coverage_2cm_15deg",
                   "emd", "nll", "samples_per_s", "objects")  # fmt: skip


def pointcloud_payload(
    evaluation: dict[str, Any], pick: dict[str, Any], provenance: dict[str, Any], label: str
) -> dict[str, Any]:
    """The ``grasps_pointcloud`` result: the per-view headline of a ``grasps eval --objects held-out``
    results.json (``evaluation``), the success of each picker of a ``grasps pick`` results.json (``pick``,
    without its per-episode rows) and ``provenance`` (how the data was made and the model trained)."""
    views = {
        v: {k: evaluation[v][k] for k in POINTCLOUD_KEYS} for v in ("full", "partial") if v in evaluation
    }
    pickers = {name: {k: v for k, v in pick[name].items() if k != "per_episode"}
               for name in ("flow", "antipodal") if name in pick}  # fmt: skip
    for name, r in pickers.items():
        r["episodes"] = len(pick[name]["per_episode"])
    settings = {**provenance, "eval_seed": evaluation["seed"], "pick_seed": pick["seed"],
                "pick_objects": pick["objects"], "pick_candidates": pick["candidates"],
                "threads": 1}  # fmt: skip
    return result_payload(
        "grasps_pointcloud", settings=settings, label=label,
        results={"views": views, "eval_objects": evaluation["objects"], "pick": pickers},
    )  # fmt: skip


def assemble_pointcloud(argv: list[str] | None = None) -> int:
    """``python -m robo_flows.benchmarks.grasps EVAL.json PICK.json PROVENANCE.json OUT.json LABEL``."""
    import json
    import sys

    eval_path, pick_path, provenance_path, out, label = sys.argv[1:] if argv is None else argv
    read = [json.loads(Path(path).read_text()) for path in (eval_path, pick_path, provenance_path)]
    payload = pointcloud_payload(*read, label)
    print(f"wrote {write_result(out, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(assemble_pointcloud())
