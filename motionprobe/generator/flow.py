"""A temporal generator that can only move pixels: k given frames → a T-frame clip made of warped copies.

The pixel generator (generator/network.py) paints every output value; trained against a frozen model's
features it can hedge by painting evidence (a colour cast that reads as a class) instead of adding
motion. This one cannot invent appearance. For each output slot t it predicts a flow field that warps
the given frame before t and one that warps the given frame after t (the same frame at the ends, and
at k = 1), a per-pixel blend between the two warped frames, and a small residual bounded to
±`residual_scale`:

    clip_t = clamp(w_t · warp(f_a(t), u_t) + (1 − w_t) · warp(f_b(t), v_t) + residual_scale · tanh(r_t), 0, 1)

With `erase`, a ninth channel per slot lets each pixel show the nearer given frame's median colour (its
background) instead: moving pixels alone cannot make a large flash brief, and erasing adds no colour.

The backbone is the same CycleGAN ResNet as the pixel generator's (generator/network.py) with 8
output channels per slot (u: 2, v: 2, w: 1, r: 3). Its last convolution starts at zero, so an
untrained generator is (almost) nearest-frame replication: flows 0, residual 0, and a blend of 0.98 on
the nearer frame (a hard 1 would leave the blend no gradient to learn from).
Flows are in units of the frame's half-size (grid_sample's coordinates), border-padded.

With indices the network sees the given frames written into a T-slot clip at their positions (zeros
elsewhere), as the pixel generator's slot encoding: how far to move each slot depends on where the
given frame sits. Without indices (`use_indices=False`) the given frames are taken to sit at the
uniform subset's positions and the network sees them stacked in order.

>>> g = FlowGenerator(k=2, num_frames=8, ngf=8, n_blocks=1)
>>> frames = torch.rand(2, 3, 2, 16, 16)
>>> clip = g(frames, torch.tensor([[1, 6], [0, 3]]))
>>> clip.shape, bool(torch.equal(clip[0, :, 6], frames[0, :, 1]))  # the given frames pass through
(torch.Size([2, 3, 8, 16, 16]), True)
>>> near = 0.982 * frames[0, :, 0] + 0.018 * frames[0, :, 1]  # untrained: slot 2 is mostly frame 1, the nearer
>>> bool(torch.allclose(clip[0, :, 2], near, atol=1e-3))
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..selection import uniform_subset
from .network import ResnetGenerator

CHANNELS_PER_SLOT = 8  # flow to the earlier frame (2), flow to the later frame (2), blend (1), residual (3)
_BLEND_LOGIT = 4.0  # sigmoid(4) ≈ 0.98: the untrained blend takes the nearer frame
_KEEP_LOGIT = 6.0  # sigmoid(6) ≈ 0.998: the untrained eraser keeps every pixel


class FlowGenerator(nn.Module):
    def __init__(self, k: int, num_frames: int = 16, ngf: int = 64, n_blocks: int = 9, use_indices: bool = True,
                 copy_given: bool = True, residual_scale: float = 0.1, erase: bool = False):
        super().__init__()
        if not 1 <= k <= num_frames:
            raise ValueError(f"k must be in 1..{num_frames}, got {k}")
        self.k, self.num_frames, self.use_indices = k, num_frames, use_indices
        self.copy_given = copy_given and use_indices
        self.residual_scale = float(residual_scale)
        self.erase = erase
        self.in_channels = 3 * (num_frames if use_indices else k)  # what self.net reads (benchmarks count its FLOPs)
        self.channels = CHANNELS_PER_SLOT + int(erase)
        self.net = ResnetGenerator(self.in_channels, self.channels * num_frames, ngf=ngf, n_blocks=n_blocks)
        last = self.net.model[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, frames: Tensor, indices: Tensor) -> Tensor:
        b, _, k, h, w = frames.shape
        t = self.num_frames
        if frames.dim() != 5 or frames.shape[1] != 3 or k != self.k or h % 4 or w % 4 or h < 8 or w < 8:
            raise ValueError(f"frames must be (B, 3, {self.k}, H, W) with H, W multiples of 4 (≥ 8), got "
                             f"{tuple(frames.shape)}")
        positions = indices if self.use_indices else torch.tensor(
            uniform_subset(k, t), device=frames.device).expand(b, k)
        earlier, later, nearer_is_earlier = _neighbours(positions.to(frames.device), t)  # (B, T) each
        if self.use_indices:  # slot t holds the given frame at t, zeros elsewhere: channels 3t..3t+2
            x = torch.zeros(b, t, 3, h, w, device=frames.device, dtype=frames.dtype)
            x[torch.arange(b, device=frames.device).view(b, 1), indices] = frames.transpose(1, 2)
            x = x.reshape(b, 3 * t, h, w)
        else:
            x = frames.transpose(1, 2).reshape(b, 3 * k, h, w)
        raw = self.net(x).view(b, t, self.channels, h, w)
        flow_a, flow_b, blend, residual = raw[:, :, 0:2], raw[:, :, 2:4], raw[:, :, 4:5], raw[:, :, 5:8]
        by_slot = frames.transpose(1, 2)  # (B, k, 3, H, W)
        pick = torch.arange(b, device=frames.device).view(b, 1)
        warped_a = _warp(by_slot[pick, earlier], flow_a)  # (B, T, 3, H, W)
        warped_b = _warp(by_slot[pick, later], flow_b)
        prior = torch.where(nearer_is_earlier, _BLEND_LOGIT, -_BLEND_LOGIT).view(b, t, 1, 1, 1)
        weight = torch.sigmoid(blend + prior)
        clip = weight * warped_a + (1 - weight) * warped_b
        if self.erase:  # per pixel, the slot may show the nearer given frame's background colour instead
            keep = torch.sigmoid(raw[:, :, 8:9] + _KEEP_LOGIT)
            nearer = torch.where(nearer_is_earlier, earlier, later)
            background = by_slot.flatten(3).median(dim=3).values[pick, nearer][..., None, None]  # (B, T, 3, 1, 1)
            clip = keep * clip + (1 - keep) * background
        clip = clip + self.residual_scale * torch.tanh(residual)
        clip = clip.clamp(0, 1).transpose(1, 2)  # (B, 3, T, H, W)
        if self.copy_given:
            mask = torch.zeros(b, t, device=frames.device).scatter_(1, indices, 1.0).view(b, 1, t, 1, 1)
            slots = torch.zeros_like(clip).scatter_(2, indices.view(b, 1, k, 1, 1).expand(b, 3, k, h, w), frames)
            clip = torch.where(mask > 0, slots, clip)
        return clip


def _neighbours(positions: Tensor, num_frames: int) -> tuple[Tensor, Tensor, Tensor]:
    """For each slot: the given frame at or before it, the one at or after it (both as positions 0..k−1
    among the given frames; the nearest one at the clip's ends), and whether the earlier one is nearer
    (ties to the earlier, as replication).

    >>> a, b, near = _neighbours(torch.tensor([[2, 5]]), 8)
    >>> a.tolist(), b.tolist(), near.tolist()
    ([[0, 0, 0, 0, 0, 1, 1, 1]], [[0, 0, 0, 1, 1, 1, 1, 1]], [[True, True, True, True, False, True, True, True]])
    """
    t = torch.arange(num_frames, device=positions.device).view(1, -1, 1)
    p = positions.unsqueeze(1)  # (B, 1, k)
    k = positions.shape[1]
    earlier = ((p <= t).sum(-1) - 1).clamp(min=0)  # last given frame at or before t
    later = (k - (p >= t).sum(-1)).clamp(max=k - 1)  # first given frame at or after t
    slot = t.squeeze(-1)
    gap_a = (slot - positions.gather(1, earlier)).abs()
    gap_b = (positions.gather(1, later) - slot).abs()
    return earlier, later, gap_a <= gap_b


def _warp(frames: Tensor, flow: Tensor) -> Tensor:
    """Backward warp: output pixel x samples frames at x + flow(x); frames (B, T, 3, H, W), flow (B, T, 2, H, W)
    in grid_sample's units (±1 = the frame's edges)."""
    b, t, c, h, w = frames.shape
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h, device=frames.device),
                            torch.linspace(-1, 1, w, device=frames.device), indexing="ij")
    grid = torch.stack((xs, ys), dim=-1).view(1, h, w, 2) + flow.reshape(b * t, 2, h, w).permute(0, 2, 3, 1)
    out = F.grid_sample(frames.reshape(b * t, c, h, w), grid, mode="bilinear", padding_mode="border",
                        align_corners=True)
    return out.view(b, t, c, h, w)
