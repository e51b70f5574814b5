"""Grasps of a grasp file as torch training items, split by object."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from robo_flows.data.grasp_file import GraspData
from robo_flows.errors import DataError


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
    """

    def __init__(
        self,
        data: GraspData,
        objects: np.ndarray | None = None,
        success_only: bool = True,
        view: str | None = None,
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
        if self.clouds is not None:
            cloud = self.cloud_ids[i]
            per_object = self.clouds.shape[1]
            item["points"] = self.clouds[cloud // per_object, cloud % per_object]
            item["cloud"] = cloud
        return item
