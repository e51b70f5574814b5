"""The ablation benchmark end to end on a tiny real run: cells trained and evaluated, a sampling cell reusing
its parent's checkpoint, an interrupted run going on from its cells, and the table rendered from the JSON."""

from __future__ import annotations

import json

import pytest

from robo_flows.benchmarks.ablation import main
from robo_flows.benchmarks.harness import read_result
from robo_flows.benchmarks.render import ablation_table

TINY = [
    "--demos", "2", "--eval-episodes", "1", "--tasks", "pickplace",
    "--set", "train.steps=3", "--set", "train.batch_size=8", "--set", "model.hidden_features=[16,16]",
    "--set", "model.encoder_hidden=[16]", "--set", "model.monitor_steps=2", "--set", "train.valid_every=0",
]  # fmt: skip


def test_unknown_cells_and_orphan_sampling_cells_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown tasks or cells"):
        main(["--out", str(tmp_path), "--cells", "base,magic"])
    with pytest.raises(ValueError, match="parent"):
        main(["--out", str(tmp_path), "--cells", "n_action_steps=1"])


def test_tiny_ablation_runs_reuses_its_cells_and_renders(tmp_path):
    out = tmp_path / "run"
    main(["--out", str(out), "--cells", "base", *TINY])  # an "interrupted" run: one cell done
    first = json.loads((out / "pickplace" / "base" / "cell.json").read_text())
    (out / "ablation.json").unlink()
    main(["--out", str(out), "--cells", "base,n_action_steps=1", *TINY])
    payload = read_result(out / "ablation.json")
    cells = payload["results"]["pickplace"]["cells"]
    assert cells["base"] == first  # read back, not retrained
    assert cells["n_action_steps=1"]["checkpoint"] == first["checkpoint"]
    assert cells["n_action_steps=1"]["training"]["n_action_steps"] == 1
    assert first["training"]["length"]["steps"] == 3 and first["training"]["obs_horizon"] == 2
    table = ablation_table(payload).splitlines()
    assert table[0].startswith("| cell | pickplace (2 demos, ") and len(table) == 4
    with pytest.raises(FileExistsError):
        main(["--out", str(out), "--cells", "base", *TINY])
    (out / "ablation.json").unlink()
    main(["--out", str(out), "--cells", "base,mse", "--assemble", *TINY])  # mse not run: left out
    assert list(read_result(out / "ablation.json")["results"]["pickplace"]["cells"]) == ["base"]
