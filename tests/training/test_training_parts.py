"""The Trainer's pure parts: schedule, EMA, batch order across ranks and resumes, RNG state round trip."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from torch import nn

from robo_flows.training.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from robo_flows.training.ema import EMA
from robo_flows.training.rng import capture_rng_state, restore_rng_state
from robo_flows.training.sampler import EpochBatchSampler
from robo_flows.training.schedule import warmup_cosine, warmup_cosine_factor


def test_schedule_warms_up_linearly_then_decays_by_cosine_to_zero():
    factors = [warmup_cosine_factor(s, 10, 110) for s in range(110)]
    assert factors[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert factors[10] == 1.0
    assert factors[60] == pytest.approx(0.5)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    assert factors[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 99 / 100)))
    assert warmup_cosine_factor(0, 0, 5) == 1.0


def test_scheduler_drives_the_optimizer_learning_rate():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
    sched = warmup_cosine(opt, 4, 20)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx(
        [0.05, 0.1, 0.15, 0.2, 0.2 * warmup_cosine_factor(4, 4, 20), 0.2 * warmup_cosine_factor(5, 4, 20)]
    )


def test_ema_follows_its_formula_and_copies_buffers():
    model = nn.BatchNorm1d(2)  # one parameter pair plus buffers
    ema = EMA(model, decay=0.9)
    expected = model.weight.detach().clone()
    for n in range(1, 30):
        with torch.no_grad():
            model.weight.add_(1.0)
            model.running_mean.fill_(float(n))
        d = min(0.9, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * model.weight.detach()
        ema.update(model)
        assert torch.allclose(ema.model.weight, expected)
    assert torch.equal(ema.model.running_mean, model.running_mean)
    assert not any(p.requires_grad for p in ema.model.parameters())
    with pytest.raises(ValueError, match="decay"):
        EMA(model, decay=1.0)


def test_rank_batches_partition_the_single_process_batch():
    single = list(EpochBatchSampler(50, 8, seed=1))
    ranks = [list(EpochBatchSampler(50, 8, seed=1, rank=r, world_size=2)) for r in range(2)]
    assert len(single) == 6
    for step, batch in enumerate(single):
        assert sorted(ranks[0][step] + ranks[1][step]) == sorted(batch)
        assert len(ranks[0][step]) == len(ranks[1][step]) == 4


def test_set_position_continues_the_same_batch_sequence():
    full = EpochBatchSampler(30, 4, seed=7)
    sequence = []
    for epoch in range(3):
        full.set_position(epoch * full.steps_per_epoch)
        sequence += list(full)
    resumed = EpochBatchSampler(30, 4, seed=7)
    resumed.set_position(10)  # epoch 1, batch 3
    assert list(resumed) == sequence[10:14]
    assert sequence[:7] != sequence[7:14]  # epochs are reshuffled


def test_sampler_rejects_impossible_batches():
    with pytest.raises(ValueError, match="divisible"):
        EpochBatchSampler(50, 9, seed=0, world_size=2)
    with pytest.raises(ValueError, match="exceeds the 10 training items"):
        EpochBatchSampler(10, 16, seed=0)


def test_rng_state_survives_a_weights_only_checkpoint(tmp_path):
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    np.random.normal()  # leaves a cached gaussian in numpy's state
    state = capture_rng_state()
    first = (torch.rand(3), np.random.rand(3), np.random.normal(), random.random())
    save_checkpoint({"format_version": FORMAT_VERSION, "kind": "policy", "rng": state}, tmp_path / "rng.pt")
    restore_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    second = (torch.rand(3), np.random.rand(3), np.random.normal(), random.random())
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert first[2:] == second[2:]
