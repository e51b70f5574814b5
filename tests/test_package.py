"""Package-level properties: every module imports on its own, the core never imports the simulator, and
every subcommand (and benchmark) answers --help."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import robo_flows
from robo_flows.commands import COMMANDS
from robo_flows.commands.bench import BENCHMARKS


def _core_modules() -> list[str]:
    modules = pkgutil.walk_packages(robo_flows.__path__, prefix="robo_flows.")
    return sorted(m.name for m in modules if not m.name.endswith(".__main__"))  # __main__ runs the CLI


def test_core_library_never_imports_pybullet() -> None:
    modules = _core_modules()
    assert len(modules) > 20, modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "sim = ('pybullet', 'pybullet_data', 'robo_flows_envs')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in sim)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core modules pulled in the simulator: {out.stdout.strip()}"


# Imports every module in a fresh child of one interpreter that has loaded only third-party libraries
# (torch, numpy, h5py, yaml and the optional extras that are installed), so that an import cycle inside
# robo_flows shows as an ImportError of the module that starts it, whatever the order.
_IMPORT_EACH = """
import importlib, os, sys, traceback
import h5py, numpy, torch, yaml
for extra in ("diffusers", "pyarrow.parquet", "av", "trimesh", "scipy.optimize", "tqdm"):
    try:
        importlib.import_module(extra)
    except ImportError:
        pass
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(name)
print(",".join(failed))
"""


def test_every_module_imports_on_its_own_in_a_fresh_interpreter() -> None:
    modules = _core_modules()
    out = subprocess.run([sys.executable, "-c", _IMPORT_EACH, *modules], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    failed = out.stdout.strip()
    assert failed == "", f"modules that fail to import on their own: {failed}\n{out.stderr}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_answers_help(command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "robo_flows.commands", command, "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "usage: robo-flows" in out.stdout


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_answers_help_with_its_own_options(name: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "robo_flows.commands", "bench", name, "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert f"usage: robo-flows bench {name}" in out.stdout and "--out" in out.stdout


def test_top_level_help_imports_no_subcommand_module() -> None:
    code = (
        "import sys\n"
        "from robo_flows.commands import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'gymnasium', 'pybullet', 'robo_flows_envs', 'robo_flows.commands.train')\n"
        "print('imported:', ','.join(sorted(m for m in sys.modules if m in heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "imported:", out.stdout


def test_bench_lists_every_benchmark() -> None:
    command = [sys.executable, "-m", "robo_flows.commands", "bench", "--help"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    for name in BENCHMARKS:
        assert name in out.stdout


def test_unknown_subcommand_is_an_error() -> None:
    out = subprocess.run([sys.executable, "-m", "robo_flows.commands", "fly"], capture_output=True, text=True)
    assert out.returncode == 2
    choices = ", ".join(repr(name) for name in COMMANDS)
    assert out.stderr.strip().splitlines() == [
        f"robo-flows: error: argument COMMAND: invalid choice: 'fly' (choose from {choices}) "
        "(see robo-flows --help)"
    ]
