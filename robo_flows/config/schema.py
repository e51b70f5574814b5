"""Every experiment configuration of robo_flows, with its defaults in this one place.

A policy experiment (``configs/<task>_<kind>.yaml``) is :class:`PolicyExperimentConfig`:
``data`` (which demos, how windowed), ``model`` (what is trained), ``sampling`` (how the trained model
acts: temperature, best-of, receding horizon), ``train`` (the optimisation).  A grasp experiment
(``configs/grasp_flow.yaml``) is :class:`GraspExperimentConfig`.  Each ``__post_init__`` checks its own
ranges and raises ``ConfigError`` naming the dotted key, what was expected and what came;
``robo_flows.config.loader`` fills these classes from YAML and overrides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from robo_flows.data.image_windows import split_keys
from robo_flows.data.normalizer import NORMALIZATION_MODES
from robo_flows.errors import ConfigError
from robo_flows.flows.build import FLOW_KINDS
from robo_flows.geometry.pose_flow import MAX_CHARTS

GRASP_ENCODERS: tuple[str, ...] = ("descriptor", "pointnet", "bps")
GRASP_VIEWS: tuple[str, ...] = ("full", "partial", "both")
MODEL_KINDS: tuple[str, ...] = ("flow", "mse", "gmm", "diffusion", "flow_matching")
DEFAULT_STEPS = 2000  # train.steps when neither train.steps nor train.epochs is set


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_positive_widths(section: str, name: str, widths: tuple[int, ...]) -> tuple[int, ...]:
    widths = tuple(int(w) for w in widths)
    _check(all(w >= 1 for w in widths), f"{section}.{name} must hold positive widths, got {widths!r}")
    return widths


def _check_flow_kind(flow_kind: str) -> None:
    _check(flow_kind in FLOW_KINDS, f"model.flow_kind must be one of {FLOW_KINDS}, got {flow_kind!r}")


def _check_finite_positive(key: str, value: float) -> None:
    _check(math.isfinite(value) and value > 0, f"{key} must be a finite number > 0, got {value!r}")


@dataclass
class DataConfig:
    """Which demonstrations to learn from and how they are windowed (see ``robo_flows.data.DemoDataset``).

    path:           demo file in the robomimic layout, or a LeRobot v3.0 folder (``meta/info.json``).
    obs_keys:       observation keys: the state keys are concatenated in this order, the image keys
                    (``*_image``) go to the encoder's cameras (``model.encoder.images``, the same list);
                    None = the file's ``env_args["obs_layout"]`` order, else its obs keys sorted (state only).
    obs_horizon:    past observations per window (the current one included).
    action_horizon: future actions per window (the action chunk).
    valid_fraction: fraction of episodes held out when the file has no ``mask/`` split.
    split_seed:     seed of that episode split.
    normalization:  "meanstd" (zero mean, unit std) or "minmax" (to [-1, 1]) per dimension.
    action_bounds:  the action box of the model.  "env": the env's ``action_space`` as written in the demo
                    file's ``env_args`` (a demo action outside it is an error); "data": that box widened to
                    cover every demo action.
    image_cache_mb: megabytes of decoded camera frames each process (and DataLoader worker) keeps per split
                    (an LRU cache); the frames themselves stay in the file.
    """

    path: str
    obs_keys: list[str] | None = None
    obs_horizon: int = 1
    action_horizon: int = 8
    valid_fraction: float = 0.1
    split_seed: int = 0
    normalization: str = "meanstd"
    action_bounds: Literal["env", "data"] = "env"
    image_cache_mb: float = 256.0

    def __post_init__(self) -> None:
        _check(self.obs_horizon >= 1, f"data.obs_horizon must be >= 1, got {self.obs_horizon}")
        _check(self.action_horizon >= 1, f"data.action_horizon must be >= 1, got {self.action_horizon}")
        _check(
            0.0 <= self.valid_fraction < 1.0,
            f"data.valid_fraction must be in [0, 1), got {self.valid_fraction}",
        )
        _check(
            math.isfinite(self.image_cache_mb) and self.image_cache_mb >= 0,
            f"data.image_cache_mb must be a finite number >= 0, got {self.image_cache_mb!r}",
        )
        _check(
            self.normalization in NORMALIZATION_MODES,
            f"data.normalization must be one of {NORMALIZATION_MODES}, got {self.normalization!r}",
        )


@dataclass
class UNetConfig:
    """The 1-D temporal U-Net of the ``diffusion`` and ``flow_matching`` kinds (``policy/unet1d.py``).

    down_dims:      channel widths of the levels; their number is the depth (``len - 1`` halvings of the
                    chunk, which is zero-padded to a multiple of ``2 ** (len - 1)``).  (64, 128) is the fast
                    CPU default; Diffusion Policy's own is (256, 512, 1024).
    kernel_size:    odd temporal kernel of the convolutions.
    n_groups:       GroupNorm groups (every width a multiple of it).
    time_embed_dim: width of the sinusoidal time embedding after its MLP (even).
    """

    down_dims: tuple[int, ...] = (64, 128)
    kernel_size: int = 5
    n_groups: int = 8
    time_embed_dim: int = 64

    def __post_init__(self) -> None:
        self.down_dims = _check_positive_widths("model.unet", "down_dims", self.down_dims)
        _check(len(self.down_dims) >= 1, "model.unet.down_dims must hold at least one width")
        _check(self.n_groups >= 1, f"model.unet.n_groups must be >= 1, got {self.n_groups!r}")
        _check(
            all(d % self.n_groups == 0 for d in self.down_dims),
            f"model.unet.down_dims must be multiples of n_groups={self.n_groups}, got {self.down_dims!r}",
        )
        _check(
            self.kernel_size >= 1 and self.kernel_size % 2 == 1,
            f"model.unet.kernel_size must be odd and >= 1, got {self.kernel_size!r}",
        )
        _check(
            self.time_embed_dim >= 2 and self.time_embed_dim % 2 == 0,
            f"model.unet.time_embed_dim must be even and >= 2, got {self.time_embed_dim!r}",
        )


@dataclass
class DiffusionConfig:
    """DDPM training and DDIM / DDPM sampling of the ``diffusion`` kind (diffusers' schedulers).

    train_timesteps: diffusion steps of training.
    beta_schedule:   diffusers' beta schedule name; "squaredcos_cap_v2" is the cosine schedule.
    prediction:      what the U-Net predicts: "epsilon" (the noise) or "sample" (the clean chunk).
    clip_sample:     clamp every predicted clean chunk into the normalized action box.
    inference:       "ddim" (deterministic, eta = 0) or "ddpm" (ancestral sampling).
    inference_steps: denoising steps at sampling time (<= train_timesteps).
    """

    train_timesteps: int = 100
    beta_schedule: Literal["squaredcos_cap_v2", "linear", "scaled_linear"] = "squaredcos_cap_v2"
    prediction: Literal["epsilon", "sample"] = "epsilon"
    clip_sample: bool = True
    inference: Literal["ddim", "ddpm"] = "ddim"
    inference_steps: int = 10

    def __post_init__(self) -> None:
        _check(
            self.train_timesteps >= 1,
            f"model.diffusion.train_timesteps must be >= 1, got {self.train_timesteps!r}",
        )
        _check(
            1 <= self.inference_steps <= self.train_timesteps,
            f"model.diffusion.inference_steps must be in [1, train_timesteps={self.train_timesteps}], "
            f"got {self.inference_steps!r}",
        )


@dataclass
class FlowMatchingConfig:
    """Sampling of the ``flow_matching`` kind.

    inference_steps: Euler steps from noise (t = 0) to the chunk (t = 1); 10 by default, 1 and 5 are options.
    """

    inference_steps: int = 10

    def __post_init__(self) -> None:
        _check(
            self.inference_steps >= 1,
            f"model.flow_matching.inference_steps must be >= 1, got {self.inference_steps!r}",
        )


IMAGE_NETS: tuple[str, ...] = ("resnet18", "small")
IMAGE_AUGMENTS: tuple[str, ...] = ("crop", "shift", "none")
DEFAULT_CROP = 0.9


@dataclass
class EncoderConfig:
    """The cameras of the observation encoder (``robo_flows.policy.encoders``); empty ``images``: state only.

    images:         image observation keys, one CNN each (e.g. [agentview_image, eye_in_hand_image]); when
                    ``data.obs_keys`` is given, its image keys must be these.
    image_net:      "resnet18" (ResNet-18 with GroupNorm) or "small" (a 4-layer conv stem, the CPU preset).
    keypoints:      spatial-softmax keypoints per camera (2 features each).
    image_features: width of each camera's linear projection of its keypoints.
    augment:        image augmentation in training (evaluation sees the image as it is, or its centre
                    crop): "crop" (random crops of ``crop`` of the side, robomimic's), "shift" (DrQ's random
                    shift: pad ``shift_pad`` pixels by edge replication, random crop back to the image size)
                    or "none".
    crop:           with augment "crop": side of the crop as a fraction of the image side, random crops in
                    training, the centre crop in evaluation (1.0 = no crop); unset: 0.9.  With "shift" or
                    "none" it must be unset (or 1.0) and becomes 1.0; on the command line ``augment=`` drops
                    the file's ``crop`` and ``crop=`` the file's ``augment``, unless both are given.
    shift_pad:      with augment "shift": the largest shift in pixels, each way (DrQ: 4 for 84 x 84 images).
    """

    images: list[str] = field(default_factory=list)
    image_net: str = "resnet18"
    keypoints: int = 32
    image_features: int = 64
    augment: str = field(default="crop", metadata={"alternative_to": "crop"})
    crop: float | None = field(default=None, metadata={"alternative_to": "augment"})
    shift_pad: int = 4

    def __post_init__(self) -> None:
        self.images = [str(k) for k in self.images]
        _check(
            len(set(self.images)) == len(self.images),
            f"model.encoder.images must not repeat a key, got {self.images!r}",
        )
        _check(
            self.image_net in IMAGE_NETS,
            f"model.encoder.image_net must be one of {IMAGE_NETS}, got {self.image_net!r}",
        )
        for name in ("keypoints", "image_features"):
            _check(
                getattr(self, name) >= 1, f"model.encoder.{name} must be >= 1, got {getattr(self, name)!r}"
            )
        _check(
            self.augment in IMAGE_AUGMENTS,
            f"model.encoder.augment must be one of {IMAGE_AUGMENTS}, got {self.augment!r}",
        )
        if self.crop is None:
            self.crop = DEFAULT_CROP if self.augment == "crop" else 1.0
        _check(
            math.isfinite(self.crop) and 0.0 < self.crop <= 1.0,
            f"model.encoder.crop must be in (0, 1], got {self.crop!r}",
        )
        _check(
            self.augment == "crop" or self.crop == 1.0,
            f"model.encoder.crop={self.crop!r} is the random crop of augment 'crop', but augment is "
            f"{self.augment!r}; leave crop out (or 1.0), or set augment: crop",
        )
        _check(
            self.shift_pad >= 1,
            f"model.encoder.shift_pad must be >= 1 pixel, got {self.shift_pad!r} (no shift: augment: none)",
        )


@dataclass
class ModelConfig:
    """Settings of the policy model (what is trained; how it samples is :class:`SamplingConfig`).

    kind:             "flow" (conditional normalizing flow over the action chunk), "mse" (deterministic
                      regression of the chunk), "gmm" (mixture density head with ``gmm_components``),
                      "diffusion" (DDPM-trained U-Net, Diffusion Policy) or "flow_matching" (rectified-flow
                      velocity U-Net); the last two have no density (docs/baselines.md).
    flow_kind:        which ``robo_flows.flows.build_flow`` kind the flow policy uses.  "realnvp" by
                      measurement (docs/policy.md): the splines of "nsf" are the identity beyond their tail
                      bound, where saturated (bounded-latent) actions land, and train 3x slower.
    flow_layers:      number of flow transforms.
    flow_linear:      mixing between flow layers: "permutation" (couplings alternate halves) or "lu" (a
                      learned LU-decomposed linear map, which mixes all chunk entries).
    hidden_features:  hidden widths of the flow conditioners, and of the mse / gmm heads.
    encoder_hidden:   hidden widths of the observation encoder MLP (obs_horizon x obs_dim -> context).
    context_features: width of the encoder output (the flow's context).
    gmm_components:   mixture components of the gmm head.
    obs_monitor:      also fit an unconditional flow to the training observations (``obs_log_prob``).
    monitor_layers:   flow transforms of that observation-density monitor.
    monitor_hidden:   conditioner widths of the monitor.
    monitor_steps:    gradient steps used to fit the monitor in ``fit_extra``.
    unet, diffusion, flow_matching: the backbone and the schedules of the ``diffusion`` and ``flow_matching``
                      kinds (ignored by the others).
    encoder:          the cameras the observation encoder sees (:class:`EncoderConfig`), for every kind.
    """

    kind: str = "flow"
    flow_kind: str = "realnvp"
    flow_layers: int = 4
    flow_linear: str = "permutation"
    hidden_features: tuple[int, ...] = (256, 256)
    encoder_hidden: tuple[int, ...] = (256, 256)
    context_features: int = 64
    gmm_components: int = 5
    obs_monitor: bool = True
    monitor_layers: int = 3
    monitor_hidden: tuple[int, ...] = (128, 128)
    monitor_steps: int = 500
    unet: UNetConfig = field(default_factory=UNetConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    flow_matching: FlowMatchingConfig = field(default_factory=FlowMatchingConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def __post_init__(self) -> None:
        _check(self.kind in MODEL_KINDS, f"model.kind must be one of {MODEL_KINDS}, got {self.kind!r}")
        _check_flow_kind(self.flow_kind)
        _check(
            self.flow_linear in ("permutation", "lu"),
            f"model.flow_linear must be 'permutation' or 'lu', got {self.flow_linear!r}",
        )
        for name in ("flow_layers", "context_features", "gmm_components", "monitor_layers"):
            value = getattr(self, name)
            _check(value >= 1, f"model.{name} must be >= 1, got {value!r}")
        _check(self.monitor_steps >= 0, f"model.monitor_steps must be >= 0, got {self.monitor_steps!r}")
        for name in ("hidden_features", "encoder_hidden", "monitor_hidden"):
            setattr(self, name, _check_positive_widths("model", name, getattr(self, name)))


@dataclass
class SamplingConfig:
    """How a trained policy acts (``FlowPolicy``); the evaluation may override each.

    temperature:    base-distribution temperature when sampling (flow: z ~ N(0, T^2 I); gmm: component
                    scales times T).  1.0 samples the learned density itself; 0.8 measured better on
                    Detour (docs/policy.md).  diffusion / flow_matching: the initial noise is N(0, T^2 I)
                    (1.0 = the trained model).  Ignored by mse.
    best_of:        sample this many chunks per observation and keep the one of highest log-density
                    (flow, gmm; the kinds without a density refuse best_of > 1).
    n_action_steps: receding horizon: actions of a chunk executed before replanning (<= action_horizon).
    """

    temperature: float = 0.8
    best_of: int = 1
    n_action_steps: int = 4

    def __post_init__(self) -> None:
        _check_finite_positive("sampling.temperature", self.temperature)
        _check(self.best_of >= 1, f"sampling.best_of must be >= 1, got {self.best_of!r}")
        _check(self.n_action_steps >= 1, f"sampling.n_action_steps must be >= 1, got {self.n_action_steps!r}")


@dataclass
class TrainConfig:
    """Optimisation settings of ``robo_flows.training.Trainer``.

    steps:            optimizer steps in total; or
    epochs:           the training length as passes over the training windows, for presets that must scale
                      with the data: ``steps = ceil(epochs * windows / batch_size)`` (:meth:`total_steps`).
                      Set one of the two (neither: ``steps = 2000``); an override of one replaces the
                      other's value from the file.
    batch_size:       global batch size (split evenly across processes under torchrun).
    lr, weight_decay: AdamW; the learning rate rises linearly over ``warmup_steps``, then a cosine to 0.
    ema_decay:        decay of the exponential moving average of the weights (0 = off); the EMA weights are
                      the ones validated and used by the saved policy.
    grad_clip:        maximum global gradient norm (0 = no clipping).
    valid_every, checkpoint_every, log_every: periods in steps (0 = only at the end).
    seed:             seeds torch, numpy, python random and the data order.
    device:           "cpu", "cuda", "cuda:N" or "auto" (cuda when available).
    num_workers:      DataLoader worker processes.
    select_by:        which checkpoint becomes ``best.pt``: "val_median" (the median over held-out demos of
                      each demo's mean loss; one odd demo cannot own it), "val_mean" (the mean over all
                      held-out windows) or "rollout_success" (success rate of ``eval_episodes`` rollouts in
                      the demo file's env every ``eval_every`` steps; ties go to the later step).
    eval_every:       rollout period in steps (0 = no rollouts); rollouts need the env named in the demo
                      file's ``env_args`` and the ``sim`` extra.
    eval_episodes:    episodes per rollout evaluation (seeds 2*10^8 + seed + i, apart from demos and eval).
    success_key:      where those rollouts read success: "auto" (info ``is_success``, else ``success``), an
                      info key, or "reward" (terminal reward > 0), as ``robo-flows eval --success-key``.
    threads:          torch intra-op CPU threads of the run: a count, or "auto" (the usable cores divided
                      by the processes of this machine). 1 by measurement (docs/training.md): the project's
                      models are small, and on a shared CPU more threads than free cores run much slower.
    """

    steps: int | None = field(default=None, metadata={"alternative_to": "epochs"})
    epochs: float | None = field(default=None, metadata={"alternative_to": "steps"})
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    valid_every: int = 200
    checkpoint_every: int = 500
    log_every: int = 50
    seed: int = 0
    device: str = "auto"
    num_workers: int = 0
    select_by: Literal["val_median", "val_mean", "rollout_success"] = "val_median"
    eval_every: int = 0
    eval_episodes: int = 10
    success_key: str = "auto"
    threads: int | Literal["auto"] = 1

    def __post_init__(self) -> None:
        _check(
            self.steps is None or self.epochs is None,
            f"train.steps={self.steps} and train.epochs={self.epochs} are alternatives: set one of them "
            "(the other null)",
        )
        if self.steps is None and self.epochs is None:
            self.steps = DEFAULT_STEPS
        if self.steps is not None:
            _check(self.steps >= 1, f"train.steps must be >= 1, got {self.steps}")
        else:
            _check(
                math.isfinite(self.epochs) and self.epochs > 0,
                f"train.epochs must be a finite number > 0, got {self.epochs}",
            )
        _check(self.eval_episodes >= 1, f"train.eval_episodes must be >= 1, got {self.eval_episodes}")
        _check(bool(self.success_key), "train.success_key must be 'auto', 'reward' or an info key, got ''")
        _check(
            self.select_by != "rollout_success" or self.eval_every > 0,
            "train.select_by=rollout_success needs train.eval_every > 0 (the rollout period in steps)",
        )
        _check(
            self.threads == "auto" or (isinstance(self.threads, int) and self.threads >= 1),
            f"train.threads must be an int >= 1 or 'auto', got {self.threads!r}",
        )
        _check(self.batch_size >= 1, f"train.batch_size must be >= 1, got {self.batch_size}")
        _check_finite_positive("train.lr", self.lr)
        _check(
            math.isfinite(self.weight_decay) and self.weight_decay >= 0,
            f"train.weight_decay must be a finite number >= 0, got {self.weight_decay}",
        )
        _check(self.warmup_steps >= 0, f"train.warmup_steps must be >= 0, got {self.warmup_steps}")
        _check(0.0 <= self.ema_decay < 1.0, f"train.ema_decay must be in [0, 1), got {self.ema_decay}")
        _check(
            math.isfinite(self.grad_clip) and self.grad_clip >= 0,
            f"train.grad_clip must be a finite number >= 0 (0 = no clipping), got {self.grad_clip}",
        )
        for name in ("valid_every", "checkpoint_every", "log_every", "num_workers", "eval_every"):
            _check(getattr(self, name) >= 0, f"train.{name} must be >= 0, got {getattr(self, name)}")
        _check(
            self.device in ("cpu", "cuda", "auto") or self.device.startswith("cuda:"),
            f"train.device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {self.device!r}",
        )

    def total_steps(self, windows: int) -> int:
        """Optimizer steps of the run on ``windows`` training windows: ``steps``, or
        ``ceil(epochs * windows / batch_size)`` (at least 1) when the length is given in epochs."""
        if self.steps is not None:
            return self.steps
        return max(1, math.ceil(self.epochs * windows / self.batch_size))


@dataclass
class PolicyExperimentConfig:
    """One policy experiment: the data, the model, its sampling and the optimisation (a preset)."""

    data: DataConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str | None = None

    def __post_init__(self) -> None:
        _check(
            self.sampling.n_action_steps <= self.data.action_horizon,
            f"sampling.n_action_steps={self.sampling.n_action_steps} exceeds "
            f"data.action_horizon={self.data.action_horizon}",
        )
        _check(
            self.data.obs_keys is not None or not self.model.encoder.images,
            f"model.encoder.images {self.model.encoder.images} need data.obs_keys: the state keys and "
            "those cameras the policy sees",
        )
        if self.data.obs_keys is not None:
            images = split_keys(self.data.obs_keys)[1]
            _check(
                images == self.model.encoder.images,
                f"data.obs_keys hold the image keys {images}, model.encoder.images are "
                f"{self.model.encoder.images}: list the same cameras in the same order in both",
            )


@dataclass
class GraspDataConfig:
    """Which grasps to learn from.

    path:           grasp file (``robo-flows grasps generate``).
    valid_fraction: fraction of the file's objects held out for validation.
    split_seed:     seed of that object split.
    success_only:   learn the distribution of sim-verified successful grasps only.
    view:           point clouds a point-cloud model learns from: "full" (surface samples), "partial"
                    (one depth camera's views), "both".  Unused by descriptor models.
    augment_yaw:    point-cloud models: turn each training item (cloud and grasp together) by a random
                    angle about the vertical z axis (the trial's lift axis, so outcomes are unchanged).
    """

    path: str
    valid_fraction: float = 0.1
    split_seed: int = 0
    success_only: bool = True
    view: str = "full"
    augment_yaw: bool = False

    def __post_init__(self) -> None:
        _check(
            0.0 <= self.valid_fraction < 1.0,
            f"data.valid_fraction must be in [0, 1), got {self.valid_fraction}",
        )
        _check(self.view in GRASP_VIEWS, f"data.view must be one of {GRASP_VIEWS}, got {self.view!r}")


@dataclass
class GraspModelConfig:
    """The PoseFlow over grasps (R, t) conditioned on the standardized object descriptor.

    flow_kind, layers, hidden_features: the Euclidean flow (``robo_flows.flows.build_flow``).
    charts:          chart centres of the rotation mixture (1..4).
    symmetric:       density on classes R ~ R·Rz(π) (the parallel-jaw symmetry).
    mixture_hidden:  hidden widths of the descriptor -> chart weights network.
    temperature:     latent temperature when sampling (1 = the learned density).
    encoder:         what conditions the flow: "descriptor" (the primitive's kind and dimensions) or
                     "pointnet" / "bps" (the object's point cloud through ``robo_flows.grasps.encoders``'
                     PointNetEncoder or BPSEncoder, a basis-point-set encoding).
    encoder_hidden:  widths of PointNet's shared point MLP, or of the MLP after the BPS distances; the last
                     is the context width.
    bps_points:      number of basis points of the "bps" encoder.
    """

    flow_kind: str = "realnvp"
    layers: int = 10
    hidden_features: tuple[int, ...] = (192, 192)
    charts: int = 4
    symmetric: bool = True
    mixture_hidden: tuple[int, ...] = (64,)
    temperature: float = 1.0
    encoder: str = "descriptor"
    encoder_hidden: tuple[int, ...] = (64, 128, 256)
    bps_points: int = 256

    def __post_init__(self) -> None:
        _check(
            self.encoder in GRASP_ENCODERS,
            f"model.encoder must be one of {GRASP_ENCODERS}, got {self.encoder!r}",
        )
        self.encoder_hidden = _check_positive_widths("model", "encoder_hidden", self.encoder_hidden)
        _check(self.bps_points >= 1, f"model.bps_points must be >= 1, got {self.bps_points}")
        _check(
            1 <= self.charts <= MAX_CHARTS, f"model.charts must be in [1, {MAX_CHARTS}], got {self.charts}"
        )
        _check(self.layers >= 1, f"model.layers must be >= 1, got {self.layers}")
        _check_flow_kind(self.flow_kind)
        _check_finite_positive("model.temperature", self.temperature)


@dataclass
class GraspExperimentConfig:
    """One grasp-flow experiment: data, model and optimisation."""

    data: GraspDataConfig
    model: GraspModelConfig = field(default_factory=GraspModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str | None = None
