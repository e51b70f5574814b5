"""``robo-flows grasps sample --checkpoint FILE --object box:0.05,0.04,0.12 --n 500 --out DIR``.

Writes ``DIR/grasps.npz`` (rotations [n,3,3], translations [n,3] in the object frame, log_prob [n], object),
``DIR/grasps.png`` (matplotlib drawing of the first 60 grasps over the object, coloured by log-density)
and ``DIR/render.png`` (PyBullet frames of the Panda hand at the ``--render`` best-ranked grasps).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OUTPUTS = ("grasps.npz", "grasps.png", "render.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="grasp checkpoint (best.pt / last.pt)")
    parser.add_argument("--object", required=True, help="primitive spec, e.g. box:0.05,0.04,0.12 (metres)")
    parser.add_argument("--n", type=int, default=500, help="number of grasps (default 500)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the grasps and pictures")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--render", type=int, default=4, help="grasps shown in the PyBullet render (4)")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs in OUT")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from robo_flows_envs.grasping.learn_render import render_grasps
    from robo_flows_envs.grasping.objects import describe, parse_object_spec

    from robo_flows.grasps.model import GraspFlow
    from robo_flows.grasps.plots import plot_grasps

    existing = [name for name in OUTPUTS if (args.out / name).exists()]
    if existing and not args.force:
        print(
            f"robo-flows grasps sample: error: {args.out} already holds {existing}; pass --force to overwrite"
        )
        return 2
    try:
        if args.n < 1 or args.render < 0:
            raise ValueError(f"--n must be >= 1 and --render >= 0, got {args.n} and {args.render}")
        prim = parse_object_spec(args.object)
        model, _ = GraspFlow.from_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as exc:
        print(f"robo-flows grasps sample: error: {exc}")
        return 2
    torch.manual_seed(args.seed)
    d = torch.from_numpy(describe(prim))
    R, t = model.sample(d, args.n)
    with torch.no_grad():
        log_prob = model.log_prob(R, t, d.expand(args.n, -1)).numpy()
    R, t = R.numpy(), t.numpy()
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / "grasps.npz", rotations=R, translations=t, log_prob=log_prob, object=prim.spec)
    plot_grasps(prim.kind, prim.dims, R, t, args.out / "grasps.png", scores=log_prob)
    written = ["grasps.npz", "grasps.png"]
    if args.render:
        best = np.argsort(-log_prob)[: args.render]
        render_grasps(prim, R[best], t[best], args.out / "render.png")
        written.append("render.png")
    print(json.dumps({"object": prim.spec, "n": args.n, "mean_log_prob": float(log_prob.mean()),
                      "out": str(args.out), "files": written}, indent=2))  # fmt: skip
    return 0
