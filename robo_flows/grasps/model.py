"""``GraspFlow``: a grasp-pose density p(R, t | object) — a symmetric PoseFlow conditioned on the object.

What describes the object (``model.encoder``):

- ``"descriptor"``: a primitive's descriptor d [K] (one-hot kind + dimensions), standardized with the
  training objects' statistics, c = (d - μ_d)/σ_d (σ_d = 1 for constant features);
- ``"pointnet"``: the object's point cloud P [N, 3] in the object frame, each point standardized with the
  training clouds' per-coordinate statistics, c = PointNet((p - μ_p)/σ_p) (``encoders.PointNetEncoder``).

Both normalizers are ``robo_flows.data.normalizer.Normalizer``.  c is the PoseFlow context.  Densities are
relative to the normalized Haar measure on SO(3) (on classes R ~ R·Rz(π) when symmetric) times Lebesgue on
t in metres.
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
from robo_flows.grasps.encoders import PointNetEncoder


class GraspFlow(nn.Module):
    """p(R, t | object).  ``loss(batch)`` is the mean negative log-likelihood (for the Trainer).

    ``condition`` below is a descriptor [K] / [..., K] (``encoder="descriptor"``) or a point cloud
    [N, 3] / [..., N, 3] (``encoder="pointnet"``).

    Example:
        >>> import torch
        >>> from robo_flows.config import GraspModelConfig
        >>> cfg = GraspModelConfig(layers=2, hidden_features=(32,), encoder="pointnet",
        ...                        encoder_hidden=(16, 32))
        >>> model = GraspFlow(cfg)
        >>> points = torch.randn(256, 3) * 0.03
        >>> R, t = model.sample(points, 5)
        >>> R.shape, t.shape, model.log_prob(R, t, points).shape
        (torch.Size([5, 3, 3]), torch.Size([5, 3]), torch.Size([5]))
    """

    def __init__(self, cfg: GraspModelConfig, descriptor_dim: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        self.descriptor_dim = int(descriptor_dim)
        if cfg.encoder == "descriptor":
            if self.descriptor_dim < 1:
                raise ValueError(f"a descriptor model needs descriptor_dim >= 1, got {descriptor_dim}")
            self.descriptor_normalizer = Normalizer(self.descriptor_dim)
            context_features = self.descriptor_dim
        else:
            self.point_normalizer = Normalizer(3)
            self.encoder = PointNetEncoder(cfg.encoder_hidden)
            context_features = self.encoder.out_features
        self.pose_flow = PoseFlow(
            context_features=context_features,
            symmetric=cfg.symmetric,
            charts=cfg.charts,
            flow_kind=cfg.flow_kind,
            layers=cfg.layers,
            hidden_features=cfg.hidden_features,
            mixture_hidden=cfg.mixture_hidden,
        )

    @property
    def uses_points(self) -> bool:
        return self.cfg.encoder == "pointnet"

    def fit_normalization(self, conditions: Tensor, translations: Tensor) -> None:
        """Condition statistics from the training objects (descriptors [M, K] or clouds [M, N, 3]);
        translation statistics from the training grasps [G, 3]."""
        check_finite(conditions, "conditions")
        if self.uses_points:
            self.point_normalizer.load_state_dict(Normalizer.fit(conditions.reshape(-1, 3)).state_dict())
        else:
            self.descriptor_normalizer.load_state_dict(Normalizer.fit(conditions).state_dict())
        self.pose_flow.fit_standardization(translations)

    def context(self, condition: Tensor) -> Tensor:
        """The PoseFlow context: descriptor [..., K] -> [..., K], or points [..., N, 3] -> [..., F].

        Raises ValueError for a descriptor of the wrong width or points of the wrong shape.
        """
        if self.uses_points:
            if condition.dim() < 2 or condition.shape[-1] != 3:
                raise ValueError(
                    f"this model takes point clouds [..., N, 3], got shape {list(condition.shape)}"
                )
            norm = self.point_normalizer
            return self.encoder(norm.normalize(condition.to(norm.shift)))
        if condition.shape[-1] != self.descriptor_dim:
            raise ValueError(
                f"object descriptor has {condition.shape[-1]} values, the model was trained on "
                f"{self.descriptor_dim}"
            )
        return self.descriptor_normalizer.normalize(condition.to(self.descriptor_normalizer.shift))

    def _context_for(self, condition: Tensor, batch_shape: tuple[int, ...]) -> Tensor:
        """The context of each grasp: one object's condition is shared by the whole batch."""
        ctx = self.context(condition)
        return ctx if tuple(ctx.shape[:-1]) == batch_shape else ctx.expand(*batch_shape, ctx.shape[-1])

    def log_prob(self, R: Tensor, t: Tensor, condition: Tensor) -> Tensor:
        """log p(R, t | object): R [..., 3, 3], t [..., 3] and one object's condition, or one per grasp
        ([..., K] / [..., N, 3]) -> [...]."""
        return self.pose_flow.log_prob(R, t, self._context_for(condition, tuple(R.shape[:-2])))

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean NLL of a batch; a point-cloud batch carries ``cloud`` ids, each cloud is encoded once."""
        if not self.uses_points:
            return -self.log_prob(batch["rotation"], batch["translation"], batch["descriptor"]).mean()
        ids, inverse = torch.unique(batch["cloud"], return_inverse=True)
        first = torch.full((len(ids),), len(inverse), dtype=torch.long, device=inverse.device)
        first.scatter_reduce_(0, inverse, torch.arange(len(inverse), device=inverse.device), reduce="amin")
        ctx = self.context(batch["points"][first])[inverse]
        return -self.pose_flow.log_prob(batch["rotation"], batch["translation"], ctx).mean()

    @torch.no_grad()
    def sample(self, condition: Tensor, n: int, temperature: float | None = None) -> tuple[Tensor, Tensor]:
        """``n`` grasps per object: one condition -> (R [n, 3, 3], t [n, 3]); M objects -> [n, M, ...]."""
        temperature = self.cfg.temperature if temperature is None else temperature
        R, t = self.pose_flow.sample((n,), self.context(condition), temperature=temperature)
        return R, t

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> tuple[GraspFlow, dict]:
        """``(model, meta)`` from a trainer checkpoint of kind "grasp" (EMA weights when present)."""
        from robo_flows.config import load_config
        from robo_flows.training import load_checkpoint, restore_weights

        ckpt = load_checkpoint(path, kind="grasp")
        cfg = load_config(ckpt["config"], GraspExperimentConfig)
        meta: dict[str, Any] = dict(ckpt["meta"])
        model = cls(cfg.model, int(meta.get("descriptor_dim", 0)))
        restore_weights(model, ckpt, path, "its grasp model config")
        return model.to(device).eval(), meta
