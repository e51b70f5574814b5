"""The control loop's state as two small objects: the observation window and the action queue.

Both hold one row per running episode (``N`` rows, fixed from the first call until a full ``reset()``) and
know nothing of models; :class:`~robo_flows.policy.FlowPolicy` composes them with a model's sampler.

``ObservationWindow`` (``horizon = obs_horizon``): after ``push(o_t)`` a row's window is
``[o_{t-H+1}, ..., o_t]``, where steps before the episode's first observation ``o_0`` repeat ``o_0`` -- the
padding of the training windows (``robo_flows.data.windows``).

``ActionQueue`` (``steps = n_action_steps``): receding horizon.  A row whose queue is empty is replanned:
``refill`` keeps the first ``steps`` actions of a fresh chunk, ``pop`` hands them out one per call, so a row
replans every ``steps`` calls and right after its reset.

Example:
    >>> import numpy as np
    >>> window, queue = ObservationWindow(2), ActionQueue(2)
    >>> window.push(np.array([[1.0]]))[0, :, 0].tolist()
    [1.0, 1.0]
    >>> window.push(np.array([[2.0]]))[0, :, 0].tolist()
    [1.0, 2.0]
    >>> queue.empty_rows(1).tolist()
    [True]
    >>> queue.refill(np.array([True]), np.array([[[10.0], [11.0], [12.0]]]))
    >>> [float(queue.pop()[0, 0]) for _ in range(2)], queue.empty_rows(1).tolist()
    ([10.0, 11.0], [True])
"""

from __future__ import annotations

import numpy as np

Rows = np.ndarray | list[int] | None


def _check_batch(rows: int, running: int | None) -> None:
    if running is not None and rows != running:
        raise ValueError(
            f"select_action got {rows} observations, the running episodes have {running}; "
            "call reset() before changing the batch size"
        )


class ObservationWindow:
    """The last ``horizon`` observations of each of ``N`` episodes, ``[N, horizon, ...]`` (the pushed arrays'
    trailing shape): float32, or uint8 for uint8 camera images ``[N, H, W, 3]``."""

    def __init__(self, horizon: int) -> None:
        if horizon < 1:
            raise ValueError(f"the observation window needs horizon >= 1, got {horizon}")
        self.horizon = int(horizon)
        self.reset()

    @property
    def batch_size(self) -> int | None:
        """``N`` of the running episodes, None before the first ``push`` (or after a full reset)."""
        return None if self._history is None else self._history.shape[0]

    def reset(self, rows: Rows = None) -> None:
        """Restart all rows and forget the batch size (``rows=None``), or restart the given rows (indices or a
        boolean mask): their next ``push`` fills the whole window with that observation."""
        if rows is None:
            self._history: np.ndarray | None = None
            self._fresh = np.zeros(0, dtype=bool)
        elif self._history is not None:  # before the first push every row starts fresh anyway
            self._fresh[rows] = True

    def push(self, obs: np.ndarray) -> np.ndarray:
        """Append ``obs [N, ...]`` to every row's window and return the windows ``[N, horizon, ...]``.

        The returned array is the window's own buffer: read it before the next ``push``.
        """
        _check_batch(len(obs), self.batch_size)
        if self._history is None:
            dtype = np.uint8 if obs.dtype == np.uint8 else np.float32
            self._history = np.empty((len(obs), self.horizon, *obs.shape[1:]), dtype=dtype)
            self._fresh = np.ones(len(obs), dtype=bool)
        self._history[:, :-1] = self._history[:, 1:]  # shift every row by one step ...
        self._history[:, -1] = obs
        self._history[self._fresh] = obs[self._fresh][:, None]  # ... and fill restarted rows' windows
        self._fresh[:] = False
        return self._history

    def constant(self, obs: np.ndarray) -> np.ndarray:
        """The window ``[N, horizon, ...]`` of an episode's first observation ``obs [N, ...]`` (stateless)."""
        return np.repeat(obs[:, None], self.horizon, axis=1)


class ActionQueue:
    """The planned actions not yet executed of each of ``N`` episodes (receding horizon of ``steps``)."""

    def __init__(self, steps: int) -> None:
        if steps < 1:
            raise ValueError(f"the action queue needs n_action_steps >= 1, got {steps}")
        self.steps = int(steps)
        self.reset()

    @property
    def batch_size(self) -> int | None:
        """``N`` of the running episodes, None before the first ``empty_rows`` (or after a full reset)."""
        return None if self._remaining is None else len(self._remaining)

    def reset(self, rows: Rows = None) -> None:
        """Drop every row's plan and forget the batch size (``rows=None``), or drop the given rows' plans."""
        if rows is None:
            self._remaining: np.ndarray | None = None  # [N] queued actions left per row
            self._queue: np.ndarray | None = None  # [N, steps, act_dim] once the first chunk came
        elif self._remaining is not None:
            self._remaining[rows] = 0

    def empty_rows(self, n: int) -> np.ndarray:
        """Boolean mask ``[n]`` of the rows that need a new chunk (all of them at the start)."""
        _check_batch(n, self.batch_size)
        if self._remaining is None:
            self._remaining = np.zeros(n, dtype=np.int64)
        return self._remaining == 0

    def refill(self, rows: np.ndarray, chunks: np.ndarray) -> None:
        """Queue the first ``steps`` actions of ``chunks [k, >= steps, act_dim]`` for the ``k`` rows of the
        mask ``rows`` (in row order)."""
        if chunks.ndim != 3 or chunks.shape[1] < self.steps:
            raise ValueError(
                f"chunks must have shape [k, >= {self.steps}, act_dim] (n_action_steps={self.steps}), "
                f"got {chunks.shape}"
            )
        if self._remaining is None:
            raise RuntimeError("refill() before empty_rows(): the queue does not know its batch size yet")
        if self._queue is None:
            self._queue = np.empty((len(self._remaining), self.steps, chunks.shape[2]), dtype=np.float32)
        self._queue[rows] = chunks[:, : self.steps]
        self._remaining[rows] = self.steps

    def pop(self) -> np.ndarray:
        """The next action ``[N, act_dim]`` of every row (refill the rows ``empty_rows`` names first)."""
        if self._queue is None or self._remaining is None or (self._remaining == 0).any():
            raise RuntimeError("pop() on an empty queue: refill the rows empty_rows() names first")
        action = self._queue[np.arange(len(self._remaining)), self.steps - self._remaining]
        self._remaining -= 1
        return action
