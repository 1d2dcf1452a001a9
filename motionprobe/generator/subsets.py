"""Which frames a generator is given during training, and how they are taken from a clip.

Each training clip gets one k-subset drawn uniformly from all C(T, k), with the candidate sampler of
`motionprobe.selection` — so the generator trains on exactly the distribution of subsets the analysis
later shows it. Clips of a batch draw independently (two clips may share a subset).

With `generator.distinct_share` > 0 that share of the subsets instead holds the clip's most distinct
frame (the one farthest from the clip's per-pixel median; the other k − 1 uniform). A frame unlike the
rest of its clip (a flash, a cut, a brief event) is rare among uniform draws, yet it is the frame whose
loss teaches the generator that such content is brief: drawn uniformly, a 2-frame event of 16 is given
in 1 draw of 8 of its clips. The choice reads pixels only, never a label.

>>> import numpy as np
>>> training_subsets(3, 2, np.random.default_rng(0)).tolist()
[[7, 8, 9], [4, 6, 13]]
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..selection import random_subsets


def training_subsets(k: int, n: int, rng: np.random.Generator, num_frames: int = 16) -> Tensor:
    """n independent uniform k-subsets of 0..T−1, each sorted: a LongTensor shaped (n, k)."""
    rows = [random_subsets(k, 1, num_frames, rng)[0] for _ in range(n)]
    return torch.tensor(rows, dtype=torch.long).view(n, k)


def distinct_frames(clips: Tensor) -> Tensor:
    """Per clip (B, C, T, H, W), the frame farthest (mean absolute difference) from the clip's per-pixel
    median over time: a LongTensor shaped (B,).

    >>> clips = torch.zeros(2, 3, 5, 4, 4)
    >>> clips[0, :, 3] = 1.0  # a flash in frame 3 of clip 0
    >>> clips[1, :, :, :2] = torch.linspace(0, 1, 5).view(1, 5, 1, 1)  # a steady fade: its ends differ most
    >>> distinct_frames(clips).tolist()
    [3, 0]
    """
    median = clips.median(dim=2, keepdim=True).values
    return (clips - median).abs().mean(dim=(1, 3, 4)).argmax(dim=1)


def anchored_subsets(anchors: Tensor, others: Tensor) -> Tensor:
    """Sorted k-subsets holding each row's anchor frame and k − 1 others: `others` (n, k − 1) are distinct
    sorted positions among the T − 1 frames that are not the anchor, in 0..T−2.

    >>> anchored_subsets(torch.tensor([5, 0]), torch.tensor([[1, 5], [0, 3]])).tolist()
    [[1, 5, 6], [0, 1, 4]]
    """
    shifted = others + (others >= anchors.view(-1, 1)).long()
    return torch.cat((anchors.view(-1, 1), shifted), dim=1).sort(dim=1).values


def with_distinct_frames(indices: Tensor, clips: Tensor, draw: tuple[Tensor, Tensor]) -> Tensor:
    """`indices` (n, k) with the rows that `draw` marks replaced by subsets holding their clip's most distinct
    frame; `draw` is (marked rows (n,) bool, others (n, k − 1)) from `distinct_draw`."""
    marked, others = (x[: len(indices)].to(indices.device) for x in draw)
    if not bool(marked.any()):
        return indices
    anchored = anchored_subsets(distinct_frames(clips).to(indices.device), others)
    return torch.where(marked.view(-1, 1), anchored, indices)


def distinct_draw(k: int, n: int, share: float, rng: np.random.Generator, num_frames: int = 16) -> tuple[Tensor, Tensor]:
    """Which of n rows hold their clip's most distinct frame (each with probability `share`), and their
    other k − 1 positions among the remaining T − 1 frames (uniform, sorted). Drawn whatever the clips
    are, so a keyed rng makes a batch's draw the same on every rank and after a resume."""
    marked = torch.from_numpy(rng.random(n) < share)
    rows = [sorted(rng.choice(num_frames - 1, size=k - 1, replace=False)) for _ in range(n)]
    return marked, torch.tensor(rows, dtype=torch.long).view(n, k - 1)


def take_frames(clip: Tensor, indices: Tensor) -> Tensor:
    """The frames at `indices` (B, k) of each clip (B, C, T, H, W) → (B, C, k, H, W)."""
    b, c, _, h, w = clip.shape
    k = indices.shape[1]
    return clip.gather(2, indices.to(clip.device).view(b, 1, k, 1, 1).expand(b, c, k, h, w))
