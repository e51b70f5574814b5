"""The benchmark harness: percentiles, interleaving order, cold calls, machine info, result files, tables."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from robo_flows.benchmarks.harness import (
    Timing,
    format_table,
    machine_info,
    median_ratios,
    percentile,
    read_result,
    result_payload,
    summarize_ms,
    time_interleaved,
    write_result,
)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60),
    st.floats(0.0, 100.0),
)
def test_percentile_equals_numpy_linear(values, q):
    assert percentile(values, q) == pytest.approx(np.percentile(values, q), rel=1e-12, abs=1e-9)


def test_p95_of_a_tail_is_in_the_tail():
    # 90 fast calls and 10 slow ones: the 95th percentile is a slow call, the median a fast one
    summary = summarize_ms([0.001] * 90 + [0.010] * 10)
    assert summary["p50"] == pytest.approx(1.0)
    assert summary["p95"] == pytest.approx(10.0)
    assert summary["mean"] == pytest.approx(1.9)
    assert summary["n"] == 100


def test_percentile_rejects_empty_and_out_of_range():
    with pytest.raises(ValueError, match="at least one"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        percentile([1.0], 101)


def test_interleaved_rounds_rotate_and_cold_call_is_apart():
    log: list[str] = []
    contenders = {name: (lambda name=name: log.append(name)) for name in "abc"}
    timings = time_interleaved(contenders, repeats=3, calls=2, warmup=1)
    cold, warm, rounds = log[:3], log[3:6], log[6:]
    assert cold == ["a", "b", "c"] and warm == ["a", "b", "c"]
    assert rounds == list("aabbcc" + "bbccaa" + "ccaabb")
    assert all(len(t.samples_s) == 3 for t in timings.values())


def test_lead_in_calls_precede_each_timed_turn_untimed():
    log: list[str] = []
    contenders = {name: (lambda n=name: log.append(n)) for name in ("a", "b")}
    timings = time_interleaved(contenders, repeats=2, calls=1, warmup=0, lead_in=2)
    assert log[2:] == list("aaabbb" + "bbbaaa")
    assert all(len(t.samples_s) == 2 for t in timings.values())
    with pytest.raises(ValueError, match="lead_in"):
        time_interleaved(contenders, repeats=1, lead_in=-1)


def test_interleaved_samples_are_per_call_and_cold_is_the_first_call():
    state = {"first": True}

    def slow_first() -> None:
        time.sleep(0.05 if state.pop("first", False) else 0.002)

    timings = time_interleaved({"x": slow_first}, repeats=3, calls=10, warmup=0)
    t = timings["x"]
    assert t.cold_s >= 0.05
    # a sample is one call's mean (2 ms), not the ten calls' sum (20 ms), and excludes the cold call
    assert all(0.002 <= s < 0.01 for s in t.samples_s)


def test_median_ratios_are_of_medians():
    timings = {"ours": Timing(0.0, [1.0, 2.0, 100.0]), "ref": Timing(0.0, [4.0, 4.0, 4.0])}
    assert median_ratios(timings, "ref") == {"ours": 0.5, "ref": 1.0}
    with pytest.raises(KeyError, match="reference"):
        median_ratios(timings, "zuko")


def test_machine_info_names_cpu_threads_and_versions():
    info = machine_info(packages=("numpy", "surely-not-installed-pkg"))
    assert info["cpu_model"] and info["cpu_count"] >= 1
    assert info["torch_threads"] == torch.get_num_threads()
    assert info["versions"]["torch"] == torch.__version__
    assert info["versions"]["numpy"] == np.__version__
    assert info["versions"]["surely-not-installed-pkg"] is None


def test_result_round_trips_and_is_never_overwritten(tmp_path):
    timings = time_interleaved({"a": lambda: None}, repeats=2)
    payload = result_payload("demo", settings={"threads": 1}, results={"a": timings["a"]}, label="short")
    path = write_result(tmp_path / "run" / "demo.json", payload)
    back = read_result(path)
    assert back["benchmark"] == "demo" and back["settings"] == {"threads": 1} and back["label"] == "short"
    assert len(back["results"]["a"]["samples_ms"]) == 2
    assert back["results"]["a"]["warm_ms"]["n"] == 2
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_result(path, result_payload("other", settings={}, results={}))
    assert read_result(path)["benchmark"] == "demo"
    assert [p.name for p in path.parent.iterdir()] == ["demo.json"]  # no temporary file left


def test_result_rejects_nan_and_foreign_files(tmp_path):
    with pytest.raises(ValueError):
        write_result(tmp_path / "nan.json", result_payload("x", settings={}, results=float("nan")))
    assert not (tmp_path / "nan.json").exists()
    (tmp_path / "foreign.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="format"):
        read_result(tmp_path / "foreign.json")


def test_format_table_aligns_and_renders_markdown():
    text = format_table(["kind", "ms"], [["flow", 1.5], ["mse", 12.25]])
    lines = text.splitlines()
    assert lines[0].split() == ["kind", "ms"]
    assert lines[2].endswith(" 1.50") and lines[3].endswith("12.25")  # numbers right-aligned
    assert len({len(line) for line in lines[1:]}) == 1
    md = format_table(["kind", "ms"], [["flow", 1.5]], markdown=True)
    assert md.splitlines() == ["| kind | ms |", "|---|---:|", "| flow | 1.50 |"]
    with pytest.raises(ValueError, match="2 cells"):
        format_table(["a", "b"], [[1]])
