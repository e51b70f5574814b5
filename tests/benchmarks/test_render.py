"""README and docs tables are what the committed results render; rendering restores a tampered figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robo_flows.benchmarks.harness import result_payload, write_result
from robo_flows.benchmarks.render import marked_tables, policy_success, render_files, render_text

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_and_docs_tables_equal_their_committed_results():
    assert marked_tables((ROOT / "README.md").read_text()), "README has no rendered tables"
    stale = render_files(DOCS, RESULTS, check=True)
    assert stale == [], f"stale tables in {stale}: run python scripts/render_results.py"


def test_check_mode_of_the_script_passes_on_the_committed_tree():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_results.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _policy_payload() -> dict:
    def result(actor: str, k: int, modes: dict[str, int]) -> dict:
        return {"actor": actor, "episodes": 10, "success_rate": k / 10, "success_ci": [0.1, 0.9],
                "modes": modes, "mode_names": ["left", "right"]}  # fmt: skip

    results = {
        "expert": result("expert", 10, {"left": 5, "right": 5}),
        "flow": result("flow", 9, {"left": 3, "right": 6, "none": 1}),
        "mse": result("mse", 2, {"none": 8, "left": 2}),
    }
    tasks = {"detour": {"results": results, "collect": {"kept": 20}}}
    return result_payload("policy", settings={"threads": 1}, results={"tasks": tasks}, label="toy")


def test_policy_table_shows_rates_interval_and_modes_in_declared_order():
    table = policy_success(_policy_payload())
    header, rule, *rows = table.splitlines()
    assert header == "| task | demos | policy | episodes | success [95% CI] | modes | smaller mode |"
    assert rows == [
        "| detour | 20 | expert | 10 | 1.00 [0.10, 0.90] | left 5 / right 5 | - |",
        "| detour | 20 | flow | 10 | 0.90 [0.10, 0.90] | left 3 / right 6 | - |",
        "| detour | 20 | mse | 10 | 0.20 [0.10, 0.90] | left 2 / right 0 | - |",
    ]


def test_rendering_restores_a_tampered_figure(tmp_path: Path):
    write_result(tmp_path / "policy.json", _policy_payload())
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- results:policy/success -->\nold\n<!-- /results -->\nend\n")
    assert render_files([doc], tmp_path) == [doc]
    good = doc.read_text()
    assert good.startswith("intro\n<!-- results:policy/success -->\n_`benchmarks/results/policy.json`; toy;")
    assert good.endswith("| mse | 10 | 0.20 [0.10, 0.90] | left 2 / right 0 | - |\n<!-- /results -->\nend\n")
    assert render_files([doc], tmp_path, check=True) == []  # rendering is idempotent
    doc.write_text(good.replace("0.90 [0.10", "0.95 [0.10"))
    assert render_files([doc], tmp_path, check=True) == [doc]
    assert render_text(doc.read_text(), tmp_path) == good


def test_missing_result_or_table_is_named(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="results:nothing/success"):
        render_text("<!-- results:nothing/success -->\n<!-- /results -->", tmp_path)
    write_result(tmp_path / "policy.json", _policy_payload())
    with pytest.raises(KeyError, match="no table 'speed' for benchmark 'policy'"):
        render_text("<!-- results:policy/speed -->\n<!-- /results -->", tmp_path)
    # a table the run did not measure (no sweep in this result) is refused, not rendered as a bare header
    with pytest.raises(ValueError, match="results:policy/sweep: .* holds no rows"):
        render_text("<!-- results:policy/sweep -->\n<!-- /results -->", tmp_path)


def test_committed_results_are_small_harness_documents():
    files = sorted(RESULTS.glob("*.json"))
    assert files, "no committed results"
    for path in files:
        assert path.stat().st_size < 200_000, f"{path.name} is {path.stat().st_size} bytes"
        payload = json.loads(path.read_text())
        assert {"benchmark", "machine", "settings", "results"} <= set(payload), path.name
        assert payload["machine"]["cpu_model"] and payload["machine"]["versions"]["torch"]
