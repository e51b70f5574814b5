"""Checkpoint files: atomic writes, safe reads (``torch.load(weights_only=True)``), clear errors.

A checkpoint is a plain dict (see docs/training.md) with at least ``format_version``
(``FORMAT_VERSION``), ``kind`` (one of ``CHECKPOINT_KINDS``), ``config``, ``model``, ``ema``,
``optimizer``, ``scheduler``, ``step``, ``best_valid``, ``rng`` and ``meta``. Only tensors, numbers,
strings, None and containers of them are stored, so it loads without unpickling arbitrary objects; a file
holding anything else is refused, never loaded with the unpickler's safety off.

Each fact is stored once: the config in ``config``, the model's statistics (normalizers, action box) in its
weights (``model``, and the averaged copy of the same model in ``ema``), the shapes and data provenance in
``meta``.  Format version 2 dropped version 1's second copies (a ``normalizer`` section and the action box in
``meta``) and models the flow policy's actions in raw units.  Format version 3 (this one) holds the same keys;
its affine flow layers map ``y = x exp(s) + t`` where version 2's mapped ``y = (x - m) exp(s)``, so a
version 2 flow's weights would load into a different density: version 1 and 2 files are refused (retrain).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from robo_flows.atomic import atomic_write
from robo_flows.errors import CheckpointError

FORMAT_VERSION = 3
CHECKPOINT_KINDS: tuple[str, ...] = ("policy", "grasp")


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically: a temp file in the same folder, fsync, then ``os.replace``.

    A reader (or a crash) never sees a half-written file: ``path`` holds either the old or the new checkpoint.
    """
    path = Path(path)
    with atomic_write(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(
    path: str | Path, kind: str | None = "policy", map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` and check its format version and kind (None = any kind).

    Raises FileNotFoundError (no file), CheckpointError (unreadable, not a robo_flows checkpoint, other
    ``format_version``, other ``kind``).
    """
    path = Path(path)
    if kind is not None and kind not in CHECKPOINT_KINDS:
        raise ValueError(f"kind must be one of {CHECKPOINT_KINDS} or None, got {kind!r}")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types (pickle, zip, runtime) for damaged files
        raise CheckpointError(_unreadable(path, exc)) from None
    if not isinstance(state, dict) or "format_version" not in state:
        raise CheckpointError(f"{path} is not a robo_flows checkpoint (no format_version)")
    if state["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format_version {state['format_version']!r}; "
            f"this robo_flows reads format_version {FORMAT_VERSION} (retrain to get one)"
        )
    if kind is not None and state.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {state.get('kind')!r} model, expected a {kind!r} checkpoint")
    return state


def _unreadable(path: Path, exc: Exception) -> str:
    """The refusal of a file ``torch.load(weights_only=True)`` could not read, without torch's advice to
    turn the safety off."""
    unsafe = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
    if unsafe:
        return (
            f"{path} is not a robo_flows checkpoint: it holds pickled Python objects ({unsafe.group(1)}), "
            "and unpickling them can run arbitrary code; unsafe content refused (robo_flows checkpoints "
            "hold only tensors, numbers, strings and containers of them)"
        )
    return f"{path} is not a robo_flows checkpoint (not a readable torch file: corrupt or truncated?)"


def weights_of(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The model weights a checkpoint serves: the EMA weights when it has them, else the raw ones."""
    return state["ema"] if state.get("ema") is not None else state["model"]


def restore_weights(model: torch.nn.Module, state: dict[str, Any], path: str | Path, what: str) -> None:
    """Load a checkpoint's weights (``weights_of``) into ``model``.

    ``what`` names the model in the CheckpointError raised when the weights do not fit (e.g. "a 'flow'
    policy model").
    """
    try:
        model.load_state_dict(weights_of(state))
    except RuntimeError as err:
        raise CheckpointError(f"checkpoint {str(path)!r}: its weights do not fit {what}: {err}") from err
