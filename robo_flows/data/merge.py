"""Merging robomimic demo files into one (``robo-flows merge``): a check of the inputs, then one write.

:func:`plan_merge` reads the inputs' layouts (metadata only, ``robomimic.read_demo_layout``) and refuses
inputs that do not fit together, with a :class:`~robo_flows.errors.DataError` naming the file and the
mismatch.  Fit together means:

* the same ``env_args`` entries that define the task and its spaces: ``env_name``, ``env_kwargs``,
  ``obs_layout``, ``action_low``, ``action_high`` (``MATCHED_ENV_ARGS``; an entry absent everywhere is equal);
* every demo of every file has the same obs keys, each with the same per-step shape and dtype, and the same
  per-step action shape and dtype as the first file's first demo;
* ``mask/`` splits in every file, with the same split names, or in none.

:func:`write_merge` then writes the demos with the format's one writer (``robomimic.write_demo_file``:
atomic, the user's umask, images one compressed frame per chunk) as ``demo_0 .. demo_{N-1}``, the inputs'
demos in the order of the inputs and, within a file, in its demo order.  What else the inputs hold:

* each demo keeps its attributes and gains ``source_file`` (the input path as given) and ``source_demo``
  (its name there), unless it already carries them from an earlier merge (the first origin is kept);
* ``env_args`` entries and ``data`` attributes equal in every input are kept; one that differs (e.g.
  ``action_noise`` when a clean and a noisy collection are merged) moves to each demo's attributes
  (non-scalar values as JSON) unless the demo has its own;
* ``data.attrs["merged_from"]``: JSON list of ``{"file", "demos", "samples", "attrs"}``, one per input, its
  ``data`` attributes included;
* ``mask/<split>``: the union of the inputs' splits, renamed to the new demo names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robo_flows.data.robomimic import (
    DemoLayout,
    DemoRecord,
    DemoSpec,
    read_demo_layout,
    read_demo_records,
    write_demo_file,
)
from robo_flows.errors import DataError

__all__ = ["MATCHED_ENV_ARGS", "MergePlan", "plan_merge", "write_merge"]

MATCHED_ENV_ARGS = ("env_name", "env_kwargs", "obs_layout", "action_low", "action_high")
PROVENANCE_ATTRS = ("source_file", "source_demo")


@dataclass
class MergePlan:
    """Checked inputs and what the merged file gets: ``env_args`` and ``attrs`` of its ``data`` group, the
    per-input attributes each of its demos gains (``demo_attrs[i]``), ``masks`` under the new names."""

    layouts: list[DemoLayout]
    env_args: dict[str, Any]
    attrs: dict[str, Any]
    demo_attrs: list[dict[str, Any]]
    masks: dict[str, list[str]]

    @property
    def demos(self) -> int:
        return sum(len(layout.demos) for layout in self.layouts)

    @property
    def samples(self) -> int:
        return sum(demo.steps for layout in self.layouts for demo in layout.demos)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def _attr(value: Any) -> Any:
    """An attribute value HDF5 stores as it is (number, string, bool, array), else its JSON."""
    if isinstance(value, (bool, int, float, str, np.ndarray, np.generic)):
        return value
    return json.dumps(value)


def _json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.item() if isinstance(value, np.generic) else value


def _spec_text(shape: tuple[int, ...], dtype: str) -> str:
    return f"{dtype} {list(shape)} per step"


def _check_demo(reference: DemoSpec, ref_path: str, demo: DemoSpec, path: str) -> None:
    """DataError unless ``demo`` has ``reference``'s obs keys, per-step shapes and dtypes, and action spec."""
    where, ref = f"{path}: demo {demo.name!r}", f"{ref_path} demo {reference.name!r}"
    if set(demo.obs) != set(reference.obs):
        missing, extra = (
            sorted(set(reference.obs) - set(demo.obs)),
            sorted(set(demo.obs) - set(reference.obs)),
        )
        raise DataError(
            f"{where} has obs keys {sorted(demo.obs)}, {ref} has {sorted(reference.obs)} "
            f"(missing {missing}, extra {extra}); merged files need the same obs keys"
        )
    for key, spec in reference.obs.items():
        if demo.obs[key] != spec:
            raise DataError(
                f"{where} obs/{key} is {_spec_text(*demo.obs[key])}, {ref} has {_spec_text(*spec)}"
            )
    if demo.actions != reference.actions:
        raise DataError(
            f"{where} actions are {_spec_text(*demo.actions)}, {ref} has {_spec_text(*reference.actions)}"
        )


