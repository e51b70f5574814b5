"""Grasps of a grasp file as torch training items, split by object."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from robo_flows.data.grasp_file import GraspData
from robo_flows.errors import DataError
from robo_flows.geometry.so3 import rotation_about_z


def split_objects(num_objects: int, valid_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of object ids into (train, valid); valid gets round(fraction·M) objects (≥ 1 if > 0)."""
    if not 0.0 <= valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    order = np.random.default_rng(seed).permutation(num_objects)
    n_valid = max(1, round(valid_fraction * num_objects)) if valid_fraction > 0 else 0
    if n_valid >= num_objects:
        raise ValueError(f"cannot hold out {n_valid} of {num_objects} objects and still train")
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def object_clouds(data: GraspData, view: str) -> torch.Tensor:
    """The clouds a point-cloud model learns from, [M, C, P, 3]: C = 1 ("full"), V ("partial") or V + 1
    ("both", the full cloud first)."""
    if not data.has_clouds:
        raise DataError(
            f"{data.path} holds no object point clouds (objects/points); generate it with "
            "`robo-flows grasps generate --objects meshes`, or train a descriptor model"
        )
    full = torch.from_numpy(data.object_points)[:, None]
    partial = torch.from_numpy(data.object_partial_points)
    return {"full": full, "partial": partial, "both": torch.cat((full, partial), dim=1)}[view]


class GraspDataset(Dataset):
    """Grasps of the given objects (successful ones only with ``success_only``) as training items.

    Item ``i``: ``{"rotation": [3, 3], "translation": [3], "descriptor": [K]}`` float32 tensors; with
    ``view`` (a point-cloud model) also ``"points"`` [P, 3], one of the object's clouds
    (:func:`object_clouds`; grasp i takes cloud i mod C, so every view is used), and ``"cloud"``, the id
    object · C + view of that cloud.

    ``augment_yaw`` (point-cloud items): each item is turned about z by an angle φ ~ U(0, 2π) from torch's
    generator, cloud and grasp together (p -> Rz(φ) p, R -> Rz(φ) R, t -> Rz(φ) t), and gets a cloud id of
    its own (M · C + i), since its cloud is no longer shared.

    After :meth:`precompute` items carry the fixed encoder ``features`` and the ``origin`` of their cloud
    instead of its points.
    """

    def __init__(
        self,
        data: GraspData,
        objects: np.ndarray | None = None,
        success_only: bool = True,
        view: str | None = None,
        augment_yaw: bool = False,
    ) -> None:
        keep = (
            np.ones(len(data.success), dtype=bool) if objects is None else np.isin(data.object_index, objects)
        )
        if success_only:
            keep &= data.success
        self.data = data
        self.rows = np.flatnonzero(keep)
        self.rotations = torch.from_numpy(data.rotations[self.rows])
        self.translations = torch.from_numpy(data.translations[self.rows])
        obj = torch.from_numpy(data.object_index[self.rows])
        self.descriptors = torch.from_numpy(data.object_descriptor)[obj]
        self.clouds = None if view is None else object_clouds(data, view)
        self.augment_yaw = bool(augment_yaw) and self.clouds is not None
        self.features: torch.Tensor | None = None
        if self.clouds is not None:
            per_object = self.clouds.shape[1]
            self.cloud_ids = obj * per_object + torch.arange(len(obj)) % per_object

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = {
            "rotation": self.rotations[i],
            "translation": self.translations[i],
            "descriptor": self.descriptors[i],
        }
        if self.features is not None:
            return self._precomputed_item(item, i)
        if self.clouds is not None:
            cloud = self.cloud_ids[i]
            per_object = self.clouds.shape[1]
            item["points"] = self.clouds[cloud // per_object, cloud % per_object]
            item["cloud"] = cloud
            if self.augment_yaw:
                turn = rotation_about_z(2 * math.pi * float(torch.rand(())))
                item["points"] = item["points"] @ turn.T
                item["rotation"] = turn @ item["rotation"]
                item["translation"] = turn @ item["translation"]
                item["cloud"] = torch.tensor(self.clouds.shape[0] * per_object + i)
        return item

    @torch.no_grad()
    def precompute(self, features_of: Callable[[torch.Tensor], torch.Tensor], turns: int = 1) -> None:
        """Encode every cloud of this dataset's objects once per yaw turn φ_k = 2πk/``turns``: features
        ``features_of(Rz(φ_k) P)`` [M, C, K, F] and the turned clouds' centroids [M, C, K, 3].  An item then
        uses turn k (drawn uniformly from torch's generator with ``augment_yaw``, else 0) for its cloud and
        its grasp alike, and the cloud id cloud · K + k."""
        if self.clouds is None:
            raise ValueError("precompute needs a point-cloud dataset (view given)")
        objects = torch.unique(torch.from_numpy(self.data.object_index[self.rows]))
        if len(objects) == 0:
            return
        self.turns = torch.stack([rotation_about_z(2 * math.pi * k / turns) for k in range(turns)])
        clouds = self.clouds[objects]  # [m, C, P, 3]
        turned = torch.einsum("kij,mcpj->mckpi", self.turns, clouds)
        m, c = clouds.shape[:2]
        sample = features_of(turned[:1, :1, :1]).shape[-1]
        self.features = torch.zeros(len(self.clouds), c, turns, sample)
        self.origins = torch.zeros(len(self.clouds), c, turns, 3)
        self.features[objects] = features_of(turned.reshape(-1, *turned.shape[-2:])).reshape(m, c, turns, -1)
        self.origins[objects] = turned.mean(dim=-2)

    def _precomputed_item(self, item: dict[str, torch.Tensor], i: int) -> dict[str, torch.Tensor]:
        cloud = self.cloud_ids[i]
        per_object, turns = self.clouds.shape[1], len(self.turns)
        k = int(torch.randint(turns, ())) if self.augment_yaw else 0
        obj, view = cloud // per_object, cloud % per_object
        turn = self.turns[k]
        item["rotation"] = turn @ item["rotation"]
        item["translation"] = turn @ item["translation"]
        item["features"] = self.features[obj, view, k]
        item["origin"] = self.origins[obj, view, k]
        item["cloud"] = cloud * turns + k
        return item

    def cloud_origins(self) -> torch.Tensor:
        """The centroid of each item's (unturned) cloud [G, 3]: where a point-cloud model measures its grasps
        from."""
        return self.clouds.mean(dim=-2).reshape(-1, 3)[self.cloud_ids]
