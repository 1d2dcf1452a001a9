"""C3D (Tran et al., ICCV 2015), in the paper's order and with its layer names.

    input 3×16×112×112
    conv1  64  → pool1 1×2×2  → 64×16×56×56
    conv2  128 → pool2 2×2×2  → 128×8×28×28
    conv3a 256, conv3b 256 → pool3 → 256×4×14×14
    conv4a 512, conv4b 512 → pool4 → 512×2×7×7
    conv5a 512, conv5b 512 → pool5 (padded 0×1×1) → 512×1×4×4 = 8192
    fc6 4096, fc7 4096 (ReLU + dropout), fc8 classes

All convolutions are 3×3×3 with padding 1. Parameter names match the common PyTorch port of the
Sports-1M weights (conv1.weight … fc8.bias). ReLUs are modules (relu1 … relu7) so their outputs can
be tapped by name; they hold no parameters, so the state dict is unchanged.

`batch_norm=True` adds a BatchNorm3d after each convolution (conv1 becomes conv1.0 convolution +
conv1.1 BatchNorm, and so on): a common variant that trains from scratch far faster. The `tiny`
preset uses it; the paper's C3D does not.

Published weights (`model.weights`: c3d.pickle): the Sports-1M C3D of the common PyTorch port, 487 classes. That
network saw frames resized to 128×171 and center-cropped to 112×112, values 0–255 in BGR order minus the
Sports-1M mean (B, G, R) = (90.25, 97.66, 101.41). The port's forward ends in softmax; ours returns the fc8
values before it, i.e. logits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from ..weights.formats.pytorch import read_torch_weights
from .registry import register
from .spec import Architecture, MinClip, WeightFormat
from .wrapper import Preprocessing

if TYPE_CHECKING:
    from ..config import DataConfig, ModelConfig

WIDTHS = {"conv1": 64, "conv2": 128, "conv3a": 256, "conv3b": 256, "conv4a": 512, "conv4b": 512,
          "conv5a": 512, "conv5b": 512}
PERCEPTUAL_LAYERS = ("relu1", "relu2", "relu3b", "relu4b", "relu5b")


def _pooled(n: int, pools: int, pad_last: bool) -> int:
    for _ in range(pools - 1):
        n //= 2
    return n // 2 + 1 if pad_last else n // 2


def c3d_feature_dim(channels: int, num_frames: int, height: int, width: int) -> int:
    """Size of flattened pool5: time pooled 4× (pool1 keeps time), space 5× with pool5 padded."""
    return channels * _pooled(num_frames, 4, False) * _pooled(height, 5, True) * _pooled(width, 5, True)


class C3D(nn.Module):
    """C3D; `groups` < 5 keeps only the first convolution groups (see `groups_for`), which needs
    `global_pool` (the classifier then reads the last group's maximum over time and space)."""

    def __init__(self, num_classes: int, width: float = 1.0, fc_dim: int = 4096, dropout: float = 0.5,
                 num_frames: int = 16, input_size: tuple[int, int] = (112, 112), batch_norm: bool = False,
                 global_pool: bool = False, groups: int = 5):
        super().__init__()
        if not 1 <= groups <= 5 or (groups < 5 and not global_pool):
            raise ValueError(f"groups must be in 1..5 (fewer than 5 with global_pool), got {groups}")
        ch = {name: max(1, round(c * width)) for name, c in WIDTHS.items()}

        def conv(cin: int, cout: int) -> nn.Module:
            layer = nn.Conv3d(cin, cout, kernel_size=3, padding=1)
            return nn.Sequential(layer, nn.BatchNorm3d(cout)) if batch_norm else layer

        self.groups = groups
        self.conv1, self.relu1 = conv(3, ch["conv1"]), nn.ReLU()
        self.pool1 = nn.MaxPool3d((1, 2, 2), (1, 2, 2))
        if groups >= 2:
            self.conv2, self.relu2 = conv(ch["conv1"], ch["conv2"]), nn.ReLU()
            self.pool2 = nn.MaxPool3d(2, 2)
        if groups >= 3:
            self.conv3a, self.relu3a = conv(ch["conv2"], ch["conv3a"]), nn.ReLU()
            self.conv3b, self.relu3b = conv(ch["conv3a"], ch["conv3b"]), nn.ReLU()
            self.pool3 = nn.MaxPool3d(2, 2)
        if groups >= 4:
            self.conv4a, self.relu4a = conv(ch["conv3b"], ch["conv4a"]), nn.ReLU()
            self.conv4b, self.relu4b = conv(ch["conv4a"], ch["conv4b"]), nn.ReLU()
            self.pool4 = nn.MaxPool3d(2, 2)
        if groups >= 5:
            self.conv5a, self.relu5a = conv(ch["conv4b"], ch["conv5a"]), nn.ReLU()
            self.conv5b, self.relu5b = conv(ch["conv5a"], ch["conv5b"]), nn.ReLU()
        # global_pool: pool5 takes the maximum over all of time and space, so fc6 sees what, not where: a small
        # C3D then learns small objects and two-frame events from a few hundred clips.
        self.pool5 = nn.AdaptiveMaxPool3d(1) if global_pool else nn.MaxPool3d(2, 2, padding=(0, 1, 1))
        self.flatten = nn.Flatten()
        last = ch[("conv1", "conv2", "conv3b", "conv4b", "conv5b")[groups - 1]]
        features = last if global_pool else c3d_feature_dim(last, num_frames, *input_size)
        self.fc6, self.relu6, self.drop6 = nn.Linear(features, fc_dim), nn.ReLU(), nn.Dropout(dropout)
        self.fc7, self.relu7, self.drop7 = nn.Linear(fc_dim, fc_dim), nn.ReLU(), nn.Dropout(dropout)
        self.fc8 = nn.Linear(fc_dim, num_classes)

    @property
    def perceptual_layers(self) -> tuple[str, ...]:
        """The layers the perceptual loss compares by default: the last ReLU of each group (the paper's conv1–
        conv5), and with `global_pool` also pool5, the maximum over time and space that fc6 reads — without
        it the generator matches where features are but not which are present, and a generator trained on
        a small C3D's groups alone fell below replication (docs/experiments/generator.md)."""
        names = ("relu1", "relu2", "relu3b", "relu4b", "relu5b")[: self.groups]
        return names + (("pool5",) if isinstance(self.pool5, nn.AdaptiveMaxPool3d) else ())

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        if self.groups >= 2:
            x = self.relu2(self.conv2(self.pool1(x)))
        if self.groups >= 3:
            x = self.relu3b(self.conv3b(self.relu3a(self.conv3a(self.pool2(x)))))
        if self.groups >= 4:
            x = self.relu4b(self.conv4b(self.relu4a(self.conv4a(self.pool3(x)))))
        if self.groups >= 5:
            x = self.relu5b(self.conv5b(self.relu5a(self.conv5a(self.pool4(x)))))
        x = self.drop6(self.relu6(self.fc6(self.flatten(self.pool5(x)))))
        x = self.drop7(self.relu7(self.fc7(x)))
        return self.fc8(x)


def groups_for(side: int) -> int:
    """The convolution groups worth keeping for frames `side` pixels wide: those whose input is at least
    7×7, as the paper's last group sees at 112 (C3D halves the side before every group after the first).
    112 keeps all five; the embedded benchmark's 32 keeps three — at 32×32 the full network's last two
    groups see 4×4 and 2×2 maps, where there is nothing left to see, and the deep, narrow network learns
    slowly and unevenly (docs/experiments/tiny-preset.md).

    >>> groups_for(112), groups_for(64), groups_for(32)
    (5, 4, 3)
    """
    groups, size = 1, side
    while groups < 5 and size // 2 >= 7:
        groups, size = groups + 1, size // 2
    return groups


# A C3D motionprobe trains from scratch sees [0, 1] RGB normalized around the middle of the range.
SCRATCH_PREPROCESSING = Preprocessing(mean=(0.45, 0.45, 0.45), std=(0.225, 0.225, 0.225))
SPORTS1M_MEAN_BGR = (90.25, 97.66, 101.41)
SPORTS1M_PREPROCESSING = Preprocessing(mean=SPORTS1M_MEAN_BGR, std=(1.0, 1.0, 1.0), value_scale=255.0,
                                       channel_order="bgr", crop=(112, 112), resize=(128, 171))
SPORTS1M_CLASSES = 487


def build_c3d(num_classes: int, m: ModelConfig, data: DataConfig) -> C3D:
    """C3D sized by the model section `m` for the data's clips: fc6 is sized for num_frames × crop_size² (pool5
    flattened)."""
    groups = groups_for(data.crop_size) if m.global_pool else 5
    return C3D(num_classes, width=m.width, fc_dim=m.fc_dim, dropout=m.dropout, num_frames=data.num_frames,
               input_size=(data.crop_size, data.crop_size), batch_norm=m.batch_norm, global_pool=m.global_pool,
               groups=groups)


# The paper's C3D halves time at pool2..pool5 (4 times) and space at pool1..pool4 before pool5's padded pooling:
# below 16 frames or a 16-pixel crop a pooling layer gets an empty input (at 8 frames fc6 would have 0 inputs).
# With model.global_pool, pool5 takes whatever is left and the network keeps the groups its crop allows.
MIN_CLIP = MinClip(frames=16, crop=16, time_pooling="C3D pools time 4 times", space_pooling="C3D pools space 5 times",
                   global_pool_lifts=True)

ARCHITECTURE = register(Architecture(
    name="c3d", build=build_c3d, head="fc8", perceptual_layers=PERCEPTUAL_LAYERS, scratch=SCRATCH_PREPROCESSING,
    weights=(WeightFormat(
        name="c3d-sports1m", description="the Sports-1M C3D of the common PyTorch port (c3d.pickle: conv1 … fc8)",
        read=read_torch_weights, preprocessing=SPORTS1M_PREPROCESSING, num_classes=SPORTS1M_CLASSES,
        hint="the Sports-1M C3D needs the full network on 16×112×112 clips (the paper preset: width 1, fc_dim 4096, "
             "crop_size 112, num_frames 16, no batch_norm)"),),
    min_clip=MIN_CLIP,
))
