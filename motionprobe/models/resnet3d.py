"""Video ResNets of Tran et al. (CVPR 2018, "A Closer Look at Spatiotemporal Convolutions").

Three 18-layer networks that differ only in how a 3×3×3 convolution is made:

    r3d_18       every block uses full 3D convolutions (t×d×d = 3×3×3)
    mc3_18       "mixed convolutions": 3D in layer1, 2D (1×3×3) in layer2..layer4
    r2plus1d_18  every 3×3×3 is factored into a spatial 1×3×3 then a temporal 3×1×1 convolution

    input 3×T×112×112
    stem    64, spatial stride 2           → 64×T×56×56
    layer1  2 blocks at 64                 → 64×T×56×56
    layer2  2 blocks at 128, stride 2      → 128×T/2×28×28   (mc3_18 keeps T: its 2D convs cannot stride time)
    layer3  2 blocks at 256, stride 2      → 256×T/4×14×14
    layer4  2 blocks at 512, stride 2      → 512×T/8×7×7
    avgpool → fc classes

Parameter and buffer names are those of `torchvision.models.video` (stem.0.weight, stem.1.running_mean,
layer1.0.conv1.0.weight, layer2.0.downsample.0.weight, fc.weight …), so a state dict saved from torchvision
loads unchanged. Two differences that do not touch the state dict: ReLUs are not in-place and the residual
sum makes a new tensor, so a feature tapped by name (e.g. `layer1.0.conv2`) is the value that layer
produced, not one overwritten later in the same forward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from torch import Tensor, nn

from ..weights.formats.pytorch import read_torch_weights
from .registry import register
from .spec import Architecture, WeightFormat
from .wrapper import Preprocessing

if TYPE_CHECKING:
    from ..config import DataConfig, ModelConfig

# The Kinetics-400 normalization the torchvision weights were trained with (RGB, [0, 1] values).
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)
KINETICS_PREPROCESSING = Preprocessing(mean=KINETICS_MEAN, std=KINETICS_STD, crop=(112, 112), resize=(128, 171))
KINETICS_CLASSES = 400
PERCEPTUAL_LAYERS = ("stem", "layer1", "layer2", "layer3", "layer4")
STAGE_WIDTHS = (64, 128, 256, 512)
R2PLUS1D_STEM_MID = 45  # the R(2+1)D stem's spatial convolution has 45 filters (torchvision's choice)


class Conv3DSimple(nn.Conv3d):
    """A full 3×3×3 convolution; strides time and space alike."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int | None = None, stride: int = 1):
        super().__init__(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)

    @staticmethod
    def downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class Conv3DNoTemporal(nn.Conv3d):
    """A 2D convolution applied frame by frame (1×3×3); time is never strided."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int | None = None, stride: int = 1):
        super().__init__(in_planes, out_planes, kernel_size=(1, 3, 3), stride=(1, stride, stride),
                         padding=(0, 1, 1), bias=False)

    @staticmethod
    def downsample_stride(stride: int) -> tuple[int, int, int]:
        return 1, stride, stride


class Conv2Plus1D(nn.Sequential):
    """A 3×3×3 convolution factored as spatial 1×3×3 → BN → ReLU → temporal 3×1×1 (indices 0, 1, 2, 3)."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int, stride: int = 1):
        super().__init__(
            nn.Conv3d(in_planes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1),
                      bias=False),
            nn.BatchNorm3d(midplanes),
            nn.ReLU(),
            nn.Conv3d(midplanes, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0),
                      bias=False),
        )

    @staticmethod
    def downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


ConvBuilder = type[Conv3DSimple] | type[Conv3DNoTemporal] | type[Conv2Plus1D]


def midplanes(inplanes: int, planes: int) -> int:
    """Filters between the spatial and temporal halves of a (2+1)D convolution, chosen so that it has
    about as many parameters as the 3×3×3 convolution it replaces: floor(27·Nin·N / (9·Nin + 3·N)).

    Both convolutions of a block use the value computed from the block's first one, e.g. the first
    block of layer2 (64 → 128): 27·64·128 // (9·64 + 3·128) = 221184 // 960 = 230, for conv1 and conv2.
    """
    return (inplanes * planes * 27) // (inplanes * 9 + 3 * planes)


