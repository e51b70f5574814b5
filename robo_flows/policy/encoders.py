"""Observation encoders shared by every policy model kind: state MLP, per-camera CNN, one context.

A window of observations becomes the context ``c [B, C]`` the model kinds condition on::

    f_t^k = Linear(SpatialSoftmax(CNN_k(aug(x_t^k / 255 * 2 - 1))))     per camera k, step t  [F]
    c     = SiLU(MLP(flatten_t [normalize(s_t), f_t^1, ..., f_t^K]))                          [C]

with ``s_t`` the state parts (already normalized by the model), ``x_t^k`` camera ``k``'s uint8 image.
With no camera this is the state MLP alone (the parameters keep their names, ``net.*``).

* ``CNN``: ``image_net="resnet18"``, a ResNet-18 (conv 7x7/2, max-pool 3x3/2, four stages of two basic
  blocks, 64-128-256-512 channels, stride 2 from the second stage on) with GroupNorm of ``channels // 16``
  groups instead of BatchNorm (batch statistics break the independence of samples and do poorly with EMA
  weights, as in Diffusion Policy) and no pooling head; or ``image_net="small"``, a three-layer 3x3
  conv stem (16-32-32 channels, two stride-2 layers), the CPU preset.  Randomly initialised: nothing is
  downloaded.
* ``SpatialSoftmax`` (robomimic, Levine et al. 2016): a 1x1 conv to ``K`` keypoint maps ``a_k``, then for each
  ``softmax_{ij}(a_kij / tau)`` the expected image coordinates ``(E[x], E[y])`` in ``[-1, 1]``, ``2K``
  features; ``tau`` is learned.
* ``aug``, the image augmentation (``augment``; images only, the state is never augmented):

  - ``"crop"``: a random ``crop_h x crop_w`` window per image in training mode, the centred one in eval mode
    (``crop_h = round(crop * H)``); crop 1.0 disables it (robomimic's ``CropRandomizer``).
  - ``"shift"``: DrQ's random shift.  Each image is padded by ``p = shift_pad`` pixels on every side with
    its edge pixels replicated, then an ``H x W`` window at a uniform random integer offset
    ``(dy, dx) in {0, ..., 2p}^2`` is cut out: ``y[i, j] = x[clamp(i + dy - p), clamp(j + dx - p)]``, a
    translation by at most ``p`` pixels each way.  The identity in eval mode; the size never changes.
  - ``"none"``: the image as it is.

References: Kostrikov, Yarats, Fergus, "Image Augmentation Is All You Need: Regularizing Deep Reinforcement
Learning from Pixels" (DrQ), 2020 (arXiv:2004.13649); Mandlekar et al., "What Matters in Learning from
Offline Human Demonstrations for Robot Manipulation" (robomimic), 2021 (arXiv:2108.03298).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from robo_flows.config.schema import IMAGE_AUGMENTS, IMAGE_NETS
from robo_flows.policy.networks import mlp

STATE_KEY = "state"  # the state parts in a dict observation handed to a model


def crop_size(side: int, crop: float) -> int:
    """Side of the crop window of an image ``side`` pixels wide (at least 1)."""
    return max(1, min(side, round(side * crop)))


def crop_images(x: torch.Tensor, crop: float, random: bool) -> torch.Tensor:
    """Crops ``x [N, C, H, W]`` to ``[N, C, round(crop H), round(crop W)]``: each image at its own uniform
    random offset (``random``) or all at the centre."""
    n, _, h, w = x.shape
    ch, cw = crop_size(h, crop), crop_size(w, crop)
    if (ch, cw) == (h, w):
        return x
    if not random:
        top, left = (h - ch) // 2, (w - cw) // 2
        return x[:, :, top : top + ch, left : left + cw]
    return random_windows(x, ch, cw)


def random_windows(x: torch.Tensor, ch: int, cw: int) -> torch.Tensor:
    """A ``ch x cw`` window of each image of ``x [N, C, H, W]`` at its own uniform random integer offset."""
    n, _, h, w = x.shape
    top = torch.randint(0, h - ch + 1, (n, 1, 1), device=x.device)
    left = torch.randint(0, w - cw + 1, (n, 1, 1), device=x.device)
    rows = top + torch.arange(ch, device=x.device).view(1, ch, 1)  # [N, ch, 1]
    cols = left + torch.arange(cw, device=x.device).view(1, 1, cw)  # [N, 1, cw]
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return x.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)  # [N, C, ch, cw]


def shift_images(x: torch.Tensor, pad: int, random: bool) -> torch.Tensor:
    """DrQ's random shift of ``x [N, C, H, W]`` (float): each image edge-padded by ``pad`` pixels and cut back
    to ``H x W`` at its own random offset, a translation by at most ``pad`` pixels each way (module doc);
    ``x`` itself unless ``random``."""
    if not random or pad == 0:
        return x
    _, _, h, w = x.shape
    return random_windows(F.pad(x, (pad, pad, pad, pad), mode="replicate"), h, w)


def augment_images(
    x: torch.Tensor, augment: str, crop: float, shift_pad: int, training: bool
) -> torch.Tensor:
    """``x [N, C, H, W]`` after the encoder's image augmentation ``augment`` (module doc): random in training,
    the centre crop (``"crop"``) or the identity in evaluation."""
    if augment == "shift":
        return shift_images(x, shift_pad, random=training)
    if augment == "crop":
        return crop_images(x, crop, random=training)
    return x


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(max(1, channels // 16), channels)


class BasicBlock(nn.Module):
    """ResNet basic block: ``relu(x' + GN(conv(relu(GN(conv(x))))))``, ``x'`` a strided 1x1 projection when
    the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = _norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = _norm(cout)
        self.skip = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _norm(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.skip(x) + self.norm2(self.conv2(y)))


def resnet18_trunk() -> nn.Sequential:
    """ResNet-18 up to its last stage (512 channels, stride 32), GroupNorm throughout."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        _norm(64),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    cin = 64
    for i, cout in enumerate((64, 128, 256, 512)):
        layers += [BasicBlock(cin, cout, 1 if i == 0 else 2), BasicBlock(cout, cout, 1)]
        cin = cout
    return nn.Sequential(*layers)


SMALL_LAYERS = ((16, 2), (32, 2), (32, 1))  # (channels, stride) of the small stem's 3x3 convs


def small_trunk() -> nn.Sequential:
    """Three 3x3 convs (16-32-32 channels; stride 2, 2, 1) with GroupNorm and ReLU: stride 4, about 6M
    multiply-adds for a 76 x 76 crop (ResNet-18's trunk: about 0.6G)."""
    layers: list[nn.Module] = []
    cin = 3
    for cout, stride in SMALL_LAYERS:
        layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), _norm(cout), nn.ReLU()]
        cin = cout
    return nn.Sequential(*layers)


