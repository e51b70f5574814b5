"""Observation encoders: CNN shapes and gradients, spatial-softmax keypoints, crops only in training, every
model kind on images, Dict observations in the policy (single and batched) and their refusals naming the key,
checkpoints that rebuild the encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from policy_toys import ACT_DIM, LAYOUT, TOY_BOX, toy_episodes

from robo_flows.config import ModelConfig
from robo_flows.config.schema import EncoderConfig
from robo_flows.data import DemoDataset, write_demo_file
from robo_flows.errors import ConfigError
from robo_flows.policy import FlowPolicy, build_policy_model
from robo_flows.policy.encoders import ImageEncoder, ObservationEncoder, SpatialSoftmax, crop_images

SIDE = 16
CAMERA = "top_image"
KEYS = ["pos", "vel", CAMERA]


def _drawn(episode: dict) -> dict:
    """The episode with a camera image: a white 3x3 square at the position (goal side unseen otherwise)."""
    pos = episode["obs"]["pos"]
    images = np.zeros((len(pos), SIDE, SIDE, 3), np.uint8)
    for t, (x, y) in enumerate(pos):
        r = int(np.clip((y + 1) / 2 * (SIDE - 3), 0, SIDE - 3))
        c = int(np.clip(x / 1.2 * (SIDE - 3), 0, SIDE - 3))
        images[t, r : r + 3, c : c + 3] = 255
    return {**episode, "obs": {**episode["obs"], CAMERA: images}}


@pytest.fixture(scope="module")
def image_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("images") / "toy_images.hdf5"
    env_args = {"env_name": "Toy-v0", "env_kwargs": {}, "obs_layout": LAYOUT, **TOY_BOX}
    return write_demo_file(path, [_drawn(e) for e in toy_episodes(8)], env_args=env_args)


def _model(image_file, kind: str = "flow", obs_horizon: int = 2, image_net: str = "small"):
    torch.manual_seed(0)
    data = DemoDataset(image_file, KEYS, obs_horizon=obs_horizon, action_horizon=4, split="all")
    obs_norm, act_norm = data.fit_normalizers()
    cfg = ModelConfig(
        kind=kind,
        flow_layers=2,
        hidden_features=(32,),
        encoder_hidden=(32,),
        context_features=8,
        monitor_steps=5,
        encoder=EncoderConfig(images=[CAMERA], image_net=image_net, keypoints=4, image_features=6),
    )
    model = build_policy_model(
        cfg,
        obs_dim=data.obs_dim,
        act_dim=data.act_dim,
        obs_horizon=obs_horizon,
        action_horizon=4,
        obs_normalizer=obs_norm,
        action_normalizer=act_norm,
        action_low=-torch.ones(ACT_DIM),
        action_high=torch.ones(ACT_DIM),
    )
    return model, data


@pytest.mark.parametrize("image_net", ["small", "resnet18"])
def test_image_encoder_output_shape_and_gradient(image_net):
    torch.manual_seed(0)
    encoder = ImageEncoder(image_net, keypoints=8, features=10, crop=0.9)
    images = torch.randint(0, 256, (3, 40, 36, 3), dtype=torch.uint8)
    out = encoder(images)
    assert out.shape == (3, 10) and torch.isfinite(out).all()
    out.square().sum().backward()
    first_conv = encoder.trunk[0].weight
    assert first_conv.grad is not None and first_conv.grad.abs().sum() > 0
    assert all(p.grad is not None for p in encoder.parameters())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in encoder.modules())
    assert any(isinstance(m, torch.nn.GroupNorm) for m in encoder.modules())


def test_resnet18_has_the_resnet18_shape():
    trunk = ImageEncoder("resnet18", 32, 64, 1.0).trunk
    convs = [m for m in trunk.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1)]
    assert len(convs) == 17  # the stem and 16 convs of 8 basic blocks (+ 3 projections) = ResNet-18's 17 + fc
    assert trunk(torch.zeros(1, 3, 64, 64)).shape == (1, 512, 2, 2)


def test_spatial_softmax_finds_a_peak():
    keypoints = SpatialSoftmax(channels=1, keypoints=1)
    with torch.no_grad():
        keypoints.project.weight.fill_(1.0)
        keypoints.project.bias.zero_()
        keypoints.log_temperature.fill_(-3.0)  # sharp
    maps = torch.zeros(1, 1, 5, 9)
    maps[0, 0, 4, 0] = 10.0  # bottom-left corner: x = -1, y = +1
    xy = keypoints(maps)[0]
    assert xy.tolist() == pytest.approx([-1.0, 1.0], abs=1e-3)


def test_crop_is_random_in_training_and_central_in_evaluation():
    torch.manual_seed(0)
    x = torch.arange(2 * 3 * 10 * 10, dtype=torch.float32).view(2, 3, 10, 10)
    centre = crop_images(x, 0.8, random=False)
    assert torch.equal(centre, x[:, :, 1:9, 1:9])
    random = [crop_images(x, 0.8, random=True) for _ in range(20)]
    assert all(r.shape == (2, 3, 8, 8) for r in random)
    assert any(not torch.equal(r, centre) for r in random)
    for r in random:  # every random crop is a window of its own image, all channels alike
        top, left = divmod(int(r[0, 0, 0, 0].item()), 10)
        assert torch.equal(r[0], x[0, :, top : top + 8, left : left + 8])
    encoder = ImageEncoder("small", 4, 6, crop=0.8)
    images = torch.randint(0, 256, (4, 20, 20, 3), dtype=torch.uint8)
    encoder.eval()
    assert torch.equal(encoder(images), encoder(images))  # evaluation: the same centre crop every time
    encoder.train()
    assert not torch.equal(encoder(images), encoder(images))  # training: new random crops


def test_state_only_encoder_keeps_its_parameter_names():
    names = set(ObservationEncoder(6, 2, (32,), 8).state_dict())
    assert names == {"net.0.0.weight", "net.0.0.bias", "net.0.2.weight", "net.0.2.bias"}


@pytest.mark.parametrize("kind", ["flow", "mse", "gmm", "diffusion", "flow_matching"])
def test_every_model_kind_trains_and_samples_on_images(image_file, kind):
    model, data = _model(image_file, kind)
    batch = torch.utils.data.default_collate(data.__getitems__(list(range(16))))
    assert batch["obs"][CAMERA].dtype == torch.uint8 and batch["obs"][CAMERA].shape == (16, 2, SIDE, SIDE, 3)
    cnn = model.encoder.cameras[CAMERA].trunk[0].weight
    before = cnn.detach().clone()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for _ in range(3):  # a few steps: some kinds start with a zero output layer (no gradient at step 0)
        loss = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.isfinite(loss) and cnn.grad is not None
    assert not torch.equal(cnn.detach(), before)  # the loss trains the camera's CNN
    model.eval()
    chunk = model.sample_chunk(batch["obs"])
    assert chunk.shape == (16, 4, ACT_DIM)
    with pytest.raises(ValueError, match="obs must be a dict"):
        model.sample_chunk(batch["obs"]["state"])


def _dict_obs(data: DemoDataset, n: int | None = None) -> dict:
    rng = np.random.default_rng(0)
    shape = () if n is None else (n,)
    return {
        "pos": rng.normal(size=(*shape, 2)).astype(np.float32),
        "vel": rng.normal(size=(*shape, 2)).astype(np.float32),
        "goal": rng.normal(size=(*shape, 2)).astype(np.float32),
        CAMERA: rng.integers(0, 256, (*shape, SIDE, SIDE, 3), dtype=np.uint8),
    }


def _policy(model, data) -> FlowPolicy:
    return FlowPolicy(model, data.obs_keys, {"obs_layout": LAYOUT}, image_shapes=data.image_shapes)


def test_policy_acts_on_single_and_batched_dict_observations(image_file):
    model, data = _model(image_file)
    policy = _policy(model, data)
    assert policy.select_action(_dict_obs(data)).shape == (ACT_DIM,)
    policy.reset()
    for _ in range(5):  # replans every n_action_steps from windows of images and state
        assert policy.select_action(_dict_obs(data, 3)).shape == (3, ACT_DIM)
    assert policy.predict_action_chunk(_dict_obs(data, 2)).shape == (2, 4, ACT_DIM)
    assert np.isfinite(policy.obs_log_prob(_dict_obs(data)))  # the monitor runs on the state parts


def test_policy_image_windows_hold_the_past_frames(image_file):
    model, data = _model(image_file)
    policy = _policy(model, data)
    first, second = _dict_obs(data, 2), _dict_obs(data, 2)
    second[CAMERA] = 255 - first[CAMERA]
    policy.select_action(first)
    policy.select_action(second)
    window = policy.windows[CAMERA]._history
    assert window.dtype == np.uint8 and window.shape == (2, 2, SIDE, SIDE, 3)
    assert np.array_equal(window[:, 0], first[CAMERA]) and np.array_equal(window[:, 1], second[CAMERA])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o.pop(CAMERA), r"lacks keys \['top_image'\]"),
        (lambda o: o.update({CAMERA: o[CAMERA].astype(np.float32)}), "'top_image' must be a uint8 image"),
        (lambda o: o.update({CAMERA: o[CAMERA][:8]}), r"'top_image' must have shape \[16, 16, 3\]"),
        (lambda o: o.update({CAMERA: o[CAMERA][..., 0]}), r"'top_image' must have shape \[16, 16, 3\]"),
        (lambda o: o.update({"vel": np.zeros(3, np.float32)}), "'vel' has 3 values per step"),
        (lambda o: o.update({"pos": np.array([np.nan, 0.0])}), "'pos' holds NaN"),
        (lambda o: o.update({"pos": np.array(["a", "b"])}), "'pos' must hold real numbers"),
    ],
)
def test_wrong_dict_observations_are_refused_naming_the_key(image_file, change, message):
    model, data = _model(image_file)
    policy = _policy(model, data)
    obs = _dict_obs(data)
    change(obs)
    with pytest.raises(ValueError, match=message):
        policy.select_action(obs)


def test_batched_dict_with_a_wrong_image_batch_is_refused(image_file):
    model, data = _model(image_file)
    obs = _dict_obs(data, 3)
    obs[CAMERA] = obs[CAMERA][:2]
    with pytest.raises(ValueError, match=r"'top_image' must have shape \[3, 16, 16, 3\]"):
        _policy(model, data).select_action(obs)
    with pytest.raises(ValueError, match="pass the Dict observation"):
        _policy(model, data).select_action(np.zeros(6, np.float32))


def test_config_cameras_must_match_the_image_obs_keys():
    from robo_flows.config import PolicyExperimentConfig, load_config

    base = {
        "data": {"path": "x.hdf5", "obs_keys": ["pos", CAMERA]},
        "model": {"encoder": {"images": [CAMERA]}},
    }
    cfg = load_config(base, PolicyExperimentConfig)
    assert cfg.model.encoder.images == [CAMERA]
    with pytest.raises(ConfigError, match="list the same cameras"):
        load_config({**base, "model": {"encoder": {"images": []}}}, PolicyExperimentConfig)
    with pytest.raises(ConfigError, match="need data.obs_keys"):
        load_config({"data": {"path": "x.hdf5"}, "model": base["model"]}, PolicyExperimentConfig)
    with pytest.raises(ConfigError, match="model.encoder.image_net must be one of"):
        load_config(
            {**base, "model": {"encoder": {"images": [CAMERA], "image_net": "vgg"}}}, PolicyExperimentConfig
        )
    with pytest.raises(ConfigError, match=r"model.encoder.crop must be in \(0, 1\]"):
        load_config({**base, "model": {"encoder": {"images": [CAMERA], "crop": 1.5}}}, PolicyExperimentConfig)
