"""Package-level properties: the core never imports the simulator, and every subcommand answers --help."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import robo_flows
from robo_flows.benchmarks.cli import BENCHMARKS
from robo_flows.cli import COMMANDS


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(robo_flows.__path__, prefix="robo_flows."))


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
# (torch, numpy, h5py, yaml), so that an import cycle inside robo_flows shows as an ImportError of the
# module that starts it, whatever the order.
_IMPORT_EACH = """
import importlib, os, sys, traceback
import h5py, numpy, torch, yaml
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
        [sys.executable, "-m", "robo_flows.cli", command, "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "usage: robo-flows" in out.stdout


def test_bench_lists_every_benchmark() -> None:
    command = [sys.executable, "-m", "robo_flows.cli", "bench", "--help"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    for name in BENCHMARKS:
        assert name in out.stdout


def test_unknown_subcommand_is_an_error() -> None:
    out = subprocess.run([sys.executable, "-m", "robo_flows.cli", "fly"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
