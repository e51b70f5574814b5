"""Package discovery only (metadata lives in pyproject.toml).

The top-level folder ``envs/`` installs as the import package ``robo_flows_envs`` (see
``package-dir`` in pyproject.toml), so its subpackages are found under ``envs`` and renamed.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["robo_flows", "robo_flows.*"])
    + ["robo_flows_envs"]
    + [f"robo_flows_envs.{name}" for name in find_packages("envs")],
)
