"""Trainer on a small real problem: learning, checkpoints, exact resume after a kill, EMA, logs, errors."""

from __future__ import annotations

import csv

import pytest
import torch
from training_toy import EXTRA, SimulatedKill, toy_config, toy_datasets, toy_model, write_toy_demos

from robo_flows.errors import CheckpointError
from robo_flows.training import Trainer, evaluate_loss, load_checkpoint


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    return write_toy_demos(tmp_path_factory.mktemp("demos") / "toy.hdf5")


@pytest.fixture(scope="module")
def datasets(demos):
    return toy_datasets(demos)


@pytest.fixture(scope="module")
def finished_run(datasets, tmp_path_factory):
    """One uninterrupted 60-step run (checkpoints every 20, noisy inputs), shared by several tests."""
    train_set, valid_set = datasets
    model = toy_model(train_set, noise=NOISE)
    initial = evaluate_loss(model, valid_set, 64, torch.device("cpu"))
    out = tmp_path_factory.mktemp("run")
    summary = Trainer(model, train_set, valid_set, toy_config(), out, EXTRA).fit()
    return {"summary": summary, "out": out, "initial_valid": initial}


NOISE = 0.05  # input noise drawn from torch's RNG: an exact resume must restore the generator too


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_training_lowers_the_validation_loss(finished_run):
    assert finished_run["summary"]["steps"] == 60
    assert finished_run["summary"]["best_valid"] < 0.3 * finished_run["initial_valid"]


def test_checkpoints_hold_the_documented_fields(finished_run):
    last = load_checkpoint(finished_run["summary"]["checkpoints"]["last"])
    best = load_checkpoint(finished_run["summary"]["checkpoints"]["best"])
    for key in (
        "format_version",
        "kind",
        "config",
        "model",
        "ema",
        "optimizer",
        "scheduler",
        "step",
        "rng",
        "meta",
    ):
        assert key in last
    assert last["step"] == 60 and last["meta"] == EXTRA["meta"] and last["config"] == EXTRA["config"]
    assert best["best_valid"] == finished_run["summary"]["best_valid"]
    assert "obs_norm.shift" in last["model"] and "obs_norm.shift" in last["ema"]


def test_ema_weights_are_validated_and_saved(finished_run, datasets):
    summary = finished_run["summary"]
    last = load_checkpoint(summary["checkpoints"]["last"])
    assert not torch.equal(last["ema"]["net.0.weight"], last["model"]["net.0.weight"])
    ema_model = toy_model(datasets[0])
    ema_model.load_state_dict(last["ema"])
    assert evaluate_loss(ema_model, datasets[1], 16, torch.device("cpu"), seed=3) == pytest.approx(
        summary["last_valid"]
    )


