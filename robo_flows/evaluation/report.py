"""One plain-text comparison table of evaluation results (success, CI, modes, latency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _latency(result: dict[str, Any], key: str) -> str:
    lat = result.get(key)
    return f"{lat['p50']:.2f} / {lat['p95']:.2f}" if lat else "-"


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """Rows: one per result dict of ``evaluate``; columns: success, Wilson 95% CI, modes, latencies (ms)."""
    header = [
        "actor",
        "episodes",
        "success",
        "95% CI",
        "modes",
        "select_action p50/p95 ms",
        "chunk p50/p95 ms",
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
                _latency(r, "latency_ms"),
                _latency(r, "chunk_latency_ms"),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
