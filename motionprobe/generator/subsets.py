"""Which frames a generator is given during training, and how they are taken from a clip.

Each training clip gets one k-subset drawn uniformly from all C(T, k), with the candidate sampler of
`motionprobe.selection` — so the generator trains on exactly the distribution of subsets the analysis
later shows it. Clips of a batch draw independently (two clips may share a subset).

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


def take_frames(clip: Tensor, indices: Tensor) -> Tensor:
    """The frames at `indices` (B, k) of each clip (B, C, T, H, W) → (B, C, k, H, W)."""
    b, c, _, h, w = clip.shape
    k = indices.shape[1]
    return clip.gather(2, indices.to(clip.device).view(b, 1, k, 1, 1).expand(b, c, k, h, w))
