"""The exceptions robo_flows raises for expected bad input.

Each names what was expected and what came.  They subclass ``ValueError`` as well, so code that catches
``ValueError`` keeps working; the command line (``robo_flows.commands.main``) turns every
:class:`RoboFlowsError` into one line on stderr and exit status 2.
"""

from __future__ import annotations


class RoboFlowsError(Exception):
    """Base of the errors robo_flows raises for bad input (a file, a config, a checkpoint, an env)."""


class ConfigError(RoboFlowsError, ValueError):
    """A configuration that does not fit its dataclasses: unknown key, wrong type, value out of range."""


class DataError(RoboFlowsError, ValueError):
    """A data file that is missing parts, has wrong shapes or dtypes, or holds NaN / inf values."""


class CheckpointError(RoboFlowsError, ValueError):
    """A checkpoint that is corrupt, of another format or kind, unsafe to load, or does not fit its model."""


class EnvError(RoboFlowsError, ValueError):
    """An environment that cannot be made or used as asked: unknown id, bad kwargs, a missing signal."""
