"""Measures of a learned grasp distribution against simulated reference grasps (no simulator here).

``robo-flows grasps eval`` (:mod:`robo_flows.commands.grasps`) draws the objects and reference grasps and
runs the trials in ``robo_flows_envs.grasp_sim``; this module draws the model's grasps
(:func:`draw_model_grasps`) and turns the outcomes into metrics (:func:`object_metrics`, :func:`summarize`).
For each of ``objects`` primitives drawn from the held-out size bands (dimensions never seen in training):

- two independent reference sets A and B of analytic grasps (the generator's noise), simulated; A's
  success rate is the oracle's, and A's successful grasps are the reference distribution;
- ``samples`` grasps drawn from the model, simulated (success rate, EMD to A);
- ``coverage_samples`` grasps drawn from the model (not simulated): the fraction of A's successes they
  reach (coverage), beside the same measure for as many fresh analytic grasps (the reference's own
  coverage, the ceiling at that sample count: 100 draws of an exact sampler cover only ~0.55 at 2 cm/15°);
- ``candidates`` grasps drawn from the model and ranked by log-density; the ``top_k`` best are simulated;
- the model's NLL of A's successful grasps.

EMD is taken between equal-size sets (the smallest of the three sizes); its floor is EMD(B, A).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import Tensor

from robo_flows.evaluation.metrics import wilson_interval
from robo_flows.grasps.metrics import COVERAGE_ANGLE, COVERAGE_DISTANCE, coverage, emd
from robo_flows.grasps.model import GraspFlow

TARGETS = {
    "success_vs_oracle": 0.9,  # success_rate >= 0.9 x oracle_success_rate
    "coverage_2cm_15deg": 0.8,
    "emd_vs_floor": 1.5,  # emd <= 1.5 x emd_floor
    "samples_per_s": 1e4,
}


def _rate(successes: int, trials: int) -> dict[str, float | int]:
    low, high = wilson_interval(successes, trials)
    return {"rate": successes / trials, "ci95": [low, high], "successes": successes, "trials": trials}


def measure_sampling_speed(
    model: GraspFlow, descriptor: torch.Tensor, n: int = 10000, repeats: int = 3
) -> float:
    """Grasp samples per second for one object (best of ``repeats`` timed calls after a warm-up)."""
    model.sample(descriptor, 256)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(descriptor, n)
        best = min(best, time.perf_counter() - start)
    return n / best


Poses = tuple[np.ndarray, np.ndarray]
"""A grasp set: R [n, 3, 3] and t [n, 3], float64, object frame."""


def check_eval_sizes(
    samples: int, candidates: int, top_k: int, reference: int, coverage_samples: int
) -> None:
    """Raise ValueError unless every count is >= 1 and ``top_k <= candidates``."""
    if min(samples, candidates, top_k, reference, coverage_samples) < 1 or top_k > candidates:
        raise ValueError(
            "need samples, candidates, top_k, reference, coverage_samples >= 1 and top_k <= candidates; "
            f"got {samples}, {candidates}, {top_k}, {reference}, {coverage_samples}"
        )


def draw_model_grasps(
    model: GraspFlow, descriptor: Tensor, samples: int, candidates: int, top_k: int, coverage_samples: int
) -> dict[str, Poses]:
    """The model's grasp sets for one object, in this order from torch's generator:

    ``samples`` draws (to simulate), the ``top_k`` best of ``candidates`` draws by log-density (to
    simulate), and ``coverage_samples`` draws (for coverage only).
    """
    R_s, t_s = model.sample(descriptor, samples)
    R_c, t_c = model.sample(descriptor, candidates)
    with torch.no_grad():
        top = model.log_prob(R_c, t_c, descriptor.expand(candidates, -1)).topk(top_k).indices
    R_v, t_v = model.sample(descriptor, coverage_samples)
    sets = {"samples": (R_s, t_s), "top_k": (R_c[top], t_c[top]), "coverage": (R_v, t_v)}
    return {k: (R.double().numpy(), t.double().numpy()) for k, (R, t) in sets.items()}


def object_metrics(
    model: GraspFlow,
    descriptor: Tensor,
    reference: dict[str, Poses],
    drawn: dict[str, Poses],
    success: dict[str, np.ndarray],
) -> dict:
    """Metrics of one object (module docstring).

    reference: ``"A"``, ``"B"`` (simulated analytic sets) and ``"coverage"`` (fresh analytic grasps);
    drawn: :func:`draw_model_grasps`; success: outcomes of ``"A"``, ``"B"``, ``"samples"``, ``"top_k"``.
    """
    as_t = {k: (torch.from_numpy(R), torch.from_numpy(t)) for k, (R, t) in {**reference, **drawn}.items()}
    ok_A, ok_B = success["A"], success["B"]
    R_ref, t_ref = as_t["A"][0][ok_A], as_t["A"][1][ok_A]
    R_s, t_s = as_t["samples"]
    m = min(len(R_ref), int(ok_B.sum()), len(R_s))
    with torch.no_grad():
        d = descriptor.expand(len(R_ref), -1)
        nll = -model.log_prob(R_ref.float(), t_ref.float(), d).mean().item()
    R_B, t_B = as_t["B"][0][ok_B], as_t["B"][1][ok_B]
    cover_model, cover_ref = as_t["coverage"], as_t["coverage_reference"]
    return {
        "success_rate": float(success["samples"].mean()),
        "oracle_success_rate": float(ok_A.mean()),
        "top_k_success_rate": float(success["top_k"].mean()),
        "coverage_2cm": coverage(R_ref, t_ref, *cover_model, COVERAGE_DISTANCE),
        "coverage_2cm_15deg": coverage(R_ref, t_ref, *cover_model, COVERAGE_DISTANCE, COVERAGE_ANGLE),
        "coverage_2cm_15deg_reference": coverage(R_ref, t_ref, *cover_ref, COVERAGE_DISTANCE, COVERAGE_ANGLE),
        "emd": emd(R_s[:m], t_s[:m], R_ref[:m], t_ref[:m]),
        "emd_floor": emd(R_B[:m], t_B[:m], R_ref[:m], t_ref[:m]),
        "emd_set_size": m,
        "nll": nll,
    }


def summarize(
    rows: list[dict],
    success: list[dict[str, np.ndarray]],
    samples_per_s: float,
    seed: int,
    coverage_samples: int,
) -> dict:
    """The JSON-ready result: totals with Wilson intervals, per-object means, ``rows``, targets met or not.

    rows: one :func:`object_metrics` dict per object (with its ``object`` and ``kind``); success: the
    outcomes per object as passed to :func:`object_metrics`.
    """
    counts = {
        k: (sum(int(o[k].sum()) for o in success), sum(len(o[k]) for o in success))
        for k in ("samples", "A", "top_k")
    }  # fmt: skip
    averaged = (
        "coverage_2cm",
        "coverage_2cm_15deg",
        "coverage_2cm_15deg_reference",
        "emd",
        "emd_floor",
        "nll",
    )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in averaged}
    sampled, oracle, top = (_rate(*counts[k]) for k in ("samples", "A", "top_k"))
    speed = samples_per_s
    result = {
        "seed": seed,
        "objects": len(rows),
        "success_rate": sampled["rate"],
        "success_rate_ci95": sampled["ci95"],
        "oracle_success_rate": oracle["rate"],
        "oracle_success_rate_ci95": oracle["ci95"],
        "top_k_success_rate": top["rate"],
        "top_k_success_rate_ci95": top["ci95"],
        **mean,
        "samples_per_s": speed,
        "coverage_samples": coverage_samples,
        "trials": {"samples": counts["samples"][1], "oracle": counts["A"][1], "top_k": counts["top_k"][1]},
        "nll_units": "nats; density w.r.t. normalized Haar (on R ~ R Rz(pi) classes) x Lebesgue on t [m]",
        "per_object": rows,
    }
    result["targets"] = {
        "success_vs_oracle": {
            "value": result["success_rate"] / max(result["oracle_success_rate"], 1e-12),
            "target": f">= {TARGETS['success_vs_oracle']}",
        },
        "coverage_2cm_15deg": {
            "value": mean["coverage_2cm_15deg"],
            "target": f">= {TARGETS['coverage_2cm_15deg']}",
        },
        "emd_vs_floor": {
            "value": mean["emd"] / max(mean["emd_floor"], 1e-12),
            "target": f"<= {TARGETS['emd_vs_floor']}",
        },
        "samples_per_s": {"value": speed, "target": f">= {TARGETS['samples_per_s']:g}"},
    }
    for name, entry in result["targets"].items():
        goal = TARGETS[name]
        entry["met"] = bool(entry["value"] <= goal if name == "emd_vs_floor" else entry["value"] >= goal)
    return result


# --- point-cloud models on mesh objects, per view ------------------------------------------------------
VIEW_KEYS = ("success_rate", "top_decile_success_rate", "baseline_success_rate", "coverage_2cm_15deg", "emd",
             "nll")  # fmt: skip


def top_fraction(log_prob: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """Indices of the ceil(fraction·n) entries with the highest log-density."""
    k = max(1, int(np.ceil(fraction * len(log_prob))))
    return np.argsort(-np.asarray(log_prob))[:k]


def cloud_object_metrics(
    model: GraspFlow,
    points: Tensor,
    reference: Poses,
    reference_success: np.ndarray,
    drawn: Poses,
    drawn_log_prob: np.ndarray,
    drawn_success: np.ndarray,
    coverage_draws: Poses,
) -> dict:
    """One object seen as ``points``: the simulated success of the model's draws (all, and the top 10% by
    log-density), the baseline's (the reference set: antipodal candidates, as many trials), the coverage
    (2 cm, 15°) of the reference's successful grasps by ``coverage_draws``, the EMD between the model's draws
    and those successes (equal sizes), and their NLL under the model."""
    as_t = {k: (torch.from_numpy(R), torch.from_numpy(t)) for k, (R, t) in
            {"ref": reference, "drawn": drawn, "cover": coverage_draws}.items()}  # fmt: skip
    R_ok, t_ok = as_t["ref"][0][reference_success], as_t["ref"][1][reference_success]
    row = {
        "success_rate": float(drawn_success.mean()),
        "top_decile_success_rate": float(drawn_success[top_fraction(drawn_log_prob)].mean()),
        "baseline_success_rate": float(reference_success.mean()),
        "verified_grasps": int(reference_success.sum()),
    }
    if len(R_ok) == 0:  # nothing verified on this object: no reference distribution to compare with
        return {**row, "coverage_2cm_15deg": float("nan"), "emd": float("nan"), "nll": float("nan")}
    m = min(len(R_ok), len(drawn[0]))
    with torch.no_grad():
        nll = -model.log_prob(R_ok.float(), t_ok.float(), points).mean().item()
    return {
        **row,
        "coverage_2cm_15deg": coverage(R_ok, t_ok, *as_t["cover"], COVERAGE_DISTANCE, COVERAGE_ANGLE),
        "emd": emd(as_t["drawn"][0][:m], as_t["drawn"][1][:m], R_ok[:m], t_ok[:m]),
        "nll": nll,
    }


def summarize_view(rows: list[dict], samples_per_s: float) -> dict:
    """Means over objects of :func:`cloud_object_metrics` (objects without verified grasps left out of the
    set measures), with the sampling rate."""
    out = {}
    for key in VIEW_KEYS:
        values = [r[key] for r in rows if not np.isnan(r[key])]
        out[key] = float(np.mean(values)) if values else float("nan")
    return {**out, "samples_per_s": samples_per_s, "objects": len(rows)}
