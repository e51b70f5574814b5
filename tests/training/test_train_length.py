"""Training length as ``train.steps`` or as ``train.epochs`` (passes over the training windows): exactly one
is set, an override of one replaces the other, and the trainer runs ``ceil(epochs * windows / batch)``."""

from __future__ import annotations

import math

import pytest
from training_toy import EXTRA, toy_config, toy_datasets, toy_model, write_toy_demos

from robo_flows.config import ConfigError, PolicyExperimentConfig, TrainConfig, load_config
from robo_flows.config.presets import resolve_preset
from robo_flows.training import Trainer


def _train(section: dict, overrides: tuple[str, ...] = ()) -> TrainConfig:
    raw = {"data": {"path": "demos.hdf5"}, "train": section}
    return load_config(raw, PolicyExperimentConfig, list(overrides)).train


def test_steps_and_epochs_together_are_rejected():
    with pytest.raises(ConfigError, match="train.steps=100 and train.epochs=2.0 are alternatives"):
        _train({"steps": 100, "epochs": 2})
    with pytest.raises(ConfigError, match="alternatives"):
        _train({}, ("train.steps=100", "train.epochs=2"))
    with pytest.raises(ConfigError, match="train.epochs must be a finite number > 0"):
        _train({"epochs": 0})


def test_neither_set_keeps_the_default_steps():
    cfg = _train({})
    assert (cfg.steps, cfg.epochs) == (2000, None)


def test_an_override_of_one_replaces_the_other_from_the_file():
    cfg = _train({"epochs": 20}, ("train.steps=7",))
    assert (cfg.steps, cfg.epochs, cfg.total_steps(10**6)) == (7, None, 7)
    cfg = _train({"steps": 2000}, ("train.epochs=3",))
    assert (cfg.steps, cfg.epochs) == (None, 3.0)


@pytest.mark.parametrize(("epochs", "windows", "batch", "steps"), [(20, 1000, 256, 79), (0.01, 5, 256, 1)])
def test_epochs_give_ceil_of_passes_over_the_windows(epochs, windows, batch, steps):
    cfg = TrainConfig(epochs=epochs, batch_size=batch)
    assert cfg.total_steps(windows) == steps == max(1, math.ceil(epochs * windows / batch))


@pytest.mark.parametrize("kind", ["flow", "mse", "gmm"])
def test_generic_presets_scale_their_length_with_the_data(kind):
    cfg = load_config(resolve_preset(kind), PolicyExperimentConfig, ["data.path=demos.hdf5"]).train
    assert cfg.steps is None and cfg.epochs is not None
    assert cfg.total_steps(100_000) > 4 * cfg.total_steps(20_000)


def test_trainer_runs_and_reports_the_epochs_length(tmp_path):
    train_set, valid_set = toy_datasets(write_toy_demos(tmp_path / "toy.hdf5"))
    cfg = toy_config(steps=None, epochs=1.5)
    summary = Trainer(toy_model(train_set), train_set, valid_set, cfg, tmp_path / "run", EXTRA).fit()
    expected = math.ceil(1.5 * len(train_set) / cfg.batch_size)
    assert summary["steps"] == summary["length"]["steps"] == expected
    assert summary["length"]["train_windows"] == len(train_set)
    assert summary["length"]["epochs_set"] == 1.5
    assert summary["length"]["epochs"] == pytest.approx(expected * cfg.batch_size / len(train_set))
