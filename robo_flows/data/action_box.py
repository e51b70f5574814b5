"""The action box of a policy: where it comes from and the check that every demo action lies in it.

The box ``[low, high]`` (raw units, one pair per action dimension) is the env's ``action_space``, recorded
by the collector as ``env_args["action_low"]`` / ``["action_high"]`` in the demo file.  The flow policy's
support is that box (a ``Bounded`` bijection), so a demo action outside it has density zero: it is an error
naming file, demo, step and dimension, never clipped.  ``data.action_bounds: data`` asks instead for the
smallest box that holds the recorded box (when there is one) and every demo action:

    low_d = min(env_low_d, min_t a_t,d),   high_d = max(env_high_d, max_t a_t,d).

A dimension whose demo actions are all equal and that has no recorded bound gets ``value -/+ 1`` (one unit,
as the normalizer uses for constant dimensions), so the box keeps a positive width.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from robo_flows.errors import DataError

if TYPE_CHECKING:
    from robo_flows.data.robomimic import DemoFile

ACTION_BOUNDS_MODES: tuple[str, ...] = ("env", "data")


def recorded_action_box(
    env_args: Mapping[str, Any], act_dim: int, source: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(low, high)`` float32 ``[act_dim]`` from ``env_args``, or None when neither bound is recorded.

    A single number is broadcast over the dimensions.  DataError for one bound without the other, a wrong
    length, non-finite values or ``low >= high`` in a dimension.
    """
    present = [key for key in ("action_low", "action_high") if key in env_args]
    if not present:
        return None
    if len(present) == 1:
        raise DataError(f"{source}: env_args records {present[0]!r} but not the other action bound")
    bounds = []
    for key in ("action_low", "action_high"):
        try:
            value = np.asarray(env_args[key], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{source}: env_args[{key!r}] must be numbers, got {env_args[key]!r}") from exc
        if value.size == 1:
            value = np.full(act_dim, value[0])
        if value.size != act_dim:
            raise DataError(
                f"{source}: env_args[{key!r}] has {value.size} values, the actions have {act_dim} dimensions"
            )
        if not np.isfinite(value).all():
            raise DataError(f"{source}: env_args[{key!r}] must be finite, got {value.tolist()}")
        bounds.append(value.astype(np.float32))
    low, high = bounds
    if not (low < high).all():
        raise DataError(
            f"{source}: the action box needs low < high per dimension, got {low.tolist()}, {high.tolist()}"
        )
    return low, high


def check_actions_in_box(actions: np.ndarray, low: np.ndarray, high: np.ndarray, *, source: str) -> None:
    """DataError naming ``source``, the first step and dimension where ``actions [T, A]`` leave the box."""
    outside = (actions < low) | (actions > high)
    if outside.any():
        step, dim = (int(i) for i in np.argwhere(outside)[0])
        raise DataError(
            f"{source} step {step}: action[{dim}] = {float(actions[step, dim])!r} lies outside the "
            f"action box [{float(low[dim])!r}, {float(high[dim])!r}] of that dimension "
            f"({int(outside.any(axis=1).sum())} step(s) outside in this demo); "
            "set data.action_bounds: data to widen the box to the demonstrations"
        )


def resolve_action_box(demo_file: DemoFile, mode: str = "env") -> tuple[np.ndarray, np.ndarray]:
    """The policy's action box ``(low, high)`` float32 ``[act_dim]`` for ``demo_file`` (module doc).

    ``mode="env"``: the recorded box; DataError when the file records none (files collected before the
    collector wrote it) or a demo action lies outside it.  ``mode="data"``: widened to the demo actions.
    """
    if mode not in ACTION_BOUNDS_MODES:
        raise DataError(f"data.action_bounds must be one of {ACTION_BOUNDS_MODES}, got {mode!r}")
    episodes: Sequence = demo_file.episodes
    act_dim = int(episodes[0].actions.shape[1])
    box = recorded_action_box(demo_file.env_args, act_dim, demo_file.path)
    if mode == "env":
        if box is None:
            raise DataError(
                f"{demo_file.path} records no action bounds (env_args 'action_low' / 'action_high'; files "
                "collected before robo_flows wrote them have none): re-collect the demonstrations with "
                "`robo-flows collect`, or set data.action_bounds: data to take the box from the demo actions"
            )
        for ep in episodes:
            check_actions_in_box(ep.actions, *box, source=f"{demo_file.path}: demo {ep.name!r}")
        return box
    actions = np.concatenate([ep.actions for ep in episodes])
    low, high = actions.min(axis=0), actions.max(axis=0)
    if box is not None:
        low, high = np.minimum(low, box[0]), np.maximum(high, box[1])
    flat = high <= low
    low, high = np.where(flat, low - 1.0, low), np.where(flat, high + 1.0, high)
    return low.astype(np.float32), high.astype(np.float32)
