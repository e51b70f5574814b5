"""One plain-text comparison table of evaluation results (success, CI, modes, replanning latency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _latency(result: dict[str, Any], batch: str) -> str:
    lat = result.get("replan_ms", {}).get(batch)
    return f"{lat['warm_ms']['p50']:.2f} / {lat['warm_ms']['p95']:.2f}" if lat else "-"


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """Rows: one per result dict of ``evaluate``; columns: success, Wilson 95% CI, modes, and the warm
    replanning latency (chunk sample, p50 / p95 ms) at batch 1 and 50.  Above the header, the seed rule of
    the results (``seeds: episode i is reset with seed 100000000 + S + i``)."""
    header = [
        "actor",
        "episodes",
        "success",
        "95% CI",
        "modes",
        "smaller mode",
        "replan b1 p50/p95 ms",
        "replan b50 p50/p95 ms",
    ]
    rows = [header]
    for r in results:
        lo, hi = r["success_ci"]
        modes = ", ".join(f"{m} {c}" for m, c in r["modes"].items()) or "-"
        rows.append(
            [
                r["actor"],
                str(r["episodes"]),
                f"{r['success_rate']:.2f}",
                f"[{lo:.2f}, {hi:.2f}]",
                modes,
                "-" if r.get("smaller_mode_share") is None else f"{r['smaller_mode_share']:.0%}",
                _latency(r, "b1"),
                _latency(r, "b50"),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    rules = sorted({r["seed_rule"] for r in results if "seed_rule" in r})
    if rules:
        lines.insert(0, "seeds: " + "; ".join(rules))
    return "\n".join(lines)


def monitor_comparison(nominal: dict[str, Any], shifted: dict[str, Any]) -> dict[str, float]:
    """How the observation monitor separates shifted starts from nominal ones (both ``evaluate`` results).

    ``flagged``: fraction of shifted first observations whose log-density is below the nominal 5th
    percentile (the threshold that flags 5% of nominal starts).
    """
    nom, shf = nominal["obs_log_prob"], shifted["obs_log_prob"]
    flagged = sum(v < nom["p05"] for v in shf["values"]) / len(shf["values"])
    return {
        "nominal_mean": nom["mean"],
        "shifted_mean": shf["mean"],
        "threshold": nom["p05"],
        "flagged": flagged,
    }


def format_monitor(comparison: dict[str, float]) -> str:
    """One line for :func:`monitor_comparison`."""
    c = comparison
    return (
        f"observation monitor: mean log p(start) nominal {c['nominal_mean']:.1f}, "
        f"shifted {c['shifted_mean']:.1f}; "
        f"{c['flagged']:.0%} of shifted starts fall below the nominal 5th percentile ({c['threshold']:.1f})"
    )
