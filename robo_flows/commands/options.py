"""Argument types shared by the subcommands; each raises ``argparse.ArgumentTypeError`` with the reason."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any


def json_object(text: str) -> dict[str, Any]:
    """A JSON object (``--env-kwargs '{"obs_mode": "rgb"}'``)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error.msg}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object {{...}}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (``--temperature``): NaN and inf are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (``--episodes``, ``--best-of``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value
