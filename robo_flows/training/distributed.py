"""Process-group setup for ``torchrun``: which rank this is, which device it owns, collective helpers.

Under ``torchrun`` (``WORLD_SIZE > 1`` in the environment) ``DistContext.setup`` joins the process group:
gloo on CPU, nccl on CUDA (each rank on ``cuda:LOCAL_RANK``). Without torchrun it is a no-op context with
rank 0 of 1, so the same training code runs in both cases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


def resolve_device(device: str) -> torch.device:
    """ "auto" -> cuda when available else cpu; "cuda" without a device is refused early when absent."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"train.device is {device!r} but CUDA is not available on this machine")
    return torch.device(device)


@dataclass
class DistContext:
    """This process's place in a (possibly 1-process) training run."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def setup(cls, device: str) -> DistContext:
        """Join the torchrun process group if there is one (and it is not joined yet)."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        resolved = resolve_device(device)
        if world_size <= 1:
            return cls(device=resolved)
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if resolved.type == "cuda":
            resolved = torch.device("cuda", local_rank)
            torch.cuda.set_device(resolved)
        owns = not dist.is_initialized()
        if owns:
            dist.init_process_group(backend="nccl" if resolved.type == "cuda" else "gloo")
        return cls(rank=dist.get_rank(), world_size=dist.get_world_size(), device=resolved, owns_group=owns)

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """The mean of ``value`` over all ranks (``value`` itself in a 1-process run)."""
        if not self.distributed:
            return value
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        return value / self.world_size

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` of every rank, in rank order (on every rank)."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group if this context joined it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
