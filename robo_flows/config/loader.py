"""Generic configuration loader: YAML (or a dict) -> nested typed dataclasses, with ``key=value`` overrides.

It knows nothing of the experiments: their dataclasses live in ``robo_flows.config.schema``.

``load_config(source, cls, overrides)`` reads ``source`` with ``yaml.safe_load`` (or takes a dict),
applies the dotted overrides (``train.steps=500``, ``data.obs_keys=observation,desired_goal``) and
builds ``cls`` recursively. Every value is coerced to its field's annotated type (int, float, bool, str,
Literal, Optional, list[X], tuple[X, ...], tuple[X, Y], nested dataclasses); an unknown key at any level,
a missing required key or a value of the wrong type raises ``ConfigError`` naming the dotted key, what
was expected and the valid keys. ``config_to_dict(cfg)`` is the inverse: plain dicts, lists and scalars
(tuples become lists), so ``load_config(config_to_dict(cfg), type(cfg)) == cfg`` and the result fits a
YAML file or a checkpoint.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from robo_flows.errors import ConfigError

T = TypeVar("T")

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NONE = ("none", "null", "~")


def load_config(source: str | Path | Mapping[str, Any], cls: type[T], overrides: Sequence[str] = ()) -> T:
    """Build the dataclass ``cls`` from a YAML file or a mapping, after applying ``key=value`` overrides."""
    if isinstance(source, Mapping):
        raw: Any = dict(source)
    else:
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"config file {str(path)!r} does not exist")
        with path.open() as f:
            raw = yaml.safe_load(f)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {str(path)!r} must hold a mapping, got {type(raw).__name__}")
    raw = _deep_copy_mapping(raw)
    overridden: set[str] = set()
    for item in overrides:
        _apply_override(raw, item, cls, overridden)
    return _build(cls, raw, prefix="")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """The plain-dict form of a config dataclass: nested dicts, lists (for tuples and lists), scalars."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"config_to_dict expects a dataclass instance, got {type(cfg).__name__}")
    return _plain(cfg)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _deep_copy_mapping(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy_mapping(v) for k, v in value.items()}
    return value


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _unknown_key_error(key: str, prefix: str, cls: type) -> ConfigError:
    section = prefix.rstrip(".") or "the top level"
    valid = ", ".join(_field_types(cls))
    return ConfigError(f"unknown config key {prefix + key!r}; valid keys of {section}: {valid}")


def _apply_override(raw: dict[str, Any], item: str, cls: type, overridden: set[str]) -> None:
    """Set ``a.b.c=value`` in the nested dict ``raw``; the value stays a string, ``_build`` coerces it.

    A field whose metadata names an ``alternative_to`` sibling (``train.steps`` / ``train.epochs``) drops
    that sibling's value from the file, unless an earlier override in ``overridden`` (dotted keys, updated
    here) set it too: then both stay and the dataclass rejects the pair."""
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override {item!r} must look like key=value (e.g. train.steps=500)")
    parts = key.split(".")
    node, node_cls, prefix = raw, cls, ""
    for i, part in enumerate(parts):
        types_ = _field_types(node_cls)
        if part not in types_:
            raise _unknown_key_error(part, prefix, node_cls)
        tp = _strip_optional(types_[part])
        last = i == len(parts) - 1
        if dataclasses.is_dataclass(tp):
            if last:
                raise ConfigError(
                    f"override {item!r} sets a whole section; set its keys, e.g. {key}.<key>=..."
                )
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node, node_cls, prefix = child, tp, prefix + part + "."
        elif not last:
            raise ConfigError(f"config key {prefix + part!r} is a value, not a section (override {item!r})")
        else:
            node[part] = value.strip()
            overridden.add(prefix + part)
            alternative = _field_metadata(node_cls, part).get("alternative_to")
            if alternative is not None and prefix + alternative not in overridden:
                node.pop(alternative, None)


def _field_metadata(cls: type, name: str) -> Mapping[str, Any]:
    return next(f.metadata for f in dataclasses.fields(cls) if f.name == name)


def _strip_optional(tp: Any) -> Any:
    args = typing.get_args(tp)
    if _is_union(tp) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _build(cls: type[T], raw: Any, prefix: str) -> T:
    section = prefix.rstrip(".") or "the config"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{section} must be a mapping of keys to values, got {raw!r}")
    types_ = _field_types(cls)
    for key in raw:
        if key not in types_:
            raise _unknown_key_error(str(key), prefix, cls)
    kwargs: dict[str, Any] = {}
    missing = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in raw:
            kwargs[f.name] = _coerce(raw[f.name], types_[f.name], prefix + f.name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            missing.append(prefix + f.name)
    if missing:
        raise ConfigError(f"missing required config key(s): {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {section}: {exc}") from exc


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """``value`` (from YAML, or a string from an override) as an instance of the annotated type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if _is_union(tp):
        is_none = value is None or (isinstance(value, str) and value.strip().lower() in _NONE)
        if is_none and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError("; ".join(errors))
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key + ".")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"config key {key!r} must be one of {list(args)}, got {value!r}")
        return value
    if origin in (list, tuple):
        return _coerce_sequence(value, tp, key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigError(f"config key {key!r} must be a bool (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"config key {key!r} must be an int, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"config key {key!r} must be a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"config key {key!r} must be a string, got {value!r}")
    raise ConfigError(f"config key {key!r} has an unsupported type {tp!r}")


def _coerce_sequence(value: Any, tp: Any, key: str) -> list[Any] | tuple[Any, ...]:
    """Lists and tuples: from a YAML list, or from ``"a,b,c"`` / ``"[a, b, c]"`` (an override)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items: list[Any] = [t.strip() for t in text.split(",")] if text.strip() else []
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ConfigError(f"config key {key!r} must be a list (YAML list or a,b,c), got {value!r}")
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is list:
        item_tp = args[0] if args else Any
        return [_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(items)]
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(items))
    if args and len(items) != len(args):
        raise ConfigError(f"config key {key!r} must hold {len(args)} values, got {len(items)}: {value!r}")
    return tuple(_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(items, args, strict=False)))
