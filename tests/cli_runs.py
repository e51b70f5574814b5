"""Runs of the real command line for the end-to-end tests: ``robo-flows ARGS`` in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def robo_flows(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """Run ``robo-flows ARGS`` from the repository root; with ``ok``, a failed run fails the test."""
    proc = subprocess.run(
        [sys.executable, "-m", "robo_flows.commands", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if ok:
        assert proc.returncode == 0, f"robo-flows {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc
