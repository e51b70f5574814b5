"""CPU threads of a run: ``set_threads(n | "auto")`` for train, eval and bench alike.

torch's default (one intra-op thread per core) is slow for this project's small models on a shared CPU:
every matrix product is split over threads that wait for one another, and a busy neighbour process stalls
all of them (docs/training.md has the measurement). ``"auto"`` gives each process of this machine an
equal share of the cores it may run on: ``max(1, usable_cores // processes)``.
"""

from __future__ import annotations

import os

import torch


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def resolve_threads(threads: int | str, processes: int = 1) -> int:
    """The count ``threads`` asks for: an int >= 1 as is, ``"auto"`` as ``usable_cores() // processes``."""
    if threads == "auto":
        return max(1, usable_cores() // max(1, int(processes)))
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an int >= 1 or 'auto', got {threads!r}")
    return threads


def set_threads(threads: int | str | None, processes: int | None = None) -> int:
    """Set torch's intra-op thread count for this process; returns the count in effect.

    ``None`` keeps torch's current setting. ``processes``: how many processes of this run share the
    machine (default: torchrun's ``LOCAL_WORLD_SIZE``, else 1); only ``"auto"`` uses it.
    """
    if threads is None:
        return torch.get_num_threads()
    if processes is None:
        processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    n = resolve_threads(threads, processes)
    torch.set_num_threads(n)
    return n
