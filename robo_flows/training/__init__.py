"""Training: the generic Trainer, checkpoints, and the policy training entry point (``train_policy``)."""

from robo_flows.training.checkpoint import (
    CHECKPOINT_KINDS,
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    restore_weights,
    save_checkpoint,
)
from robo_flows.training.trainer import Trainer
from robo_flows.training.validation import evaluate_loss

__all__ = [
    "CHECKPOINT_KINDS",
    "FORMAT_VERSION",
    "CheckpointError",
    "Trainer",
    "evaluate_loss",
    "load_checkpoint",
    "restore_weights",
    "save_checkpoint",
]
