"""The held-out check that keeps a generator only where it does no harm.

A generator trained against a model's features can learn a hedge that removes evidence the kept frames
hold: on a dataset it was not tuned for, the tiny preset's generator turned a still pagoda into something
the model read as a spinning wheel. Replication (the untrained generator's starting point) cannot do that.
So a few training clips are held out of the generator's training, and at every epoch's end the generator is
scored on them by **agreement**: how often the model gives the clip generated from k of its frames the class
it gives the real clip. No label is read: the target is the model's own prediction on the full clip, so the
generator stays class-agnostic. The run keeps the state with the highest agreement, the untrained one
included: a generator that never beats its own start ends as that start, which is (almost) replication.

Each held-out clip is scored from several subsets (the uniform one and seeded random ones), as the analysis
scores a pool of candidates.

>>> holdout_positions(100, seed=0, clips=64).size   # at most a fifth of the training clips
20
>>> holdout_positions(100, seed=0, clips=8).tolist() == holdout_positions(100, seed=0, clips=8).tolist()
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..data import clips_only, to_float
from ..generator import replicate_nearest, take_frames, training_subsets
from ..selection import uniform_subset

MAX_SHARE = 0.2  # at most this share of the training clips is held out: the generator needs the rest
SUBSETS_PER_CLIP = 4  # the uniform subset and three seeded random ones


def holdout_positions(n: int, seed: int, clips: int) -> np.ndarray:
    """Which of n training clips are held out: `clips` of them (at most a fifth), seeded, sorted."""
    count = min(int(clips), int(n * MAX_SHARE))
    if count < 1:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size=count, replace=False))


@dataclass
class Holdout:
    """The held-out clips (uint8), the subsets each is scored from, and the model's class for each real clip."""

    clips: Tensor  # (N, 3, T, H, W) uint8
    indices: Tensor  # (N, S, k) subsets per clip
    targets: Tensor  # (N,) the model's prediction on the real clip
    replication: float  # agreement of replicating the same subsets

    def to_dict(self) -> dict:
        return {"clips": int(self.clips.shape[0]), "subsets_per_clip": int(self.indices.shape[1]),
                "replication": round(self.replication, 6)}


@torch.no_grad()
def build_holdout(data, positions: np.ndarray, model, k: int, num_frames: int, seed: int, device: str,
                  batch_size: int) -> Holdout | None:
    """Load the held-out clips once (unreadable ones drop out), draw their subsets, and score replication."""
    if len(positions) == 0:
        return None
    clips = clips_only([data[int(i)] for i in positions])
    if clips.numel() == 0:
        return None
    n = clips.shape[0]
    uniform = torch.tensor(uniform_subset(k, num_frames)).expand(n, 1, k)
    random = training_subsets(k, n * (SUBSETS_PER_CLIP - 1), np.random.default_rng([seed, 8]), num_frames)
    indices = torch.cat([uniform, random.view(n, SUBSETS_PER_CLIP - 1, k)], dim=1)
    targets = torch.cat([model(to_float(part).to(device)).argmax(1).cpu()
                         for part in clips.split(max(1, batch_size))])
    holdout = Holdout(clips, indices, targets, 0.0)
    holdout.replication = agreement(lambda frames, idx: replicate_nearest(frames, idx, num_frames), model, holdout,
                                    device, batch_size)
    return holdout


@torch.no_grad()
def agreement(generate, model, holdout: Holdout, device: str, batch_size: int) -> float:
    """The share of (held-out clip, subset) pairs whose generated clip the model gives the real clip's class."""
    hits, total = 0, 0
    s = holdout.indices.shape[1]
    for start in range(0, holdout.clips.shape[0], max(1, batch_size // s)):
        clips = to_float(holdout.clips[start:start + max(1, batch_size // s)]).to(device)
        n = clips.shape[0]
        indices = holdout.indices[start:start + n].reshape(n * s, -1).to(device)
        frames = take_frames(clips.repeat_interleave(s, dim=0), indices)
        pred = model(generate(frames, indices)).argmax(1).cpu()
        hits += int((pred == holdout.targets[start:start + n].repeat_interleave(s)).sum())
        total += n * s
    return hits / max(1, total)
