"""Seeded, resumable batch order that is the same for any number of processes.

Epoch e uses the permutation ``perm_e`` of the n training items drawn from ``SeedSequence([seed, e])``; global
batch b of that epoch is ``perm_e[b * B : (b + 1) * B]`` (B = global batch size, the incomplete tail is
dropped), and rank r of W processes takes the items ``r, r + W, ...`` of it. So the union over ranks of step
s's batches is the 1-process batch of step s, and step s's batches follow from s alone: a resumed run sets its
position and continues with exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler


class EpochBatchSampler(Sampler[list[int]]):
    """DataLoader batch sampler: this rank's index lists from the current position to the epoch's end."""

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        if batch_size % world_size:
            raise ValueError(
                f"train.batch_size {batch_size} must be divisible by the number of processes {world_size}"
            )
        if n < batch_size:
            raise ValueError(
                f"train.batch_size {batch_size} exceeds the {n} training items; lower it or add data"
            )
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.steps_per_epoch = self.n // self.batch_size
        self.epoch = 0
        self.start = 0

    def set_position(self, step: int) -> None:
        """Continue at global optimizer step ``step`` (0-based)."""
        self.epoch, self.start = divmod(int(step), self.steps_per_epoch)

    def permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.n)

    def __len__(self) -> int:
        return self.steps_per_epoch - self.start

    def __iter__(self) -> Iterator[list[int]]:
        perm = self.permutation(self.epoch)
        for b in range(self.start, self.steps_per_epoch):
            batch = perm[b * self.batch_size : (b + 1) * self.batch_size]
            yield batch[self.rank :: self.world_size].tolist()
