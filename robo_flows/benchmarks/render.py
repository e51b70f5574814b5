"""README and docs tables rendered from the committed benchmark results (``benchmarks/results/*.json``).

A table lives between two marker comments in a Markdown file::

    <!-- results:policy/success -->
    ...generated, do not edit...
    <!-- /results -->

``policy`` names the result file ``benchmarks/results/policy.json`` (a :func:`harness.write_result`
document), ``success`` one of the tables ``TABLES`` renders from it.  :func:`render_text` replaces every
marked block by what the committed result says, so a figure and its source never disagree; a test checks
that the committed README equals its rendering.  Each table starts with a line naming its source file, the
run's label, the machine and threads it ran on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from robo_flows.benchmarks.harness import format_table, read_result

MARKER = re.compile(
    r"(?P<open><!-- results:(?P<file>[\w.-]+)/(?P<table>[\w-]+) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- /results -->)",
    re.S,
)


def caption(source: str, payload: dict[str, Any]) -> str:
    """One italic line: where the figures come from and what ran them."""
    m = payload["machine"]
    load = m.get("load_avg_1m")
    cpus = f"{m['cpus_usable']} CPUs" + (f" (load {load:.1f})" if load is not None else "")
    threads = payload.get("settings", {}).get("threads", m["torch_threads"])
    parts = [f"`{source}`", payload.get("label") or "full run", f"{m['cpu_model']}, {cpus}"]
    parts += [f"{threads} torch thread(s)", f"torch {m['versions']['torch']}", payload["created_utc"][:10]]
    return "_" + "; ".join(parts) + "._"


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _rate(result: dict[str, Any]) -> str:
    return f"{result['success_rate']:.2f}"


def _with_ci(result: dict[str, Any]) -> str:
    """Success rate, its Wilson 95% interval, and the episodes per declared mode (``left 26 / right 22``)."""
    lo, hi = result["success_ci"]
    text = f"{result['success_rate']:.2f} [{lo:.2f}, {hi:.2f}]"
    names = result.get("mode_names") or []
    if len(names) > 1:
        text += ", " + " / ".join(f"{m} {result['modes'].get(m, 0)}" for m in names)
    return text


def policy_success(payload: dict[str, Any]) -> str:
    """Success per task: expert, every trained kind (flow with its Wilson 95% interval and executed modes)."""
    tasks = payload["results"]["tasks"]
    actors: list[str] = []
    for task in tasks.values():
        actors += [a for a in task["results"] if a not in actors]
    rows = []
    for name, task in tasks.items():
        r = task["results"]
        episodes = r["expert"]["episodes"]
        cells = [_with_ci(r[a]) if a == "flow" else _rate(r[a]) if a in r else "-" for a in actors]
        noise = payload["settings"].get("demos", {}).get(name, [None, 0.0])[1]
        demos = f"{task['collect']['kept']}" + (f" (noise {noise})" if noise else "")
        rows.append([name, demos, str(episodes), *cells])
    return format_table(["task", "demos", "eval episodes", *actors], rows, markdown=True)


def policy_sweep(payload: dict[str, Any]) -> str:
    """The Detour flow policy at several temperatures and with best-of-4."""
    rows = [[r["actor"], str(r["episodes"]), _with_ci(r)] for r in payload["results"]["detour_sweep"]]
    return format_table(["Detour flow", "episodes", "success [95% CI], modes"], rows, markdown=True)


def policy_latency(payload: dict[str, Any]) -> str:
    """The replanning call (one chunk sample) per kind and batch size: warm p50 / p95, cold, ratio to mse."""
    latency = payload["results"]["latency"]
    batches = sorted(
        {b for lat in latency.values() for b in lat if b.startswith("b")}, key=lambda b: int(b[1:])
    )
    headers = ["kind"]
    for b in batches:
        headers += [f"batch {b[1:]} p50 ms", "p95 ms", "cold ms"]
    headers += [f"batch {b[1:]} p50 / mse" for b in batches]
    rows = []
    for kind, lat in latency.items():
        row = [kind]
        for b in batches:
            t = lat[b]
            row += [_ms(t["warm_ms"]["p50"]), _ms(t["warm_ms"]["p95"]), _ms(t["cold_ms"])]
        ratios = lat.get("p50_ratio_to_mse", {})
        row += [f"{ratios[b]:.2f}" if b in ratios else "-" for b in batches]
        rows.append(row)
    return format_table(headers, rows, markdown=True)


def _short(env_id: str | None) -> str:
    return "-" if env_id is None else env_id.split("/")[-1]


def envs_speed(payload: dict[str, Any]) -> str:
    """Steps/s of our tasks and panda-gym's at equal physics (20 x 2 ms both) and at each suite's defaults."""
    rows = []
    for r in payload["results"]["speed"]:
        theirs = r.get("panda_gym_steps_per_s")
        ratio = r.get("ratio")
        rows.append(
            [
                r["setting"],
                f"{_short(r['env'])} vs {_short(r.get('panda_gym'))}",
                f"{r['steps_per_s']:.0f}",
                "-" if theirs is None else f"{theirs:.0f}",
                "-" if ratio is None else f"{ratio:.2f}x",
            ]
        )
    return format_table(["physics", "task", "steps/s", "panda-gym steps/s", "ratio"], rows, markdown=True)


def envs_fidelity(payload: dict[str, Any]) -> str:
    """Expert success at 4 x 10 ms and 20 x 2 ms, and the 4 x 10 ms expert's actions replayed at 20 x 2 ms."""
    rows = []
    for r in payload["results"]["fidelity"]:
        obj = r.get("replay_object_final_dev_m_median")
        rows.append(
            [
                _short(r["env"]),
                str(r["episodes"]),
                f"{r['expert_success_4x10ms']:.2f}",
                f"{r['expert_success_20x2ms']:.2f}",
                f"{r['replayed_actions_success_20x2ms']:.2f}",
                f"{1e3 * r['replay_ee_max_dev_m_median']:.1f}",
                "-" if obj is None else f"{1e3 * obj:.1f}",
            ]
        )
    headers = ["task", "episodes", "expert 4x10ms", "expert 20x2ms", "replayed at 20x2ms"]
    headers += ["EE max deviation, median (mm)", "object final deviation, median (mm)"]
    return format_table(headers, rows, markdown=True)


