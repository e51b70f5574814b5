"""Image augmentation of the encoder (``model.encoder.augment``): DrQ's random shift translates each image by
at most ``shift_pad`` whole pixels over its edge-replicated border, only in training; the default stays the
random crop; the config refuses what does not fit, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from robo_flows.config import PolicyExperimentConfig, load_config
from robo_flows.config.schema import EncoderConfig
from robo_flows.errors import ConfigError
from robo_flows.policy.encoders import ImageEncoder, shift_images

CAMERA = "top_image"
PRESET = Path(__file__).resolve().parents[2] / "configs" / "detour_flow_rgb.yaml"
BASE = {"data": {"path": "x.hdf5", "obs_keys": ["pos", CAMERA]}, "model": {"encoder": {"images": [CAMERA]}}}


def _encoder(**encoder) -> EncoderConfig:
    return load_config(
        {**BASE, "model": {"encoder": {**BASE["model"]["encoder"], **encoder}}}, PolicyExperimentConfig
    ).model.encoder


def _offset(y: torch.Tensor, x: torch.Tensor, pad: int) -> tuple[int, int] | None:
    """The ``(dy, dx)`` in ``[-pad, pad]^2`` with ``y[:, i, j] = x[:, clamp(i + dy), clamp(j + dx)]``, or
    None."""
    _, h, w = x.shape
    for dy in range(-pad, pad + 1):
        rows = (torch.arange(h) + dy).clamp(0, h - 1)
        for dx in range(-pad, pad + 1):
            cols = (torch.arange(w) + dx).clamp(0, w - 1)
            if torch.equal(y, x[:, rows][:, :, cols]):
                return dy, dx
    return None


def test_each_shifted_image_is_its_edge_padded_image_translated_by_at_most_pad_pixels():
    torch.manual_seed(0)
    pad = 2
    x = torch.rand(400, 3, 9, 7)  # distinct values: a translation is identified by its offset alone
    y = shift_images(x, pad, random=True)
    assert y.shape == x.shape and y.dtype == x.dtype
    offsets = [_offset(y[n], x[n], pad) for n in range(len(x))]
    assert None not in offsets  # every output is a whole-pixel translation within pad of its own image
    # each image draws its own offset, uniformly over all (2 pad + 1)^2 of them
    assert set(offsets) == {(dy, dx) for dy in range(-pad, pad + 1) for dx in range(-pad, pad + 1)}


def test_shift_is_the_identity_in_evaluation_and_random_in_training():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 8, 8)
    assert torch.equal(shift_images(x, 4, random=False), x)
    shifted = ImageEncoder("small", 4, 6, crop=1.0, augment="shift", shift_pad=4)
    plain = ImageEncoder("small", 4, 6, crop=1.0, augment="none")
    assert shifted.state_dict().keys() == plain.state_dict().keys()  # no parameter: checkpoints unchanged
    plain.load_state_dict(shifted.state_dict())
    images = torch.randint(0, 256, (4, 20, 20, 3), dtype=torch.uint8)
    shifted.eval()
    plain.eval()
    assert torch.equal(shifted(images), plain(images))
    shifted.train()
    plain.train()
    assert torch.equal(plain(images), plain(images))  # "none": no augmentation in training either
    assert not torch.equal(shifted(images), shifted(images))


def test_the_default_augmentation_stays_the_random_crop():
    cfg = _encoder()
    assert (cfg.augment, cfg.crop) == ("crop", 0.9)
    preset = load_config(PRESET, PolicyExperimentConfig).model.encoder
    assert (preset.augment, preset.crop) == ("crop", 0.9)
    assert _encoder(crop=0.8).crop == 0.8
    # a checkpoint's stored encoder config (no augment key) means what it meant
    assert EncoderConfig(images=[CAMERA], crop=0.9).augment == "crop"


def test_shift_and_none_leave_the_crop_out():
    assert (_encoder(augment="shift").crop, _encoder(augment="shift").shift_pad) == (1.0, 4)
    assert _encoder(augment="none").crop == 1.0
    assert _encoder(augment="shift", crop=1.0, shift_pad=6).shift_pad == 6
    # on the command line, augment= replaces the preset's crop (and crop= its augment)
    cfg = load_config(PRESET, PolicyExperimentConfig, ["model.encoder.augment=shift"])
    assert (cfg.model.encoder.augment, cfg.model.encoder.crop) == ("shift", 1.0)
    shifted = {**BASE, "model": {"encoder": {"images": [CAMERA], "augment": "shift"}}}
    cfg = load_config(shifted, PolicyExperimentConfig, ["model.encoder.crop=0.8"])
    assert (cfg.model.encoder.augment, cfg.model.encoder.crop) == ("crop", 0.8)


@pytest.mark.parametrize(
    ("encoder", "message"),
    [
        (
            {"augment": "flip"},
            r"model.encoder.augment must be one of \('crop', 'shift', 'none'\), got 'flip'",
        ),
        ({"augment": "shift", "crop": 0.9}, r"model.encoder.crop=0.9 is the random crop of augment 'crop'"),
        ({"augment": "none", "crop": 0.5}, r"but augment is 'none'; leave crop out"),
        ({"augment": "shift", "shift_pad": 0}, r"model.encoder.shift_pad must be >= 1 pixel, got 0"),
        ({"crop": 0.0}, r"model.encoder.crop must be in \(0, 1\]"),
    ],
)
def test_bad_augmentation_settings_are_config_errors_naming_the_key(encoder, message):
    with pytest.raises(ConfigError, match=message):
        _encoder(**encoder)


def test_image_encoder_refuses_an_unknown_augmentation():
    with pytest.raises(ValueError, match="augment must be one of"):
        ImageEncoder("small", 4, 6, crop=1.0, augment="jitter")


def test_a_policy_model_built_with_augment_shift_shifts_its_images():
    from robo_flows.config import ModelConfig
    from robo_flows.data import Normalizer
    from robo_flows.policy import build_policy_model

    cfg = ModelConfig(
        kind="mse",
        hidden_features=(8,),
        encoder_hidden=(8,),
        context_features=4,
        obs_monitor=False,
        encoder=EncoderConfig(images=[CAMERA], image_net="small", augment="shift", shift_pad=3),
    )
    model = build_policy_model(
        cfg,
        obs_dim=2,
        act_dim=2,
        obs_horizon=1,
        action_horizon=2,
        obs_normalizer=Normalizer.fit(torch.randn(10, 2)),
        action_normalizer=Normalizer.fit(torch.randn(10, 2)),
        action_low=-torch.ones(2),
        action_high=torch.ones(2),
    )
    camera = model.encoder.cameras[CAMERA]
    assert (camera.augment, camera.shift_pad) == ("shift", 3)