def test_csv_and_tensorboard_logs_are_written(finished_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rows = _rows(finished_run["out"] / "log.csv")
    train = [r for r in rows if r["train_loss"]]
    valid = [r for r in rows if r["valid_loss"]]
    assert [int(r["step"]) for r in train] == list(range(10, 61, 10))
    assert [int(r["step"]) for r in valid] == [20, 40, 60]
    best = min(valid, key=lambda r: float(r["valid_median"]))  # best.pt by the per-demo median (default)
    assert float(best["valid_median"]) == pytest.approx(finished_run["summary"]["best_valid"], rel=1e-5)
    assert finished_run["summary"]["best"]["step"] == int(best["step"])
    events = EventAccumulator(str(finished_run["out"] / "tb"))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/train")] == list(range(10, 61, 10))
    assert [e.step for e in events.Scalars("loss/valid")] == [20, 40, 60]


def test_resume_after_a_kill_gives_the_uninterrupted_weights(finished_run, datasets, tmp_path):
    train_set, valid_set = datasets
    killed = toy_model(train_set, noise=NOISE)
    killed.die_at_call = 53  # after the step-40 checkpoint and the step-50 log row, before step 60
    with pytest.raises(SimulatedKill):
        Trainer(killed, train_set, valid_set, toy_config(), tmp_path, EXTRA).fit()
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["step"] == 40
    assert _rows(tmp_path / "log.csv")[-1]["step"] == "50"  # logged after the checkpoint: dropped on resume
    fresh = toy_model(
        train_set, seed=99, noise=NOISE
    )  # other initial weights: everything must come from the checkpoint
    summary = Trainer(fresh, train_set, valid_set, toy_config(), tmp_path, EXTRA).fit(resume=True)
    assert fresh.extra_fits == 0  # fit_extra runs only before a run's first step
    reference = load_checkpoint(finished_run["summary"]["checkpoints"]["last"])
    resumed = load_checkpoint(summary["checkpoints"]["last"])
    for part in ("model", "ema"):
        for name, value in reference[part].items():
            assert torch.equal(resumed[part][name], value), f"{part}.{name} differs after resume"
    assert resumed["best_valid"] == reference["best_valid"]
    assert resumed["optimizer"]["state"][0]["step"] == reference["optimizer"]["state"][0]["step"]
    columns = ("step", "train_loss", "valid_loss", "lr")
    assert [[r[c] for c in columns] for r in _rows(tmp_path / "log.csv")] == [
        [r[c] for c in columns] for r in _rows(finished_run["out"] / "log.csv")
    ]


def test_fit_extra_runs_once_before_training(datasets, tmp_path):
    model = toy_model(datasets[0])
    Trainer(model, *datasets, toy_config(steps=2, valid_every=0), tmp_path, EXTRA).fit()
    assert model.extra_fits == 1


def test_runs_are_never_overwritten_and_resume_needs_the_same_config(finished_run, datasets, tmp_path):
    train_set, valid_set = datasets
    other = {**EXTRA, "config": {"toy": False}}
    with pytest.raises(ValueError, match=r"config differs in \['toy'\]"):
        Trainer(toy_model(train_set), train_set, valid_set, toy_config(), finished_run["out"], other).fit(
            resume=True
        )
    with pytest.raises(FileExistsError, match="resume that run or remove it"):
        Trainer(toy_model(train_set), train_set, valid_set, toy_config(), finished_run["out"], EXTRA).fit()
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        Trainer(toy_model(train_set), train_set, valid_set, toy_config(), tmp_path, EXTRA).fit(resume=True)


class _NaNModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def loss(self, batch):
        return self.w * batch["obs"].sum() * float("nan")


def test_non_finite_gradients_stop_training_with_a_clear_error(datasets, tmp_path):
    with pytest.raises(FloatingPointError, match="non-finite gradient at step 0"):
        Trainer(_NaNModel(), *datasets, toy_config(), tmp_path, EXTRA).fit()


def test_bad_arguments_are_rejected(datasets, tmp_path):
    model = toy_model(datasets[0])
    with pytest.raises(TypeError, match="loss"):
        Trainer(torch.nn.Linear(2, 2), *datasets, toy_config(), tmp_path, EXTRA)
    with pytest.raises(ValueError, match="kind"):
        Trainer(model, *datasets, toy_config(), tmp_path, {**EXTRA, "kind": "robot"})
    with pytest.raises(ValueError, match="may not set"):
        Trainer(model, *datasets, toy_config(), tmp_path, {**EXTRA, "step": 3})
    with pytest.raises(ValueError, match="exceeds"):
        Trainer(model, *datasets, toy_config(batch_size=10_000), tmp_path, EXTRA).fit()


@pytest.mark.slow  # worker start-up costs ~10 s on the shared 2-core machine
def test_worker_processes_load_the_same_batches(datasets, tmp_path):
    train_set, valid_set = datasets
    runs = {}
    for workers in (0, 1):  # 30 steps cross the epoch boundary at step 22
        cfg = toy_config(steps=30, num_workers=workers, ema_decay=0.0, valid_every=0)
        model = toy_model(train_set)
        Trainer(model, train_set, valid_set, cfg, tmp_path / str(workers), EXTRA).fit()
        runs[workers] = model.state_dict()
    for name, value in runs[0].items():
        assert torch.equal(runs[1][name], value), name


class _FreezingToy(torch.nn.Module):
    """Freezes part of itself in fit_extra: a resumed run (no fit_extra) would optimize more parameters."""

    def __init__(self, train_set) -> None:
        super().__init__()
        self.inner = toy_model(train_set)
        self.head = torch.nn.Linear(1, 1)

    def fit_extra(self, train_set) -> dict[str, float]:
        self.head.requires_grad_(False)
        return {}

    def loss(self, batch):
        return self.inner.loss(batch)


def test_fit_extra_may_not_change_the_trainable_parameters(datasets, tmp_path):
    with pytest.raises(TypeError, match="fit_extra changed which parameters require gradients"):
        Trainer(_FreezingToy(datasets[0]), *datasets, toy_config(steps=2), tmp_path, EXTRA).fit()


def test_resume_refuses_an_optimizer_state_of_other_parameters(finished_run, datasets, tmp_path):
    import shutil

    shutil.copytree(finished_run["out"] / "checkpoints", tmp_path / "checkpoints")
    model = toy_model(datasets[0])
    model.net[0].requires_grad_(
        False
    )  # this model trains fewer tensors than the checkpoint's optimizer holds
    with pytest.raises(
        CheckpointError, match="optimizer state covers 4 parameter tensors, this model trains 2"
    ):
        Trainer(model, *datasets, toy_config(), tmp_path, EXTRA).fit(resume=True)
