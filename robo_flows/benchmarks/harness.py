"""The one benchmark harness: interleaved timing, machine info, result JSON, tables.

Every benchmark times its contenders with :func:`time_interleaved` (round-robin repeats, so a slow phase
of a shared machine hits all contenders alike; the first, cold call kept apart from the warm samples),
describes the machine with :func:`machine_info`, and writes one JSON file per run with
:func:`write_result` (machine, versions, threads, settings, raw samples, summaries), which never
overwrites an existing file.  Summaries are medians and 95th percentiles, ratios are of medians.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from robo_flows.atomic import atomic_write

RESULT_FORMAT = 1  # bump when the layout of write_result's JSON changes


def percentile(values: Sequence[float], q: float) -> float:
    r"""The ``q``-th percentile (0 <= q <= 100) with linear interpolation between order statistics.

    With the sorted values v_0 <= ... <= v_{n-1} and h = (n - 1) q / 100:
    P_q = v_floor(h) + (h - floor(h)) (v_ceil(h) - v_floor(h))  (numpy's default "linear" method).
    """
    if len(values) == 0:
        raise ValueError("percentile needs at least one value, got none")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    v = sorted(float(x) for x in values)
    h = (len(v) - 1) * q / 100.0
    lo, hi = math.floor(h), math.ceil(h)
    return v[lo] + (h - lo) * (v[hi] - v[lo])


def summarize_ms(seconds: Sequence[float]) -> dict[str, float]:
    """``{"p50", "p95", "mean", "min", "n"}`` of durations given in seconds; times in milliseconds."""
    if len(seconds) == 0:
        raise ValueError("summarize_ms needs at least one duration, got none")
    ms = [1e3 * float(s) for s in seconds]
    return {
        "p50": percentile(ms, 50.0),
        "p95": percentile(ms, 95.0),
        "mean": sum(ms) / len(ms),
        "min": min(ms),
        "n": len(ms),
    }


@dataclass(frozen=True)
class Timing:
    """One contender's timings: the cold first call and the warm per-call samples (seconds)."""

    cold_s: float
    samples_s: list[float]

    @property
    def median_s(self) -> float:
        return percentile(self.samples_s, 50.0)

    def to_json(self) -> dict[str, Any]:
        """Raw samples and their summary, in milliseconds."""
        return {
            "cold_ms": 1e3 * self.cold_s,
            "warm_ms": summarize_ms(self.samples_s),
            "samples_ms": [round(1e3 * s, 3) for s in self.samples_s],  # 1 us: below the calls' jitter
        }


def time_interleaved(
    contenders: Mapping[str, Callable[[], object]],
    *,
    repeats: int,
    calls: int = 1,
    warmup: int = 1,
    lead_in: int = 0,
) -> dict[str, Timing]:
    """Time each contender round-robin: ``repeats`` samples each, a sample is the mean of ``calls`` calls.

    First every contender's cold call is timed once (its first call ever: lazy initialisation, allocator
    growth); then ``warmup`` untimed calls each; then ``repeats`` rounds in which every contender runs
    ``calls`` calls back to back, the order rotating by one from round to round so that no contender
    always runs first or right after a given other one.  With ``lead_in = k`` each turn starts with ``k``
    untimed calls, so a timed call finds the caches as the contender's own previous call left them, not as
    the contender before it did (a large network evicts a small one's weights).
    """
    if not contenders:
        raise ValueError("time_interleaved needs at least one contender")
    if repeats < 1 or calls < 1 or warmup < 0 or lead_in < 0:
        raise ValueError(
            f"need repeats >= 1, calls >= 1, warmup >= 0, lead_in >= 0; got {repeats}, {calls}, {warmup}, "
            f"{lead_in}"
        )
    names = list(contenders)
    cold: dict[str, float] = {}
    for name in names:
        start = time.perf_counter()
        contenders[name]()
        cold[name] = time.perf_counter() - start
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn = contenders[name]
            for _ in range(lead_in):
                fn()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: Timing(cold[name], samples[name]) for name in names}


def median_ratios(timings: Mapping[str, Timing], reference: str) -> dict[str, float]:
    """Each contender's median time over ``reference``'s median time (< 1: faster than the reference)."""
    if reference not in timings:
        raise KeyError(f"reference {reference!r} is not among the contenders {sorted(timings)}")
    ref = timings[reference].median_s
    return {name: t.median_s / ref for name, t in timings.items()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info(packages: Sequence[str] = ()) -> dict[str, Any]:
    """CPU model, cores, load, torch threads and CPU backends, CUDA device, and versions of the packages.

    ``packages`` are distribution names (e.g. ``"zuko"``, ``"panda-gym"``); an absent one reads ``None``.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl": torch.backends.mkl.is_available(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": _version("numpy"),
            "robo-flows": _version("robo-flows"),
        },
    }
    info["versions"].update({name: _version(name) for name in packages})
    return info


def result_payload(
    benchmark: str,
    *,
    settings: Mapping[str, Any],
    results: Any,
    packages: Sequence[str] = (),
    label: str | None = None,
) -> dict[str, Any]:
    """The JSON document of one benchmark run: what ran, where, with which settings, and what came out.

    ``label`` says what kind of run it was (e.g. ``"short run on a loaded 2-core box"``).
    """
    return {
        "format": RESULT_FORMAT,
        "benchmark": benchmark,
        "label": label,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(packages),
        "settings": dict(settings),
        "results": results,
    }


def refuse_existing_result(path: str | os.PathLike) -> Path:
    """``path`` as a Path; FileExistsError if it exists (benchmark results are never overwritten).

    Benchmarks call it before they run, so a taken ``--out`` costs nothing, and ``write_result`` again.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(
            f"{path} exists; benchmark results are never overwritten (choose another --out)"
        )
    return path


def write_result(path: str | os.PathLike, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` as JSON to ``path`` atomically; an existing file is never overwritten.

    Raises FileExistsError if ``path`` exists (choose a new run folder, or remove the old result).
    """
    path = refuse_existing_result(path)
    text = json.dumps(payload, indent=2, allow_nan=False, default=_json_default) + "\n"
    with atomic_write(path) as tmp:
        tmp.write_text(text)
    return path


def read_result(path: str | os.PathLike) -> dict[str, Any]:
    """A result written by :func:`write_result` (checks its format version)."""
    payload = json.loads(Path(path).read_text())
    if not isinstance(payload, dict) or payload.get("format") != RESULT_FORMAT:
        raise ValueError(f"{path} is not a benchmark result of format {RESULT_FORMAT}")
    return payload


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Timing):
        return value.to_json()
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to a benchmark result")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, markdown: bool = False) -> str:
    """A text table (columns padded, numbers right-aligned) or, with ``markdown``, a GitHub table."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    if any(len(row) != len(headers) for row in cells):
        raise ValueError(f"every row needs {len(headers)} cells (the headers: {list(headers)})")
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(headers))]
    if markdown:
        lines = ["| " + " | ".join(cells[0]) + " |"]
        lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for j, row in enumerate(cells):
        parts = [
            c.rjust(w) if numeric[i] and j else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(parts).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-2 and value != 0 else f"{value:.2f}"
    return str(value)
