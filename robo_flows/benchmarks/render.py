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


def _with_ci(result: dict[str, Any]) -> str:
    """Success rate, its Wilson 95% interval, and the episodes per declared mode (``left 26 / right 22``)."""
    lo, hi = result["success_ci"]
    text = f"{result['success_rate']:.2f} [{lo:.2f}, {hi:.2f}]"
    names = result.get("mode_names") or []
    if len(names) > 1:
        text += ", " + " / ".join(f"{m} {result['modes'].get(m, 0)}" for m in names)
    return text


def _modes(result: dict[str, Any]) -> str:
    """Episodes per declared mode (``left 26 / right 22``), ``-`` for a task with one mode."""
    names = result.get("mode_names") or []
    if len(names) < 2:
        return "-"
    return " / ".join(f"{m} {result['modes'].get(m, 0)}" for m in names)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _is_seed_cell(name: str) -> bool:
    return " seed " in name


def policy_success(payload: dict[str, Any]) -> str:
    """Success per task and policy (expert, every kind and its extra rows; extra training seeds are in
    ``seeds``): rate with its Wilson 95% interval, episodes per mode, the smaller mode's share."""
    rows = []
    demos_settings = payload["settings"].get("demos", {})
    for task_name, task in payload["results"]["tasks"].items():
        noise = demos_settings.get(task_name, [None, 0.0])[1]
        demos = f"{task['collect']['kept']}" + (f" (noise {noise})" if noise else "")
        for actor, r in task["results"].items():
            if _is_seed_cell(actor):
                continue
            lo, hi = r["success_ci"]
            rate = f"{r['success_rate']:.2f} [{lo:.2f}, {hi:.2f}]"
            rows.append(
                [
                    task_name,
                    demos,
                    actor,
                    str(r["episodes"]),
                    rate,
                    _modes(r),
                    _share(r.get("smaller_mode_share")),
                ]
            )
    headers = ["task", "demos", "policy", "episodes", "success [95% CI]", "modes", "smaller mode"]
    return format_table(headers, rows, markdown=True)


def policy_seeds(payload: dict[str, Any]) -> str:
    """Kinds trained on several seeds: success per seed, mean ± sample sd, all episodes pooled."""
    rows = []
    for task_name, task in payload["results"]["tasks"].items():
        for kind, s in task.get("seeds", {}).items():
            lo, hi = s["pooled_ci"]
            rows.append(
                [
                    task_name,
                    kind,
                    str(s["seeds"]),
                    ", ".join(f"{x:.2f}" for x in s["success"]),
                    f"{s['mean']:.3f} ± {s['std']:.3f}",
                    f"[{lo:.2f}, {hi:.2f}]",
                    ", ".join(_share(x) for x in s["smaller_mode_share"]) or "-",
                ]
            )
    headers = ["task", "kind", "seeds", "success per seed", "mean ± sd", "pooled 95% CI", "smaller mode"]
    return format_table(headers, rows, markdown=True)


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def policy_cost(payload: dict[str, Any]) -> str:
    """Per trained policy: parameters (encoder + head, head alone), training steps, wall time and rate, the
    step its selection kept and the wall time at that step; and one training step of every architecture
    timed side by side (interleaved, p50), with the time to the best step at that rate (like for like)."""
    rows = []
    for task_name, task in payload["results"]["tasks"].items():
        for name, c in task.get("costs", {}).items():
            rows.append(
                [
                    task_name,
                    name,
                    f"{c['params'] / 1e6:.2f}M ({c['head_params'] / 1e6:.2f}M)",
                    str(c["steps"]),
                    _num(c["train_s"]),
                    _num(c["steps_per_s"], 1),
                    _num(c["best_step"]),
                    _num(c["time_to_best_s"]),
                    _num(c.get("step_ms"), 1),
                    _num(c.get("time_to_best_at_step_ms_s")),
                ]
            )
    headers = ["task", "policy", "params (head)", "steps", "train s", "steps/s", "best step", "to best s"]
    headers += ["step ms, interleaved", "to best at that step, s"]
    return format_table(headers, rows, markdown=True)