TRUNK_CHANNELS = {"resnet18": 512, "small": SMALL_LAYERS[-1][0]}


class SpatialSoftmax(nn.Module):
    """``[N, C, h, w] -> [N, 2K]``: the expected ``(x, y)`` in ``[-1, 1]`` of each of ``K`` keypoint maps."""

    def __init__(self, channels: int, keypoints: int) -> None:
        super().__init__()
        self.keypoints = int(keypoints)
        self.project = nn.Conv2d(channels, self.keypoints, 1)
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.project(x)  # [N, K, h, w]
        n, k, h, w = maps.shape
        weights = torch.softmax(maps.flatten(2) / self.log_temperature.exp(), dim=-1).view(n, k, h, w)
        ys = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype)
        xs = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype)
        ex = (weights.sum(dim=2) * xs).sum(dim=-1)  # [N, K]
        ey = (weights.sum(dim=3) * ys).sum(dim=-1)
        return torch.stack([ex, ey], dim=-1).flatten(1)


class ImageEncoder(nn.Module):
    """One camera: uint8 images ``[N, H, W, 3]`` -> features ``[N, features]`` (module doc)."""

    def __init__(
        self,
        image_net: str,
        keypoints: int,
        features: int,
        crop: float,
        augment: str = "crop",
        shift_pad: int = 4,
    ) -> None:
        super().__init__()
        if image_net not in IMAGE_NETS:
            raise ValueError(f"image_net must be one of {IMAGE_NETS}, got {image_net!r}")
        if augment not in IMAGE_AUGMENTS:
            raise ValueError(f"augment must be one of {IMAGE_AUGMENTS}, got {augment!r}")
        if int(shift_pad) < 0:
            raise ValueError(f"shift_pad must be >= 0 pixels, got {shift_pad!r}")
        self.crop = float(crop)
        self.augment = augment
        self.shift_pad = int(shift_pad)
        self.trunk = resnet18_trunk() if image_net == "resnet18" else small_trunk()
        self.keypoints = SpatialSoftmax(TRUNK_CHANNELS[image_net], keypoints)
        self.out = nn.Linear(2 * keypoints, features)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.permute(0, 3, 1, 2).to(self.out.weight.dtype) * (2.0 / 255.0) - 1.0
        x = augment_images(x, self.augment, self.crop, self.shift_pad, self.training)
        return self.out(self.keypoints(self.trunk(x)))


class ObservationEncoder(nn.Module):
    r"""A window of normalized state ``[B, obs_horizon, obs_dim]`` and, per camera, uint8 images
    ``[B, obs_horizon, H, W, 3]`` -> the context ``[B, context_features]`` (module doc).

    ``images`` names the cameras (none: the state MLP alone).  The final SiLU keeps the context a nonlinear
    feature, as the flow conditioners expect.
    """

    def __init__(
        self,
        obs_dim: int,
        obs_horizon: int,
        hidden: Sequence[int],
        context_features: int,
        *,
        images: Sequence[str] = (),
        image_net: str = "resnet18",
        keypoints: int = 32,
        image_features: int = 64,
        crop: float = 1.0,
        augment: str = "crop",
        shift_pad: int = 4,
    ) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.obs_horizon = int(obs_horizon)
        self.image_keys = list(images)
        if self.image_keys:
            self.cameras = nn.ModuleDict(
                {
                    k: ImageEncoder(image_net, keypoints, image_features, crop, augment, shift_pad)
                    for k in self.image_keys
                }
            )
        step_features = self.obs_dim + len(self.image_keys) * int(image_features)
        self.net = nn.Sequential(mlp(step_features * self.obs_horizon, hidden, context_features), nn.SiLU())

    def forward(self, state: torch.Tensor, images: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        parts = [state]
        for key in self.image_keys:
            frames = images[key]  # [B, T, H, W, 3]
            b, t = frames.shape[:2]
            parts.append(self.cameras[key](frames.reshape(b * t, *frames.shape[2:])).view(b, t, -1))
        return self.net(torch.cat(parts, dim=-1).flatten(start_dim=-2))
