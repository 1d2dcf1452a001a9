"""Nearest-frame replication: the naive way to complete k kept frames into a T-frame clip.

Rule: output frame t copies the kept frame nearest to t in time; when two kept frames are equally
near, the earlier one wins. With k = 1 that is the one frame repeated T times (the paper's "uniform"
baseline). Worked example, T = 8, kept frames (2, 5):

    t        0  1  2  3  4  5  6  7
    copies   2  2  2  2  5  5  5  5      (t = 3: |3-2| = 1 < |3-5| = 2; t = 4: 2 > 1)

and with kept (1, 3) frame 2 is equidistant and copies frame 1. It is also the base the temporal
generator adds its residual to, so an untrained generator is this baseline.
"""

from __future__ import annotations

import torch
from torch import Tensor


def replicate_nearest(frames: Tensor, indices: Tensor, num_frames: int = 16) -> Tensor:
    """(B, 3, k, H, W) kept frames at sorted `indices` (B, k) → (B, 3, T, H, W) clip of nearest kept frames.

    >>> frames = torch.arange(2.0).view(1, 1, 2, 1, 1).expand(1, 3, 2, 1, 1)
    >>> replicate_nearest(frames, torch.tensor([[2, 5]]), 8)[0, 0].flatten().tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    """
    if frames.dim() != 5 or indices.shape != (frames.shape[0], frames.shape[2]):
        raise ValueError(f"replicate: frames (B, 3, k, H, W) and indices (B, k) expected, got "
                         f"{tuple(frames.shape)} and {tuple(indices.shape)}")
    b, c, k, h, w = frames.shape
    t = torch.arange(num_frames, device=frames.device)
    # argmin returns the first minimum and indices are sorted, so ties go to the earlier frame.
    source = (t.view(1, -1, 1) - indices.to(frames.device).view(b, 1, k)).abs().argmin(2)
    return frames.gather(2, source.view(b, 1, -1, 1, 1).expand(b, c, num_frames, h, w))


class Replicate:
    """`replicate_nearest` as a generator-shaped callable for k kept frames: the engine runs it where a
    generator would run."""

    def __init__(self, k: int, num_frames: int = 16):
        self.k, self.num_frames = k, num_frames

    def __call__(self, frames: Tensor, indices: Tensor) -> Tensor:
        return replicate_nearest(frames, indices, self.num_frames)