def policy_sweeps(payload: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Task -> the flow's temperature / best-of rows (older results: ``detour_sweep``)."""
    results = payload["results"]
    if "sweeps" in results:
        return results["sweeps"]
    return {"detour": results["detour_sweep"]} if "detour_sweep" in results else {}


def policy_sweep(payload: dict[str, Any]) -> str:
    """The flow policy at several temperatures and with best-of-4, per task it was swept on."""
    rows = [
        [task, r["actor"], str(r["episodes"]), _with_ci(r)]
        for task, sweep in policy_sweeps(payload).items()
        for r in sweep
    ]
    return format_table(["task", "flow", "episodes", "success [95% CI], modes"], rows, markdown=True)


def policy_latency(payload: dict[str, Any]) -> str:
    """The replanning call (one chunk sample) per policy and batch size: warm p50 / p95, cold, and the p50
    over the flow's on the same device (the mse's where no flow was timed)."""
    latency = payload["results"]["latency"]
    batches = sorted(
        {b for lat in latency.values() for b in lat if b.startswith("b")}, key=lambda b: int(b[1:])
    )
    reference = "flow" if "flow" in latency else "mse"
    headers = ["policy"]
    for b in batches:
        headers += [f"batch {b[1:]} p50 ms", "p95 ms", "cold ms"]
    headers += [f"batch {b[1:]} p50 / {reference}'s" for b in batches]
    rows = []
    for name, lat in latency.items():
        ref = latency.get(reference + (" (cuda)" if name.endswith(" (cuda)") else ""))
        row = [name]
        for b in batches:
            t = lat[b]
            row += [_ms(t["warm_ms"]["p50"]), _ms(t["warm_ms"]["p95"]), _ms(t["cold_ms"])]
        row += [_ratio(lat[b]["warm_ms"]["p50"] / ref[b]["warm_ms"]["p50"]) if ref else "-" for b in batches]
        rows.append(row)
    return format_table(headers, rows, markdown=True)


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def policy_targets(payload: dict[str, Any]) -> str:
    """The issues' targets as the benchmark judged them."""
    rows = [
        [t["target"], "met" if t["met"] else "missed", t["measured"]] for t in payload["results"]["targets"]
    ]
    return format_table(["target", "verdict", "measured"], rows, markdown=True)


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


def envs_cameras(payload: dict[str, Any]) -> str:
    """Steps/s with camera observations (obs_mode "rgb") against state-only steps of the same task."""
    rows = [
        [_short(r["env"]), r["cameras"], f"{r['steps_per_s']:.0f}", f"{r['vs_state']:.2f}x"]
        for r in payload["results"]["cameras"]["rows"]
    ]
    return format_table(["task", "observation", "steps/s", "vs state"], rows, markdown=True)


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


def grasps_pointcloud(payload: dict[str, Any]) -> str:
    """A point-cloud GraspFlow on held-out meshes, per view: simulated success of its samples (all, top 10 %
    by log-density) beside the antipodal baseline at as many trials, coverage, EMD, NLL, samples/s."""
    views = payload["results"]["views"]
    rows = [
        [view, r["objects"], f"{r['success_rate']:.3f}", f"{r['top_decile_success_rate']:.3f}",
         f"{r['baseline_success_rate']:.3f}", f"{r['coverage_2cm_15deg']:.3f}", f"{r['emd']:.4f}",
         f"{r['nll']:.2f}", f"{r['samples_per_s']:.0f}"]
        for view, r in views.items()
    ]  # fmt: skip
    headers = ["view", "objects", "success (all)", "success (top 10 %)", "antipodal baseline",
               "coverage 2 cm / 15°", "EMD [m]", "NLL [nats]", "samples/s"]  # fmt: skip
    return format_table(headers, rows, markdown=True)


def grasps_pick(payload: dict[str, Any]) -> str:
    """RoboFlows/PandaPickObject-v0: success (Wilson 95 % interval) of the flow's grasps and the antipodal
    baseline's, and how often no proposed grasp was reachable."""
    rows = [
        [name, r["episodes"], f"{r['success_rate']:.3f}",
         "{:.3f}–{:.3f}".format(*r["success_rate_ci95"]), f"{r['no_reachable_grasp_rate']:.3f}"]
        for name, r in payload["results"]["pick"].items()
    ]  # fmt: skip
    return format_table(
        ["picker", "episodes", "success", "95 % CI", "no reachable grasp"], rows, markdown=True
    )


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


def flows_nll(payload: dict[str, Any]) -> str:
    """Held-out NLL per data set and kind: mean ± sample std over seeds per contender, and ours − zuko."""
    nll = payload["results"]["nll"]
    names = list(next(iter(next(iter(nll.values())).values())))
    rows = []
    for dataset, kinds in nll.items():
        for kind, row in kinds.items():
            cells = [f"{row[n]['mean']:.3f} ± {row[n]['spread']:.3f}" if n in row else "-" for n in names]
            both = {"robo_flows", "zuko"} <= set(row)
            gap = f"{row['robo_flows']['mean'] - row['zuko']['mean']:+.3f}" if both else "-"
            rows.append([dataset, kind, *cells, gap])
    return format_table(["data set", "kind", *names, "ours − zuko"], rows, markdown=True)


def flows_nll_maf(payload: dict[str, Any]) -> str:
    """One MAF cell before and after a change, against zuko: per seed, mean ± sample std, gap to zuko."""
    rows = []
    for dataset, kinds in payload["results"].items():
        for kind, variants in kinds.items():
            zuko = variants.get("zuko", {}).get("mean")
            for name, cell in variants.items():
                gap = "-" if zuko is None or name == "zuko" else f"{cell['mean'] - zuko:+.3f}"
                values = ", ".join(f"{v:.3f}" for v in cell["values"])
                rows.append([dataset, kind, name, values, f"{cell['mean']:.3f} ± {cell['spread']:.3f}", gap])
    headers = ["data set", "kind", "contender", "per seed", "mean ± std", "− zuko"]
    return format_table(headers, rows, markdown=True)


def flows_roundtrip(payload: dict[str, Any]) -> str:
    """Float32 round-trip error of perturbed flows per kind, context and perturbation: ours, zuko, our
    storage floor, and the Jacobian condition number at each one's worst sample."""
    table = payload["results"]["max_abs_error"]
    rows = []
    for kind, by_ctx in table.items():
        for ctx, by_scale in by_ctx.items():
            for scale, cell in by_scale.items():
                err, cond = cell["error"], cell["cond"]
                rows.append(
                    [kind, ctx.removeprefix("ctx"), scale, *(f"{err[n]:.1e}" for n in err)]
                    + [f"{cell['floor']['robo_flows']:.1e}", *(f"{cond[n]:.0e}" for n in cond)]
                )
    first_cell = next(iter(next(iter(next(iter(table.values())).values())).values()))
    names = list(first_cell["error"])
    headers = ["kind", "context", "perturbation", *names, "robo_flows floor", *(f"κ {n}" for n in names)]
    return format_table(headers, rows, markdown=True)


def ablation_table(payload: dict[str, Any]) -> str:
    """One row per ablation cell, per task its success [Wilson 95%] with the executed modes, and its training
    steps (epochs made)."""
    tasks = payload["results"]
    cells = payload["settings"]["cells"]
    headers = ["cell"]
    for name, task in tasks.items():
        d = task["demos"]
        headers += [f"{name} ({d['demos']} demos, {d['steps']} steps): success, modes", "steps (epochs)"]
    rows = []
    for cell in cells:
        row = [cell]
        for task in tasks.values():
            r = task["cells"].get(cell)
            if r is None:
                row += ["-", "-"]
                continue
            length = r["training"]["length"]
            row += [_with_ci(r), f"{length['steps']} ({length['epochs']:.1f})"]
        rows.append(row)
    return format_table(headers, rows, markdown=True)


def flows_speed(payload: dict[str, Any]) -> str:
    """Ours against zuko per thread count and kind: median wall time of a training step (forward + backward
    + fused Adam) and of a batch-1 sample with their time ratios, the same ratios in process CPU time
    (where recorded), and the wall-time ratios of batch-``B`` log_prob and sampling (< 1: ours faster);
    the load column is the 1-minute load average as that thread count began."""
    r = payload["results"]
    batch = payload["settings"]["batch"]
    loads = r.get("load_avg_1m", {})
    cpu = r.get("cpu_medians", {})

    def ratio(row: dict[str, float] | None) -> str:
        return "-" if row is None else f"{row['robo_flows'] / row['zuko']:.2f}"

    rows = []
    for key, by_kind in r["medians"].items():
        for kind, m in by_kind.items():
            train, one = m["train_step_ms"], m["sample_b1_ms"]
            rate, big = m["log_prob_per_s"], m["sample_b512_ms"]
            c = cpu.get(key, {}).get(kind, {})
            rows.append(
                [
                    key.removeprefix("threads="),
                    "-" if key not in loads else f"{loads[key]:.1f}",
                    kind,
                    _ms(train["robo_flows"]),
                    _ms(train["zuko"]),
                    ratio(train),
                    ratio(c.get("train_step_ms")),
                    f"{one['robo_flows']:.3f}",
                    f"{one['zuko']:.3f}",
                    ratio(one),
                    ratio(c.get("sample_b1_ms")),
                    f"{rate['zuko'] / rate['robo_flows']:.2f}",
                    ratio(big),
                ]
            )
    headers = ["threads", "load", "kind", "train step ms", "zuko ms", "ours / zuko", "(CPU time)"]
    headers += ["batch-1 sample ms", "zuko ms", "ours / zuko", "(CPU time)"]
    headers += [f"log_prob b{batch} ours / zuko", f"sample b{batch} ours / zuko"]
    return format_table(headers, rows, markdown=True)


TABLES: dict[tuple[str, str], Callable[[dict[str, Any]], str]] = {
    ("policy", "success"): policy_success,
    ("policy", "seeds"): policy_seeds,
    ("policy", "cost"): policy_cost,
    ("policy", "sweep"): policy_sweep,
    ("policy", "latency"): policy_latency,
    ("policy", "targets"): policy_targets,
    ("envs", "speed"): envs_speed,
    ("envs", "fidelity"): envs_fidelity,
    ("envs", "vector"): envs_vector,
    ("envs", "cameras"): envs_cameras,
    ("grasps", "nll"): grasps_nll,
    ("grasps", "sampling"): grasps_sampling,
    ("grasps_pointcloud", "views"): grasps_pointcloud,
    ("grasps_pointcloud", "pick"): grasps_pick,
    ("lerobot", "read"): lerobot_read,
    ("lerobot", "size"): lerobot_size,
    ("ablation", "table"): ablation_table,
    ("flows_nll", "nll"): flows_nll,
    ("flows_roundtrip", "roundtrip"): flows_roundtrip,
    ("flows_nll_maf", "fix"): flows_nll_maf,
    ("flows_speed", "speed"): flows_speed,
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
    rendered = TABLES[key](payload)
    if len(rendered.splitlines()) <= 2:  # a Markdown header and its rule, no row
        raise ValueError(
            f"results:{file}/{table}: benchmarks/results/{file}.json holds no rows for this table "
            "(the run did not measure it); rerun the benchmark with it or remove the block"
        )
    return f"{caption(f'benchmarks/results/{file}.json', payload)}\n\n{rendered}\n"


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
