"""load_config and the experiment schema: unknown keys, overrides with coercion, YAML files, round trips,
range checks, and the shipped presets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from robo_flows import errors
from robo_flows.config import (
    ConfigError,
    DataConfig,
    GraspExperimentConfig,
    PolicyExperimentConfig,
    SamplingConfig,
    TrainConfig,
    config_to_dict,
    load_config,
)

BASE = {"data": {"path": "demos.hdf5"}}


def test_unknown_key_lists_valid_keys_at_its_level():
    with pytest.raises(ConfigError, match=r"'train.stepz'.*valid keys of train: steps, epochs, batch_size"):
        load_config({**BASE, "train": {"stepz": 3}}, PolicyExperimentConfig)
    top_level = "data, model, sampling, train, name"
    with pytest.raises(ConfigError, match=rf"'modle'.*valid keys of the top level: {top_level}"):
        load_config({**BASE, "modle": {}}, PolicyExperimentConfig)


def test_unknown_override_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"'data.pth'.*valid keys of data: path, obs_keys"):
        load_config(BASE, PolicyExperimentConfig, ["data.pth=x"])


def test_overrides_are_coerced_to_field_types():
    cfg = load_config(
        BASE,
        PolicyExperimentConfig,
        [
            "train.steps=500",
            "train.lr=3e-4",
            "data.obs_keys=observation,desired_goal",
            "model.hidden_features=64,32",
            "model.obs_monitor=false",
            "name=exp1",
            "data.path=other.hdf5",
        ],
    )
    assert cfg.train.steps == 500 and isinstance(cfg.train.steps, int)
    assert cfg.train.lr == pytest.approx(3e-4)
    assert cfg.data.obs_keys == ["observation", "desired_goal"]
    assert cfg.model.hidden_features == (64, 32)
    assert cfg.model.obs_monitor is False
    assert cfg.name == "exp1" and cfg.data.path == "other.hdf5"
    assert (
        load_config(
            {**BASE, "data": {"path": "p", "obs_keys": ["a"]}}, PolicyExperimentConfig, ["data.obs_keys=null"]
        ).data.obs_keys
        is None
    )


def test_wrong_types_are_rejected_with_the_key_and_value():
    with pytest.raises(ConfigError, match=r"'train.steps' must be an int, got 'many'"):
        load_config(BASE, PolicyExperimentConfig, ["train.steps=many"])
    with pytest.raises(ConfigError, match=r"'model.obs_monitor' must be a bool"):
        load_config({**BASE, "model": {"obs_monitor": 3}}, PolicyExperimentConfig)
    with pytest.raises(ConfigError, match=r"'train.steps' must be an int, got 2.5"):
        load_config({**BASE, "train": {"steps": 2.5}}, PolicyExperimentConfig)


def test_bad_values_and_malformed_overrides_are_config_errors():
    with pytest.raises(ConfigError, match="normalization"):
        load_config(BASE, PolicyExperimentConfig, ["data.normalization=zscore"])
    with pytest.raises(ConfigError, match="model.kind"):
        load_config(BASE, PolicyExperimentConfig, ["model.kind=tree"])
    with pytest.raises(ConfigError, match="key=value"):
        load_config(BASE, PolicyExperimentConfig, ["train.steps"])
    with pytest.raises(ConfigError, match="whole section"):
        load_config(BASE, PolicyExperimentConfig, ["train=3"])
    with pytest.raises(ConfigError, match="missing required config key"):
        load_config({}, PolicyExperimentConfig)
    assert issubclass(ConfigError, ValueError)


def test_yaml_file_with_scientific_notation_and_defaults(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("data:\n  path: d.hdf5\n  obs_horizon: 2\ntrain:\n  lr: 1e-3\n  device: cpu\n")
    cfg = load_config(path, PolicyExperimentConfig, ["train.batch_size=32"])
    assert cfg.data == DataConfig(path="d.hdf5", obs_horizon=2)
    assert cfg.train == TrainConfig(lr=1e-3, device="cpu", batch_size=32)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml", PolicyExperimentConfig)


def test_config_to_dict_round_trips():
    cfg = load_config(BASE, PolicyExperimentConfig, ["model.encoder_hidden=8,8,8", "data.obs_keys=a,b"])
    plain = config_to_dict(cfg)
    assert plain["model"]["encoder_hidden"] == [8, 8, 8]
    assert load_config(plain, PolicyExperimentConfig) == cfg


@dataclass
class _Inner:
    mode: Literal["a", "b"] = "a"
    size: tuple[int, int] = (1, 2)


@dataclass
class _Outer:
    inner: _Inner = field(default_factory=_Inner)
    limit: float | None = None
    tags: list[str] = field(default_factory=list)


def test_loader_handles_literal_fixed_tuples_optional_and_nesting():
    cfg = load_config({"inner": {"mode": "b"}}, _Outer, ["inner.size=3,4", "limit=2.5", "tags=[x, y]"])
    assert cfg == _Outer(inner=_Inner(mode="b", size=(3, 4)), limit=2.5, tags=["x", "y"])
    assert load_config({"limit": 2.5}, _Outer, ["limit=none"]).limit is None
    with pytest.raises(ConfigError, match=r"'inner.mode' must be one of \['a', 'b'\], got 'c'"):
        load_config({}, _Outer, ["inner.mode=c"])
    with pytest.raises(ConfigError, match=r"'inner.size' must hold 2 values, got 3"):
        load_config({"inner": {"size": [1, 2, 3]}}, _Outer)
    with pytest.raises(ConfigError, match="is a value, not a section"):
        load_config({}, _Outer, ["limit.x=1"])
    with pytest.raises(ConfigError, match="inner must be a mapping"):
        load_config({"inner": 3}, _Outer)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1e-3"])
def test_learning_rate_must_be_finite_and_positive(value):
    with pytest.raises(ConfigError, match="train.lr must be a finite number > 0"):
        load_config(BASE, PolicyExperimentConfig, [f"train.lr={value}"])


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-0.5"])
def test_sampling_temperature_must_be_finite_and_positive(value):
    with pytest.raises(ConfigError, match="sampling.temperature must be a finite number > 0"):
        load_config(BASE, PolicyExperimentConfig, [f"sampling.temperature={value}"])


def test_sampling_is_its_own_section_and_checked_against_the_chunk():
    cfg = load_config(BASE, PolicyExperimentConfig, ["sampling.best_of=4", "sampling.n_action_steps=2"])
    assert cfg.sampling == SamplingConfig(best_of=4, n_action_steps=2)
    with pytest.raises(ConfigError, match="'model.temperature'.*valid keys of model"):
        load_config(BASE, PolicyExperimentConfig, ["model.temperature=0.5"])
    with pytest.raises(ConfigError, match=r"sampling.n_action_steps=9 exceeds data.action_horizon=8"):
        load_config(BASE, PolicyExperimentConfig, ["sampling.n_action_steps=9"])


def test_action_bounds_come_from_the_env_unless_widened_to_the_data():
    assert load_config(BASE, PolicyExperimentConfig).data.action_bounds == "env"
    assert load_config(BASE, PolicyExperimentConfig, ["data.action_bounds=data"]).data.action_bounds == "data"
    with pytest.raises(ConfigError, match=r"'data.action_bounds' must be one of \['env', 'data'\]"):
        load_config(BASE, PolicyExperimentConfig, ["data.action_bounds=clip"])


def test_config_error_is_the_shared_robo_flows_error():
    assert ConfigError is errors.ConfigError
    assert issubclass(ConfigError, errors.RoboFlowsError) and issubclass(ConfigError, ValueError)


PRESETS = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_every_shipped_preset_loads_into_its_schema(preset):
    cls = GraspExperimentConfig if preset.stem.startswith("grasp") else PolicyExperimentConfig
    cfg = load_config(preset, cls, ["data.path=demos.hdf5"])
    assert load_config(config_to_dict(cfg), cls) == cfg


def test_flow_kind_is_checked_when_the_config_is_loaded():
    with pytest.raises(
        ConfigError, match=r"model.flow_kind must be one of \('realnvp', 'nsf', 'maf', 'nsf_ar'\)"
    ):
        load_config(BASE, PolicyExperimentConfig, ["model.flow_kind=glow"])
    with pytest.raises(ConfigError, match="model.flow_kind"):
        load_config({"data": {"path": "g.hdf5"}}, GraspExperimentConfig, ["model.flow_kind=glow"])