def envs_vector(payload: dict[str, Any]) -> str:
    """Total steps/s of a gymnasium AsyncVectorEnv with 1 and 2 worker processes."""
    rows = [
        [_short(env), f"{v['workers_1']:.0f}", f"{v['workers_2']:.0f}", f"{v['scaling']:.2f}x"]
        for env, v in payload["results"]["async_vector"].items()
    ]
    return format_table(["env", "1 worker steps/s", "2 workers steps/s", "scaling"], rows, markdown=True)


def grasps_nll(payload: dict[str, Any]) -> str:
    """PoseFlow fitted to uniform rotations: held-out NLL w.r.t. the normalized Haar measure (0 is exact)."""
    rows = [
        [
            f"charts={u['charts']}, symmetric={u['symmetric']}",
            f"{u['nll_before']:.4f}",
            f"{u['nll']:.4f}",
            f"{u['nll_stderr']:.4f}",
        ]
        for u in payload["results"]["uniform_nll"]
    ]
    return format_table(["PoseFlow", "NLL before", "NLL after", "± stderr"], rows, markdown=True)


def grasps_sampling(payload: dict[str, Any]) -> str:
    """GraspFlow.sample against the bare Euclidean flow of the same size (samples/s, median call)."""
    s = payload["results"]["sampling"]
    rows = [
        ["GraspFlow.sample", f"{s['grasp_samples_per_s']:.0f}"],
        ["bare Euclidean flow", f"{s['euclidean_samples_per_s']:.0f}"],
        ["ratio (GraspFlow / bare)", f"{s['ratio']:.2f}"],
    ]
    return format_table([f"sampler ({s['n']} per call)", "samples/s"], rows, markdown=True)


def lerobot_read(payload: dict[str, Any]) -> str:
    """Camera frames per second into training windows, one shuffled epoch from cold caches, per store."""
    r = payload["results"]
    rows = [
        [
            name,
            f"{r['frames_per_s'][name]:.0f}",
            f"{r['frames_per_cpu_s'][name]:.0f}",
            f"{r['time_ratio_to_hdf5'][name]:.2f}",
        ]
        for name in r["frames_per_s"]
    ]
    headers = ["store", "frames/s (wall)", "frames per CPU-second", "epoch time / HDF5's"]
    return format_table(headers, rows, markdown=True)


def lerobot_size(payload: dict[str, Any]) -> str:
    """Bytes on disk of the same demos per store, and the raw frames' bytes over each."""
    sizes = payload["results"]["sizes_bytes"]
    raw = sizes["raw_frames"]
    rows = [[name, f"{size / 2**20:.1f}", f"{raw / size:.1f}"] for name, size in sizes.items()]
    return format_table(["store", "MB", "raw frames / store"], rows, markdown=True)


TABLES: dict[tuple[str, str], Callable[[dict[str, Any]], str]] = {
    ("policy", "success"): policy_success,
    ("policy", "sweep"): policy_sweep,
    ("policy", "latency"): policy_latency,
    ("envs", "speed"): envs_speed,
    ("envs", "fidelity"): envs_fidelity,
    ("envs", "vector"): envs_vector,
    ("grasps", "nll"): grasps_nll,
    ("grasps", "sampling"): grasps_sampling,
    ("lerobot", "read"): lerobot_read,
    ("lerobot", "size"): lerobot_size,
}


def render_block(results_dir: Path, file: str, table: str) -> str:
    """The text of one marked block: caption, blank line, Markdown table, newline."""
    path = results_dir / f"{file}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no committed result {path} for the table results:{file}/{table}")
    payload = read_result(path)
    key = (payload["benchmark"], table)
    if key not in TABLES:
        known = sorted(f"{b}/{t}" for b, t in TABLES)
        raise KeyError(f"no table {table!r} for benchmark {payload['benchmark']!r} (known: {known})")
    return f"{caption(f'benchmarks/results/{file}.json', payload)}\n\n{TABLES[key](payload)}\n"


def render_text(text: str, results_dir: Path) -> str:
    """``text`` with every marked block replaced by its rendering from ``results_dir``."""

    def replace(match: re.Match[str]) -> str:
        body = render_block(results_dir, match["file"], match["table"])
        return match["open"] + body + match["close"]

    return MARKER.sub(replace, text)


def marked_tables(text: str) -> list[str]:
    """The ``file/table`` names of the marked blocks in ``text``, in order."""
    return [f"{m['file']}/{m['table']}" for m in MARKER.finditer(text)]


def render_files(paths: Sequence[Path], results_dir: Path, *, check: bool = False) -> list[Path]:
    """Render the marked blocks of ``paths`` in place (``check``: write nothing); returns the stale files."""
    stale = []
    for path in paths:
        text = path.read_text()
        rendered = render_text(text, results_dir)
        if rendered != text:
            stale.append(path)
            if not check:
                path.write_text(rendered)
    return stale
