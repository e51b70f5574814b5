"""``GraspFlow``: a grasp-pose density p(R, t | object) — a symmetric PoseFlow conditioned on the object.

What describes the object (``model.encoder``):

- ``"descriptor"``: a primitive's descriptor d [K] (one-hot kind + dimensions), standardized with the
  training objects' statistics, c = (d - μ_d)/σ_d (σ_d = 1 for constant features);
- ``"pointnet"`` / ``"bps"``: the object's point cloud P [N, 3] in the object frame.  The cloud is centred
  on its centroid o = mean_i p_i and standardized per coordinate with the training clouds' statistics,
  c = E((p - o - μ_p)/σ_p) with E a PointNet or a basis-point-set encoder (``encoders``), and the flow models
  the grasp relative to the centroid, (R, t - o).  So p(R, t | P + a) = p(R, t - a | P): the density moves
  with the cloud, whatever origin the cloud's frame has (a shift has unit Jacobian, densities are unchanged).

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
from robo_flows.grasps.encoders import BPSEncoder, PointNetEncoder

CLOUD_ENCODERS = ("pointnet", "bps")


class GraspFlow(nn.Module):
    """p(R, t | object).  ``loss(batch)`` is the mean negative log-likelihood (for the Trainer).

    ``condition`` below is a descriptor [K] / [..., K] (``encoder="descriptor"``) or a point cloud
    [N, 3] / [..., N, 3] (``encoder="pointnet"`` or ``"bps"``).

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
            if cfg.encoder == "pointnet":
                self.encoder = PointNetEncoder(cfg.encoder_hidden)
            else:
                self.encoder = BPSEncoder(cfg.bps_points, cfg.encoder_hidden)
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
        return self.cfg.encoder in CLOUD_ENCODERS

    @property
    def fixed_features(self) -> bool:
        """Whether the encoder starts with a parameter-free map of the cloud (the BPS distances), which
        training precomputes once per cloud (:meth:`cloud_features`)."""
        return self.cfg.encoder == "bps"

    def cloud_features(self, points: Tensor) -> Tensor:
        """BPS distances of clouds [..., N, 3] -> [..., B], centred and standardized as in :meth:`context`."""
        norm = self.point_normalizer
        points = points.to(norm.shift)
        return self.encoder.distances(norm.normalize(points - self.origin(points).unsqueeze(-2)))

    def origin(self, condition: Tensor) -> Tensor:
        """The frame origin grasps are modelled from: a cloud's centroid [..., N, 3] -> [..., 3]; zero for a
        descriptor [..., K] -> [..., 3]."""
        if self.uses_points:
            return condition.mean(dim=-2)
        return condition.new_zeros(*condition.shape[:-1], 3)

    def fit_normalization(
        self, conditions: Tensor, translations: Tensor, origins: Tensor | None = None
    ) -> None:
        """Condition statistics from the training objects (descriptors [M, K] or clouds [..., N, 3], each
        centred on its centroid); translation statistics from the training grasps [G, 3] relative to their
        clouds' centroids ``origins`` [G, 3] (zero when None)."""
        check_finite(conditions, "conditions")
        if self.uses_points:
            centred = conditions - self.origin(conditions).unsqueeze(-2)
            self.point_normalizer.load_state_dict(Normalizer.fit(centred.reshape(-1, 3)).state_dict())
        else:
            self.descriptor_normalizer.load_state_dict(Normalizer.fit(conditions).state_dict())
        self.pose_flow.fit_standardization(translations if origins is None else translations - origins)

    def context(self, condition: Tensor) -> Tensor:
        """The PoseFlow context: descriptor [..., K] -> [..., K], or points [..., N, 3] -> [..., F].

        Raises ValueError for a descriptor of the wrong width or points of the wrong shape.
        """
        if self.uses_points:
            if condition.dim() < 2 or condition.shape[-1] != 3:
                raise ValueError(
                    f"this model takes point clouds [..., N, 3], got shape {list(condition.shape)}"
                )
            if self.fixed_features:
                return self.encoder.head(self.cloud_features(condition))
            norm = self.point_normalizer
            points = condition.to(norm.shift)
            return self.encoder(norm.normalize(points - self.origin(points).unsqueeze(-2)))
        if condition.shape[-1] != self.descriptor_dim:
            raise ValueError(
                f"object descriptor has {condition.shape[-1]} values, the model was trained on "
                f"{self.descriptor_dim}"
            )
        return self.descriptor_normalizer.normalize(condition.to(self.descriptor_normalizer.shift))

    def log_prob(self, R: Tensor, t: Tensor, condition: Tensor) -> Tensor:
        """log p(R, t | object): R [..., 3, 3], t [..., 3] and one object's condition, or one per grasp
        ([..., K] / [..., N, 3]) -> [...]."""
        batch = tuple(R.shape[:-2])
        ctx, origin = self.context(condition), self.origin(condition).to(t)
        if tuple(ctx.shape[:-1]) != batch:  # one object's condition shared by the whole batch
            ctx, origin = ctx.expand(*batch, ctx.shape[-1]), origin.expand(*batch, 3)
        return self.pose_flow.log_prob(R, t - origin, ctx)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean NLL of a batch; a point-cloud batch carries ``cloud`` ids, each cloud is encoded once, or the
        precomputed ``features`` (:meth:`cloud_features`) and ``origin`` of each grasp's cloud."""
        if not self.uses_points:
            return -self.log_prob(batch["rotation"], batch["translation"], batch["descriptor"]).mean()
        if "features" in batch:
            ctx = self.encoder.head(batch["features"])
            return -self.pose_flow.log_prob(
                batch["rotation"], batch["translation"] - batch["origin"], ctx
            ).mean()
        ids, inverse = torch.unique(batch["cloud"], return_inverse=True)
        first = torch.full((len(ids),), len(inverse), dtype=torch.long, device=inverse.device)
        first.scatter_reduce_(0, inverse, torch.arange(len(inverse), device=inverse.device), reduce="amin")
        clouds = batch["points"][first]
        ctx, origin = self.context(clouds)[inverse], self.origin(clouds)[inverse]
        return -self.pose_flow.log_prob(batch["rotation"], batch["translation"] - origin, ctx).mean()

    @torch.no_grad()
    def sample(self, condition: Tensor, n: int, temperature: float | None = None) -> tuple[Tensor, Tensor]:
        """``n`` grasps per object: one condition -> (R [n, 3, 3], t [n, 3]); M objects -> [n, M, ...]."""
        temperature = self.cfg.temperature if temperature is None else temperature
        R, t = self.pose_flow.sample((n,), self.context(condition), temperature=temperature)
        return R, t + self.origin(condition).to(t)

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
