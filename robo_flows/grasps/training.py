"""``grasp_trainer``: a ``GraspFlow`` and the generic ``Trainer`` on a grasp file (``grasps train``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from robo_flows.config import config_to_dict
from robo_flows.config.schema import GraspExperimentConfig
from robo_flows.data.grasp_file import read_grasp_file
from robo_flows.errors import DataError
from robo_flows.grasps.dataset import GraspDataset, split_objects
from robo_flows.grasps.model import CLOUD_ENCODERS, GraspFlow
from robo_flows.training import Trainer
from robo_flows.training.rng import seed_everything

YAW_TURNS = 8
"""Yaw turns (45° apart) at which a model with fixed cloud features (BPS) sees each training cloud."""


def build_grasp_datasets(cfg: GraspExperimentConfig) -> tuple[GraspDataset, GraspDataset, dict[str, Any]]:
    """(train, valid, meta): grasps split by object (``data.valid_fraction``, ``data.split_seed``)."""
    data = read_grasp_file(cfg.data.path)
    train_objects, valid_objects = split_objects(
        data.num_objects, cfg.data.valid_fraction, cfg.data.split_seed
    )
    view = cfg.data.view if cfg.model.encoder in CLOUD_ENCODERS else None
    train = GraspDataset(data, train_objects, cfg.data.success_only, view, cfg.data.augment_yaw)
    valid = GraspDataset(data, valid_objects, cfg.data.success_only, view)
    if len(train) == 0:
        raise DataError(f"{cfg.data.path}: no training grasps (success_only={cfg.data.success_only})")
    if cfg.model.encoder == "descriptor" and data.descriptor_dim == 0:
        raise DataError(
            f"{cfg.data.path} has no object descriptors (mesh objects): set model.encoder=pointnet or bps"
        )
    meta = {
        "descriptor_dim": data.descriptor_dim,
        "dataset": str(cfg.data.path),
        "train_objects": train_objects.tolist(),
        "valid_objects": valid_objects.tolist(),
        "train_grasps": len(train),
        "valid_grasps": len(valid),
    }
    return train, valid, meta


def grasp_trainer(cfg: GraspExperimentConfig, out_dir: str | Path) -> Trainer:
    """The Trainer of a GraspFlow (checkpoints of kind "grasp"), with the grasp file read and the model
    built; writes nothing, so every data or model error is raised before ``out_dir`` is used."""
    train, valid, meta = build_grasp_datasets(cfg)
    seed_everything(cfg.train.seed)
    model = GraspFlow(cfg.model, meta["descriptor_dim"])
    objects = meta["train_objects"]
    if model.uses_points:
        model.fit_normalization(train.clouds[objects], train.translations, train.cloud_origins())
        if model.fixed_features:  # encode each (cloud, yaw turn) once, not at every step
            train.precompute(model.cloud_features, YAW_TURNS if cfg.data.augment_yaw else 1)
            valid.precompute(model.cloud_features, 1)
    else:
        model.fit_normalization(torch.from_numpy(train.data.object_descriptor[objects]), train.translations)
    extra = {"kind": "grasp", "config": config_to_dict(cfg), "meta": meta}
    return Trainer(model, train, valid, cfg.train, out_dir, extra)
