"""FLOPs of a feed-forward network counted from its layer shapes, without running it.

Rule: a multiply-add is 2 FLOPs, and only convolutions and linear layers are counted (bias adds, ReLU,
pooling, normalization and padding are elementwise: for C3D they add ~0.1%, and every peak FLOP/s a
chip is sold with counts matrix math only). Per sample (no batch dimension):

    Conv (N-d)         2 · Cin/groups · prod(kernel) · Cout · prod(output size)
    ConvTranspose      2 · Cin · prod(kernel) · Cout/groups · prod(input size)
    Linear             2 · in_features · out_features

Output sizes follow the usual arithmetic, floor((n + 2·pad − dilation·(kernel − 1) − 1) / stride) + 1
for convolutions and pools, (n − 1)·stride − 2·pad + dilation·(kernel − 1) + output_padding + 1 for
transposed convolutions. Leaves are walked in registration order, which is the forward order of
C3D and of the CycleGAN generator (a residual block keeps its input's shape, so the walk holds).

Worked example, C3D's conv1 on a 3×16×112×112 clip: 2 · 3 · 27 · 64 · (16·112·112) = 2.08 GFLOP.
The whole C3D (101 classes) is 77.1 GFLOP per clip — the "38.5 GFLOPs" often quoted for C3D counts
multiply-adds. `torch.utils.flop_counter.FlopCounterMode`, which counts the dispatched matrix ops of a
real forward, gives the same totals (checked by `cross_check` and printed by the benchmark).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

_SHAPE_ONLY = (nn.ReLU, nn.Dropout, nn.Identity, nn.Tanh, nn.Sigmoid, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
               nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm)


@dataclass
class FlopCount:
    """Total FLOPs per sample and the share of each counted layer."""

    total: int = 0
    layers: dict[str, int] = field(default_factory=dict)
    output_shape: tuple[int, ...] = ()


def _tuple(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _window(size: Sequence[int], kernel, stride, padding, dilation) -> tuple[int, ...]:
    n = len(size)
    kernel, stride, padding, dilation = (_tuple(v, n) for v in (kernel, stride, padding, dilation))
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, st, p, d in zip(size, kernel, stride, padding, dilation, strict=True))


def count_flops(module: nn.Module, input_shape: Sequence[int]) -> FlopCount:
    """FLOPs per sample of `module` on an input shaped `input_shape` (channels first, no batch dimension).

    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    >>> count_flops(net, (3, 4, 4)).total  # 2·3·9·8·(4·4) + 2·128·10
    9472
    """
    shape = tuple(int(s) for s in input_shape)
    count = FlopCount()
    for name, leaf in module.named_modules():
        if any(True for _ in leaf.children()):
            continue
        channels, size = shape[0], shape[1:]
        if isinstance(leaf, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            out = _window(size, leaf.kernel_size, leaf.stride, leaf.padding, leaf.dilation)
            flops = 2 * channels // leaf.groups * math.prod(leaf.kernel_size) * leaf.out_channels * math.prod(out)
            shape = (leaf.out_channels, *out)
        elif isinstance(leaf, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
            out = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, k, st, p, d, op in
                        zip(size, leaf.kernel_size, leaf.stride, leaf.padding, leaf.dilation, leaf.output_padding,
                            strict=True))
            flops = 2 * channels * math.prod(leaf.kernel_size) * leaf.out_channels // leaf.groups * math.prod(size)
            shape = (leaf.out_channels, *out)
        elif isinstance(leaf, nn.Linear):
            if shape[-1] != leaf.in_features:
                raise ValueError(f"{name}: expects {leaf.in_features} features, the walk reached shape {shape}")
            flops = 2 * leaf.in_features * leaf.out_features * math.prod(shape[:-1])
            shape = (*shape[:-1], leaf.out_features)
        elif isinstance(leaf, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
            dilation = getattr(leaf, "dilation", 1)
            shape = (channels, *_window(size, leaf.kernel_size, leaf.stride or leaf.kernel_size, leaf.padding, dilation))
            continue
        elif isinstance(leaf, (nn.AdaptiveAvgPool3d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool3d, nn.AdaptiveMaxPool2d)):
            target = _tuple(leaf.output_size, len(size))
            shape = (channels, *(s if t is None else t for s, t in zip(size, target, strict=True)))
            continue
        elif isinstance(leaf, (nn.ReflectionPad2d, nn.ReplicationPad2d, nn.ZeroPad2d, nn.ConstantPad2d,
                               nn.ReflectionPad3d, nn.ReplicationPad3d, nn.ConstantPad3d)):
            pad = leaf.padding  # (left, right, top, bottom[, front, back]): last dimension first
            grown = list(size)
            for i in range(len(pad) // 2):
                grown[-1 - i] += pad[2 * i] + pad[2 * i + 1]
            shape = (channels, *grown)
            continue
        elif isinstance(leaf, nn.Flatten):
            shape = (math.prod(shape),)
            continue
        elif isinstance(leaf, _SHAPE_ONLY):
            continue
        else:
            raise ValueError(f"{name}: cannot count a {type(leaf).__name__} from shapes")
        count.layers[name] = flops
        count.total += flops
    count.output_shape = shape
    return count


def counted_by_torch(fn, *inputs: torch.Tensor, inference: bool = True) -> int:
    """FLOPs torch's FlopCounterMode counts for one call of `fn(*inputs)` (whole batch); with `inference=False`
    the call runs with autograd, so a training step's backward pass is counted too."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode(inference):
        fn(*inputs)
    return int(counter.get_total_flops())


def paper_models(num_classes: int = 101) -> tuple[nn.Module, nn.Module]:
    """The paper preset's C3D (as the analysis runs it) and its temporal generator (k = 4; every k costs
    the same: the generator always sees all 16 frame slots, 48 channels)."""
    from motionprobe.config import preset
    from motionprobe.generator import build_generator
    from motionprobe.models.registry import build_model

    cfg = preset("paper")
    model = build_model(cfg.model, cfg.data, num_classes).eval()
    return model, build_generator(4, cfg.generator, cfg.data.num_frames).eval()


def torch_counts_for_paper_models(num_classes: int = 101) -> tuple[int, int]:
    """FlopCounterMode's count of one paper C3D forward and one paper generator network forward, on the
    meta device: shapes only, nothing computed, nothing allocated."""
    with torch.device("meta"):
        model, generator = paper_models(num_classes)
        t = generator.num_frames
        return (counted_by_torch(model, torch.empty(1, 3, t, 112, 112)),
                counted_by_torch(generator.net, torch.empty(1, generator.in_channels, 112, 112)))


def model_flops(model: nn.Module, num_frames: int, height: int, width: int) -> FlopCount:
    """A VideoModel's network per clip (the wrapper's normalization is elementwise: not counted)."""
    return count_flops(getattr(model, "net", model), (3, num_frames, height, width))


def generator_flops(generator: nn.Module, height: int, width: int) -> FlopCount:
    """A TemporalGenerator's ResNet per generated clip: its input is 3·T channels (frame slots) with
    slot-encoded indices, 3·k otherwise; placing frames and the residual base are elementwise."""
    return count_flops(generator.net, (generator.in_channels, height, width))
