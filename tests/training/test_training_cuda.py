"""CUDA: the Trainer runs on a GPU and reaches the CPU run's validation loss."""

from __future__ import annotations

import pytest
import torch
from training_toy import EXTRA, toy_config, toy_datasets, toy_model, write_toy_demos

from robo_flows.training import Trainer, load_checkpoint

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_cuda_training_matches_cpu_quality_and_saves_cpu_loadable_checkpoints(tmp_path):
    train_set, valid_set = toy_datasets(write_toy_demos(tmp_path / "toy.hdf5"))
    cpu = Trainer(toy_model(train_set), train_set, valid_set, toy_config(), tmp_path / "cpu", EXTRA).fit()
    gpu = Trainer(
        toy_model(train_set), train_set, valid_set, toy_config(device="cuda"), tmp_path / "gpu", EXTRA
    ).fit()
    assert abs(gpu["best_valid"] - cpu["best_valid"]) <= 0.05 * cpu["best_valid"]
    ckpt = load_checkpoint(gpu["checkpoints"]["last"])
    assert ckpt["model"]["net.0.weight"].device.type == "cpu"
    assert ckpt["rng"]["cuda"]  # the CUDA generator state is saved for exact resumes
