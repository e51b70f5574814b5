"""Package discovery only (metadata lives in pyproject.toml).

The top-level folder ``envs/`` installs as the import package ``robo_flows_envs`` and ``configs/`` (the YAML
presets) as the data package ``robo_flows.configs`` (see ``package-dir`` in pyproject.toml), so the
subpackages of ``envs`` are found there and renamed.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["robo_flows", "robo_flows.*"])
    + ["robo_flows.configs"]
    + ["robo_flows_envs"]
    + [f"robo_flows_envs.{name}" for name in find_packages("envs")],
)
