"""The "uniform" baseline without a generator: the kept frames replicated to a full clip.

Rule: output frame t copies the kept frame nearest to t in time; when two kept frames are equally
near, the earlier one wins. With k = 1 that is the one frame repeated T times (the paper's baseline).
Worked example, T = 8, kept frames (2, 5):

    t        0  1  2  3  4  5  6  7
    copies   2  2  2  2  5  5  5  5      (t = 3: |3-2| = 1 < |3-5| = 2; t = 4: 2 > 1)

and with kept (1, 3) frame 2 is equidistant and copies frame 1. `replicate` has the generator's
signature, so the engine runs it exactly where a generator would run.
"""

from __future__ import annotations

import torch


def nearest_kept(indices: torch.Tensor, num_frames: int) -> torch.Tensor:
    """For each row of sorted kept-frame indices (B, k), the position in 0..k-1 each output frame copies: (B, T)."""
    t = torch.arange(num_frames, device=indices.device)
    distance = (t.view(1, 1, -1) - indices.unsqueeze(-1)).abs()  # (B, k, T)
    # argmin returns the first minimum; rows are sorted, so ties resolve to the earlier kept frame.
    return distance.argmin(dim=1)


def replicate(frames: torch.Tensor, indices: torch.Tensor, num_frames: int = 16) -> torch.Tensor:
    """(B, 3, k, H, W) kept frames at sorted `indices` (B, k) → (B, 3, T, H, W) clip of nearest kept frames."""
    if frames.dim() != 5 or indices.shape != (frames.shape[0], frames.shape[2]):
        raise ValueError(f"replicate: frames (B, 3, k, H, W) and indices (B, k) expected, got "
                         f"{tuple(frames.shape)} and {tuple(indices.shape)}")
    source = nearest_kept(indices.to(frames.device), num_frames)  # (B, T)
    b, c, _, h, w = frames.shape
    return frames.gather(2, source.view(b, 1, num_frames, 1, 1).expand(b, c, num_frames, h, w))


class Replicate:
    """`replicate` as a generator-shaped callable for k kept frames."""

    def __init__(self, k: int, num_frames: int = 16):
        self.k, self.num_frames = k, num_frames

    def __call__(self, frames: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return replicate(frames, indices, self.num_frames)