def _check_inputs(paths: Sequence[str | Path], out: str | Path | None) -> None:
    if not paths:
        raise ValueError("merge needs at least one input file")
    for path in paths:
        if Path(path).is_dir():
            raise DataError(
                f"{path} is a folder; merge reads robomimic HDF5 files "
                "(a LeRobot folder: robo-flows convert it to a file first)"
            )
    resolved = [Path(p).resolve() for p in paths]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise ValueError(f"{paths[i]} is given twice; each input file is merged once")
    if out is not None and Path(out).resolve() in resolved:
        raise ValueError(f"the output {out} is one of the inputs; write the merge to a new file")


def plan_merge(paths: Sequence[str | Path], out: str | Path | None = None) -> MergePlan:
    """Check that the demo files ``paths`` fit together (module doc) and plan their merge; nothing is
    written.  ``out``, when given, must not be one of the inputs (ValueError).  FileNotFoundError for a
    missing input, DataError naming the file for a bad or mismatched one."""
    _check_inputs(paths, out)
    layouts = [read_demo_layout(p) for p in paths]
    first = layouts[0]
    for layout in layouts:
        for key in MATCHED_ENV_ARGS:
            mine, theirs = layout.env_args.get(key), first.env_args.get(key)
            if not _same(mine, theirs):
                raise DataError(
                    f"{layout.path}: env_args[{key!r}] is {json.dumps(_json(mine))}, {first.path} has "
                    f"{json.dumps(_json(theirs))}; merged files must come from the same env"
                )
        for demo in layout.demos:
            _check_demo(first.demos[0], first.path, demo, layout.path)
        if set(layout.masks) != set(first.masks):
            raise DataError(
                f"{layout.path} has mask splits {sorted(layout.masks)}, {first.path} has "
                f"{sorted(first.masks)}; merged files need the same splits (or none)"
            )

    def shared(dicts: list[dict[str, Any]]) -> tuple[dict[str, Any], set[str]]:
        keys = {k for d in dicts for k in d}
        differing = {k for k in keys if not all(k in d and _same(d[k], dicts[0][k]) for d in dicts)}
        return {k: v for k, v in dicts[0].items() if k not in differing}, differing

    env_args, env_differs = shared([layout.env_args for layout in layouts])
    attrs, attrs_differ = shared(
        [{k: v for k, v in lay.attrs.items() if k != "merged_from"} for lay in layouts]
    )
    demo_attrs = []
    for layout in layouts:
        moved = {k: _attr(layout.env_args[k]) for k in sorted(env_differs) if k in layout.env_args}
        moved.update({k: _attr(layout.attrs[k]) for k in sorted(attrs_differ) if k in layout.attrs})
        demo_attrs.append(moved)
    attrs["merged_from"] = json.dumps(
        [
            {
                "file": str(path),
                "demos": len(layout.demos),
                "samples": sum(d.steps for d in layout.demos),
                "attrs": {k: _json(v) for k, v in layout.attrs.items()},
            }
            for path, layout in zip(paths, layouts, strict=True)
        ]
    )
    masks: dict[str, list[str]] = {split: [] for split in first.masks}
    offset = 0
    for layout in layouts:
        new_name = {demo.name: f"demo_{offset + i}" for i, demo in enumerate(layout.demos)}
        for split, names in layout.masks.items():
            masks[split].extend(new_name[n] for n in names)
        offset += len(layout.demos)
    return MergePlan(layouts=layouts, env_args=env_args, attrs=attrs, demo_attrs=demo_attrs, masks=masks)


def _records(plan: MergePlan, paths: Sequence[str | Path]) -> Iterator[DemoRecord]:
    for path, layout, moved in zip(paths, plan.layouts, plan.demo_attrs, strict=True):
        records = read_demo_records(path)[3]
        for spec in layout.demos:
            try:
                record = next(records)
            except (OSError, KeyError, RuntimeError) as exc:  # h5py's errors of a damaged dataset
                raise DataError(f"{path}: cannot read demo {spec.name!r} (damaged file?): {exc}") from exc
            except StopIteration:
                raise DataError(f"{path} changed while it was merged (demo {spec.name!r} is gone)") from None
            attrs = {**moved, **record.attrs}
            attrs.setdefault("source_file", str(path))
            attrs.setdefault("source_demo", spec.name)
            record.attrs = attrs
            yield record


def write_merge(plan: MergePlan, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write the planned merge to ``out`` (atomic; an existing ``out`` is refused unless ``overwrite``)."""
    paths = [layout.path for layout in plan.layouts]
    return write_demo_file(
        out, _records(plan, paths), plan.env_args, masks=plan.masks, attrs=plan.attrs, overwrite=overwrite
    )
