"""The temporal generator: k given frames and their positions → the whole T-frame clip.

The network is CycleGAN's ResNet generator (Zhu et al. 2017), read top to bottom as in that paper,
with frames stacked along the channel axis (a 2-D network over space; time lives in the channels):

    c7s1-ngf   ReflectionPad 3, Conv 7×7 (in → ngf), InstanceNorm, ReLU
    d(2·ngf)   Conv 3×3 stride 2, InstanceNorm, ReLU                     H/2
    d(4·ngf)   Conv 3×3 stride 2, InstanceNorm, ReLU                     H/4
    R(4·ngf)   × n_blocks: ReflPad 1, Conv 3×3, IN, ReLU, ReflPad 1, Conv 3×3, IN, + identity
    u(2·ngf)   ConvTranspose 3×3 stride 2 (output_padding 1), InstanceNorm, ReLU   H/2
    u(ngf)     ConvTranspose 3×3 stride 2 (output_padding 1), InstanceNorm, ReLU   H
    c7s1-out   ReflectionPad 3, Conv 7×7 (ngf → out)

InstanceNorm without affine parameters or running statistics, convolutions with bias, weights drawn
from N(0, 0.02), biases zero. At ngf 64, 9 blocks and 3 → 3 channels this is 11,378,179 parameters
(`ResnetGenerator(3, 3)`). H and W must be multiples of 4 and at least 8 (the reflection padding at
H/4 needs two rows).

How the given frames and their indices are fed (``use_indices=True``, the default)
----------------------------------------------------------------------------------
``index_encoding="slots"`` (default): the k frames are written into a T-slot clip at their
positions, zeros in the other slots, and the network reads the 3·T channels slot-major (slot t
occupies channels 3t, 3t+1, 3t+2). The position is *which channels* hold a frame: example with T = 4,
k = 1, indices = [2]: channels 6–8 hold the frame, channels 0–5 and 9–11 are zero. (Constant mask
planes would tell the network nothing: the instance norm after the first convolution removes any
per-channel constant, so a constant input plane is erased. Positions must live in the layout.)

The network's 3·T output channels are read slot-major the same way and become (3, T, H, W). They are
a residual on top of *nearest-kept-frame replication*: slot t starts from the given frame whose index
is closest to t (the earlier one on ties), and the output is

    clip = (tanh(raw + atanh(2·base − 1)) + 1) / 2        (base clamped to [0.01, 0.99])

so an untrained generator (raw ≈ 0) reproduces replication — at k = 1 the paper's replicate
baseline — and training only has to learn what changes over time; the output stays in [0, 1].
The given frames are then copied through unchanged at their own positions. Both choices
(``residual``, ``copy_given`` in `GeneratorConfig`) were measured on the synthetic benchmark
(benchmarks/generator_quality.py): without the residual, accuracy falls far below replication;
copying through changes accuracy within noise and guarantees the given frames exactly.

``index_encoding="stacked"``: the network sees the k frames stacked in order (3·k channels) and not
their positions; the positions still place the replication base and the copied-through frames.

Ablation, ``use_indices=False``: nothing uses the positions. The frames are stacked in order, the
residual base spreads them evenly (slot t takes frame ⌊t·k/T⌋), and nothing is copied through.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .replicate import replicate_nearest

INDEX_ENCODINGS = ("slots", "stacked")
_BASE_CLAMP = 0.01  # keeps atanh finite; 1 % of the range costs little and keeps gradients alive


class ResnetBlock(nn.Module):
    """R(c): two reflection-padded 3×3 convolutions with instance norm and an identity skip."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's ResNet generator without its final Tanh: returns the raw output channels."""

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, n_blocks: int = 9):
        super().__init__()

        def down(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.InstanceNorm2d(cout), nn.ReLU(True)]

        def up(cin: int, cout: int) -> list[nn.Module]:
            return [nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1),
                    nn.InstanceNorm2d(cout), nn.ReLU(True)]

        self.model = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True),  # c7s1-ngf
            *down(ngf, 2 * ngf),  # d(2ngf)
            *down(2 * ngf, 4 * ngf),  # d(4ngf)
            *[ResnetBlock(4 * ngf) for _ in range(n_blocks)],  # R(4ngf) × n_blocks
            *up(4 * ngf, 2 * ngf),  # u(2ngf)
            *up(2 * ngf, ngf),  # u(ngf)
            nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7),  # c7s1-out
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class TemporalGenerator(nn.Module):
    """k given frames at sorted positions → a (B, 3, T, H, W) clip in [0, 1].

    >>> g = TemporalGenerator(k=2, num_frames=16, ngf=8, n_blocks=1)
    >>> frames = torch.rand(3, 3, 2, 32, 32)
    >>> indices = torch.tensor([[0, 9], [3, 4], [14, 15]])
    >>> clip = g(frames, indices)
    >>> clip.shape, bool(torch.equal(clip[:, :, 9][0], frames[0, :, 1]))
    (torch.Size([3, 3, 16, 32, 32]), True)
    """

    def __init__(self, k: int, num_frames: int = 16, ngf: int = 64, n_blocks: int = 9, use_indices: bool = True,
                 residual: bool = True, copy_given: bool = True, index_encoding: str = "slots"):
        super().__init__()
        if not 1 <= k <= num_frames:
            raise ValueError(f"k must be in 1..{num_frames}, got {k}")
        if index_encoding not in INDEX_ENCODINGS:
            raise ValueError(f"index_encoding must be one of {', '.join(INDEX_ENCODINGS)}, got {index_encoding!r}")
        self.k, self.num_frames = k, num_frames
        self.use_indices, self.residual, self.index_encoding = use_indices, residual, index_encoding
        self.copy_given = copy_given and use_indices  # without positions there is nowhere to copy to
        self.sees_positions = use_indices and index_encoding == "slots"
        self.in_channels = 3 * num_frames if self.sees_positions else 3 * k
        self.net = ResnetGenerator(self.in_channels, 3 * num_frames, ngf=ngf, n_blocks=n_blocks)

    def forward(self, frames: Tensor, indices: Tensor) -> Tensor:
        b, _, k, h, w = self._check(frames, indices)
        t = self.num_frames
        slots, mask = self.place(frames, indices)
        if self.sees_positions:
            x = slots.transpose(1, 2).reshape(b, 3 * t, h, w)
        else:
            x = frames.transpose(1, 2).reshape(b, 3 * k, h, w)
        raw = self.net(x).view(b, t, 3, h, w).transpose(1, 2)
        if self.residual:
            base = self.replicate(frames, indices).clamp(_BASE_CLAMP, 1 - _BASE_CLAMP)
            raw = raw + torch.atanh(2 * base - 1)
        clip = (torch.tanh(raw) + 1) / 2
        if self.copy_given:
            clip = torch.where(mask.view(b, 1, t, 1, 1) > 0, slots, clip)
        return clip

    def place(self, frames: Tensor, indices: Tensor) -> tuple[Tensor, Tensor]:
        """The T-slot clip with the given frames at their indices (zeros elsewhere) and the (B, T) mask."""
        b, c, k, h, w = frames.shape
        slots = frames.new_zeros(b, c, self.num_frames, h, w)
        slots.scatter_(2, indices.view(b, 1, k, 1, 1).expand(b, c, k, h, w), frames)
        mask = frames.new_zeros(b, self.num_frames).scatter_(1, indices, 1.0)
        return slots, mask

    def replicate(self, frames: Tensor, indices: Tensor) -> Tensor:
        """The residual's base clip: nearest-frame replication with indices; without them the frames
        spread evenly (slot t takes frame ⌊t·k/T⌋)."""
        if self.use_indices:
            return replicate_nearest(frames, indices, self.num_frames)
        b, c, k, h, w = frames.shape
        source = (torch.arange(self.num_frames, device=frames.device) * k // self.num_frames).view(1, -1).expand(b, -1)
        return frames.gather(2, source.view(b, 1, -1, 1, 1).expand(b, c, self.num_frames, h, w))

    def _check(self, frames: Tensor, indices: Tensor) -> tuple[int, int, int, int, int]:
        if frames.dim() != 5 or frames.shape[1] != 3 or frames.shape[2] != self.k:
            raise ValueError(f"frames must be (B, 3, {self.k}, H, W), got {tuple(frames.shape)}")
        b, _, k, h, w = frames.shape
        if h % 4 or w % 4 or h < 8 or w < 8:
            raise ValueError(f"frame height and width must be multiples of 4 and at least 8, got {h}×{w}")
        if indices.shape != (b, k) or indices.dtype != torch.long:
            raise ValueError(f"indices must be a LongTensor shaped ({b}, {k}), got {indices.dtype} {tuple(indices.shape)}")
        if k > 1 and bool((indices.diff(dim=1) <= 0).any()):
            raise ValueError("indices must be distinct and sorted in each row")
        if bool((indices[:, 0] < 0).any()) or bool((indices[:, -1] >= self.num_frames).any()):
            raise ValueError(f"indices must lie in 0..{self.num_frames - 1}")
        return b, 3, k, h, w