class BasicBlock(nn.Module):
    """Two convolutions (conv1 = conv, BN, ReLU; conv2 = conv, BN), a residual sum and a ReLU."""

    def __init__(self, inplanes: int, planes: int, conv_builder: ConvBuilder, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        mid = midplanes(inplanes, planes)
        self.conv1 = nn.Sequential(conv_builder(inplanes, planes, mid, stride), nn.BatchNorm3d(planes), nn.ReLU())
        self.conv2 = nn.Sequential(conv_builder(planes, planes, mid), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + shortcut)


class BasicStem(nn.Sequential):
    """Conv 3×7×7 (spatial stride 2) → BN → ReLU."""

    def __init__(self, planes: int = 64):
        super().__init__(
            nn.Conv3d(3, planes, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(planes),
            nn.ReLU(),
        )


class R2Plus1dStem(nn.Sequential):
    """Spatial conv 1×7×7 (stride 2) → BN → ReLU → temporal conv 3×1×1 → BN → ReLU."""

    def __init__(self, planes: int = 64, mid: int = R2PLUS1D_STEM_MID):
        super().__init__(
            nn.Conv3d(3, mid, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(mid),
            nn.ReLU(),
            nn.Conv3d(mid, planes, kernel_size=(3, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(planes),
            nn.ReLU(),
        )


class VideoResNet(nn.Module):
    """stem → layer1..layer4 (two BasicBlocks each) → global average pool → fc."""

    def __init__(self, stem: nn.Module, conv_builders: tuple[ConvBuilder, ...], num_classes: int,
                 widths: tuple[int, ...] = STAGE_WIDTHS, blocks_per_stage: int = 2):
        super().__init__()
        self.stem = stem
        inplanes = widths[0]
        for i, (builder, planes) in enumerate(zip(conv_builders, widths, strict=True)):
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != planes:
                downsample = nn.Sequential(
                    nn.Conv3d(inplanes, planes, kernel_size=1, stride=builder.downsample_stride(stride), bias=False),
                    nn.BatchNorm3d(planes))
            blocks = [BasicBlock(inplanes, planes, builder, stride, downsample)]
            blocks += [BasicBlock(planes, planes, builder) for _ in range(blocks_per_stage - 1)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(inplanes, num_classes)
        self._initialize()

    def _initialize(self) -> None:
        # The initialisation torchvision uses, so training from scratch behaves like the reference.
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def r3d_18(num_classes: int = 400, width: float = 1.0) -> VideoResNet:
    widths = tuple(_scaled(c, width) for c in STAGE_WIDTHS)
    return VideoResNet(BasicStem(widths[0]), (Conv3DSimple,) * 4, num_classes, widths)


def mc3_18(num_classes: int = 400, width: float = 1.0) -> VideoResNet:
    widths = tuple(_scaled(c, width) for c in STAGE_WIDTHS)
    return VideoResNet(BasicStem(widths[0]), (Conv3DSimple,) + (Conv3DNoTemporal,) * 3, num_classes, widths)


def r2plus1d_18(num_classes: int = 400, width: float = 1.0) -> VideoResNet:
    widths = tuple(_scaled(c, width) for c in STAGE_WIDTHS)
    stem = R2Plus1dStem(widths[0], _scaled(R2PLUS1D_STEM_MID, width))
    return VideoResNet(stem, (Conv2Plus1D,) * 4, num_classes, widths)


NETWORKS: dict[str, Callable[..., VideoResNet]] = {"r3d_18": r3d_18, "mc3_18": mc3_18, "r2plus1d_18": r2plus1d_18}


def _builder(arch: str) -> Callable[[int, ModelConfig, DataConfig], VideoResNet]:
    def build(num_classes: int, m: ModelConfig, data: DataConfig) -> VideoResNet:
        """`m.width` scales every stage (1.0 = the published network); any clip size fits."""
        return NETWORKS[arch](num_classes, width=m.width)

    build.__name__ = f"build_{arch}"
    return build


TORCHVISION_KINETICS = WeightFormat(
    name="torchvision", description="a torchvision.models.video state dict (the Kinetics-400 weights)",
    read=read_torch_weights, preprocessing=KINETICS_PREPROCESSING, num_classes=KINETICS_CLASSES)
# From scratch, too, the ResNets normalize with the Kinetics-400 statistics (as torchvision's video training recipe does).
ARCHITECTURES = tuple(
    register(Architecture(name=arch, build=_builder(arch), head="fc", perceptual_layers=PERCEPTUAL_LAYERS,
                          scratch=Preprocessing(mean=KINETICS_MEAN, std=KINETICS_STD), weights=(TORCHVISION_KINETICS,)))
    for arch in NETWORKS)
