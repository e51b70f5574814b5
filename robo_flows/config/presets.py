"""Presets by name: the YAML files of the repository's ``configs/``, installed as package data.

``configs/`` at the top of the repository is installed as the data package ``robo_flows.configs``
(``package-dir`` mapping in pyproject.toml), so a preset is found by its name from any working directory,
in a source checkout, an editable install and a wheel alike.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from robo_flows.errors import ConfigError

PRESET_PACKAGE = "robo_flows.configs"


def preset_dir() -> Path:
    """The folder holding the packaged presets."""
    return Path(str(importlib.resources.files(PRESET_PACKAGE)))


def preset_names() -> list[str]:
    """Names of the packaged presets (file names without ``.yaml``), sorted."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def resolve_preset(name_or_path: str | Path) -> Path:
    """An existing YAML file as given, else the packaged preset of that name (``detour_flow[.yaml]``).

    Raises ConfigError naming the known presets when neither exists.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    name = path.name.removesuffix(".yaml")
    packaged = preset_dir() / f"{name}.yaml"
    if path.parent in (Path("."), Path("configs")) and packaged.is_file():
        return packaged
    raise ConfigError(f"no config file or preset {str(name_or_path)!r}; presets: {', '.join(preset_names())}")
