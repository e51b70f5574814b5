"""``GraspFlow``: a grasp-pose density p(R, t | object) — a symmetric PoseFlow on the object descriptor.

The descriptor d [K] (one-hot kind + dimensions) is standardized with the training objects' statistics,
(d - μ_d)/σ_d (σ_d = 1 for constant features; ``robo_flows.data.normalizer.Normalizer``), and is the
PoseFlow context.  Densities are relative to the
normalized Haar measure on SO(3) (on classes R ~ R·Rz(π) when symmetric) times Lebesgue on t in metres.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from robo_flows.config.schema import GraspExperimentConfig, GraspModelConfig
from robo_flows.data.normalizer import Normalizer
from robo_flows.geometry.pose_flow import PoseFlow
from robo_flows.geometry.validation import check_finite


class GraspFlow(nn.Module):
    """p(R, t | descriptor).  ``loss(batch)`` is the mean negative log-likelihood (for the Trainer)."""

    def __init__(self, cfg: GraspModelConfig, descriptor_dim: int) -> None:
        super().__init__()
        if descriptor_dim < 1:
            raise ValueError(f"descriptor_dim must be >= 1, got {descriptor_dim}")
        self.cfg = cfg
        self.descriptor_dim = int(descriptor_dim)
        self.descriptor_normalizer = Normalizer(self.descriptor_dim)
        self.pose_flow = PoseFlow(
            context_features=descriptor_dim,
            symmetric=cfg.symmetric,
            charts=cfg.charts,
            flow_kind=cfg.flow_kind,
            layers=cfg.layers,
            hidden_features=cfg.hidden_features,
            mixture_hidden=cfg.mixture_hidden,
        )

    def fit_normalization(self, descriptors: Tensor, translations: Tensor) -> None:
        """Descriptor statistics from training objects [M, K]; translation statistics from grasps [N, 3]."""
        check_finite(descriptors, "descriptors")
        self.descriptor_normalizer.load_state_dict(Normalizer.fit(descriptors).state_dict())
        self.pose_flow.fit_standardization(translations)

    def context(self, descriptor: Tensor) -> Tensor:
        """Standardized descriptor, [..., K] -> [..., K]; raises ValueError on a wrong width."""
        if descriptor.shape[-1] != self.descriptor_dim:
            raise ValueError(
                f"object descriptor has {descriptor.shape[-1]} values, the model was trained on "
                f"{self.descriptor_dim}"
            )
        return self.descriptor_normalizer.normalize(descriptor.to(self.descriptor_normalizer.shift))

    def log_prob(self, R: Tensor, t: Tensor, descriptor: Tensor) -> Tensor:
        """log p(R, t | object): R [..., 3, 3], t [..., 3], descriptor [..., K] -> [...]."""
        return self.pose_flow.log_prob(R, t, self.context(descriptor))

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        return -self.log_prob(batch["rotation"], batch["translation"], batch["descriptor"]).mean()

    @torch.no_grad()
    def sample(self, descriptor: Tensor, n: int, temperature: float | None = None) -> tuple[Tensor, Tensor]:
        """``n`` grasps per object: descriptor [K] -> (R [n, 3, 3], t [n, 3]); [M, K] -> [n, M, ...]."""
        temperature = self.cfg.temperature if temperature is None else temperature
        R, t = self.pose_flow.sample((n,), self.context(descriptor), temperature=temperature)
        return R, t

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> tuple[GraspFlow, dict]:
        """``(model, meta)`` from a trainer checkpoint of kind "grasp" (EMA weights when present)."""
        from robo_flows.config import load_config
        from robo_flows.training import load_checkpoint, restore_weights

        ckpt = load_checkpoint(path, kind="grasp")
        cfg = load_config(ckpt["config"], GraspExperimentConfig)
        meta: dict[str, Any] = dict(ckpt["meta"])
        model = cls(cfg.model, int(meta["descriptor_dim"]))
        restore_weights(model, ckpt, path, "its grasp model config")
        return model.to(device).eval(), meta
