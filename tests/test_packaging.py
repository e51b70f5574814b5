"""Packaging: the core imports without the extras, and presets are package data found from any directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from robo_flows.config import ConfigError, PolicyExperimentConfig, load_config
from robo_flows.config.presets import preset_dir, preset_names, resolve_preset

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = ("pybullet", "pybullet_data", "gymnasium", "matplotlib", "imageio", "robo_flows_envs")
CORE = ("robo_flows.flows", "robo_flows.policy", "robo_flows.training", "robo_flows.data")

# sys.modules[name] = None makes `import name` raise ImportError, as if the package were not installed.
_BLOCKED_IMPORT = """
import importlib, sys
for name in {blocked!r}:
    sys.modules[name] = None
for name in {core!r}:
    importlib.import_module(name)
"""


def test_core_imports_with_simulator_and_plotting_absent() -> None:
    code = _BLOCKED_IMPORT.format(blocked=BLOCKED, core=CORE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_blocking_is_real() -> None:
    """The blocking above makes an import of a blocked package fail (so the test above can fail)."""
    code = _BLOCKED_IMPORT.format(blocked=BLOCKED, core=("robo_flows_envs",))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "halted; None in sys.modules" in out.stderr


def test_core_dependencies_are_the_design_list() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = sorted(d.split(">")[0].split("=")[0].split("<")[0] for d in project["dependencies"])
    assert names == ["h5py", "numpy", "pyyaml", "torch", "tqdm"]
    extras = project["optional-dependencies"]
    assert {"sim", "viz", "bench", "dev"} <= set(extras)


def test_every_top_level_preset_is_packaged() -> None:
    shipped = sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    assert shipped and preset_names() == shipped
    assert {"flow", "mse", "gmm"} <= set(shipped)


@pytest.mark.parametrize("kind", ["flow", "mse", "gmm"])
def test_generic_preset_takes_keys_and_bounds_from_the_file(kind: str) -> None:
    cfg = load_config(resolve_preset(kind), PolicyExperimentConfig, ["data.path=demos.hdf5"])
    assert cfg.model.kind == kind
    assert cfg.data.obs_keys is None and cfg.data.action_bounds == "env"


def test_preset_runs_from_a_temporary_working_directory(tmp_path: Path) -> None:
    """Outside the repository, a preset is found by name (and by its documented configs/ path) and trains,
    with the simulator, plotting and TensorBoard packages absent."""
    demos = tmp_path / "demos.hdf5"
    code = f"""
import sys
for name in {BLOCKED + ("tensorboard",)!r}:  # the core trains without the extras (tensorboard: CSV log only)
    sys.modules[name] = None
from pathlib import Path
import numpy as np
from robo_flows.data import write_demo_file
from robo_flows.benchmarks.task_runs import preset
from robo_flows.config.presets import resolve_preset
from robo_flows.training.experiment import train_policy
assert not Path("configs").exists()
assert resolve_preset("configs/detour_mse.yaml") == resolve_preset("detour_mse")
rng = np.random.default_rng(0)
eps = [{{"obs": {{"x": rng.uniform(-1, 1, (12, 3))}}, "actions": rng.uniform(-0.5, 0.5, (12, 2))}}
       for _ in range(4)]
write_demo_file({str(demos)!r}, eps, {{"env_name": "Toy-v0", "env_kwargs": {{}}, "obs_layout": {{"x": 3}},
                 "action_low": [-1.0, -1.0], "action_high": [1.0, 1.0]}})
cfg = preset("mse", Path({str(demos)!r}), steps=2)
cfg.train.batch_size, cfg.train.warmup_steps, cfg.model.monitor_steps = 4, 1, 2
summary = train_policy(cfg, Path("run"))
assert Path(summary["checkpoints"]["best"]).is_file()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "run" / "log.csv").is_file() and not (tmp_path / "run" / "tb").exists()


def test_unknown_preset_names_the_known_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="detour_flow"):
        resolve_preset("detuor_flow")
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    assert resolve_preset("mine.yaml") == Path("mine.yaml")  # a file that exists wins
    assert resolve_preset("flow") == preset_dir() / "flow.yaml"
