"""The control loop's two objects on their own: the observation window and the action queue."""

from __future__ import annotations

import numpy as np
import pytest

from robo_flows.policy.control import ActionQueue, ObservationWindow


def steps(t: int, rows: int = 2, dim: int = 3) -> np.ndarray:
    """The observation of step ``t``: row r holds ``100 r + t`` everywhere (easy to locate)."""
    return (100.0 * np.arange(rows)[:, None] + t) * np.ones((rows, dim), dtype=np.float32)


def test_window_pads_with_the_first_observation_then_slides():
    window = ObservationWindow(3)
    seen = [window.push(steps(t)).copy() for t in range(5)]
    assert seen[0][:, :, 0].tolist() == [[0, 0, 0], [100, 100, 100]]
    assert seen[1][:, :, 0].tolist() == [[0, 0, 1], [100, 100, 101]]
    assert seen[4][:, :, 0].tolist() == [[2, 3, 4], [102, 103, 104]]
    assert seen[4].dtype == np.float32 and seen[4].shape == (2, 3, 3)


def test_window_restarts_only_the_reset_rows():
    window = ObservationWindow(3)
    for t in range(3):
        window.push(steps(t))
    window.reset(np.array([False, True]))
    after = window.push(steps(7))
    assert after[:, :, 0].tolist() == [[1, 2, 7], [107, 107, 107]]
    window.reset([0])  # indices work as well as masks
    assert window.push(steps(8))[:, :, 0].tolist() == [[8, 8, 8], [107, 107, 108]]


def test_a_full_reset_forgets_the_batch_size_and_a_changed_size_is_refused_before():
    window = ObservationWindow(2)
    window.push(steps(0, rows=2))
    with pytest.raises(ValueError, match="got 3 observations, the running episodes have 2; call reset"):
        window.push(steps(1, rows=3))
    window.reset()
    assert window.batch_size is None
    assert window.push(steps(1, rows=3)).shape == (3, 2, 3)


def test_constant_window_is_the_episode_start_convention():
    window = ObservationWindow(4)
    assert window.constant(steps(5))[:, :, 0].tolist() == [[5] * 4, [105] * 4]
    assert window.batch_size is None  # stateless


def chunk(label: float, rows: int = 1, horizon: int = 5) -> np.ndarray:
    """Chunks whose action j of row r is ``label + 10 r + j / 10``."""
    return label + 10.0 * np.arange(rows)[:, None, None] + np.arange(horizon)[None, :, None] / 10


def test_queue_executes_n_action_steps_of_each_chunk_then_asks_for_a_new_one():
    queue = ActionQueue(3)
    actions, replans = [], []
    for t in range(7):
        empty = queue.empty_rows(1)
        if empty.any():
            replans.append(t)
            queue.refill(empty, chunk(float(len(replans))))
        actions.append(float(queue.pop()[0, 0]))
    assert replans == [0, 3, 6]
    assert actions == pytest.approx([1.0, 1.1, 1.2, 2.0, 2.1, 2.2, 3.0])


def test_queue_replans_only_the_reset_rows_and_keeps_the_others_plans():
    queue = ActionQueue(4)
    queue.refill(queue.empty_rows(3), chunk(0.0, rows=3))
    assert queue.pop()[:, 0].tolist() == pytest.approx([0.0, 10.0, 20.0])
    queue.reset(np.array([1]))
    empty = queue.empty_rows(3)
    assert empty.tolist() == [False, True, False]
    queue.refill(empty, chunk(5.0, rows=1))
    assert queue.pop()[:, 0].tolist() == pytest.approx([0.1, 5.0, 20.1])


def test_queue_refuses_what_it_cannot_serve():
    queue = ActionQueue(3)
    with pytest.raises(RuntimeError, match="empty queue"):
        queue.pop()
    empty = queue.empty_rows(2)
    with pytest.raises(ValueError, match=r"\[k, >= 3, act_dim\]"):
        queue.refill(empty, chunk(0.0, rows=2, horizon=2))
    with pytest.raises(ValueError, match="call reset"):
        queue.empty_rows(4)
    with pytest.raises(ValueError, match="n_action_steps >= 1"):
        ActionQueue(0)
    with pytest.raises(ValueError, match="horizon >= 1"):
        ObservationWindow(0)
