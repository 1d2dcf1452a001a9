"""The held-out check that keeps a generator only where it does no harm.

A generator trained against a model's features can learn a hedge that removes evidence the kept frames
hold: on a dataset it was not tuned for, the tiny preset's generator turned a still pagoda into something
the model read as a spinning wheel. Replication (the untrained generator's starting point) cannot do that.
So a few training clips are held out of the generator's training, and at every epoch's end the generator is
scored on them by **agreement**: how often the model gives the clip generated from k of its frames the class
it gives the real clip. No label is read: the target is the model's own prediction on the full clip, so the
generator stays class-agnostic. The run remembers the trained state with the highest agreement and keeps
it only if a paired test says it beats replication: an exact one-sided sign test over the held-out clips
(a clip is a win when the generator's clips agree on more of its subsets than replication's, a loss when
on fewer), at 0.05 divided by the number of states scored, since the best of several states was picked on
the same clips. Otherwise the generator folder says it `replicates`, and loading it gives exact nearest-frame
replication: a lead that could be noise never reaches the analysis.

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

from ..analysis.choice import sign_test_thresholds
from ..data import clips_only, to_float
from ..generator import replicate_nearest, take_frames, training_subsets
from ..selection import uniform_subset

MAX_SHARE = 0.2  # at most this share of the training clips is held out: the generator needs the rest
SUBSETS_PER_CLIP = 4  # the uniform subset and three seeded random ones
ALPHA = 0.05  # the sign test's level, before dividing by the number of states the best was chosen from


def holdout_positions(n: int, seed: int, clips: int) -> np.ndarray:
    """Which of n training clips are held out: `clips` of them (at most a fifth), seeded, sorted."""
    count = min(int(clips), int(n * MAX_SHARE))
    if count < 1:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size=count, replace=False))


@dataclass
class Holdout:
    """The held-out clips (uint8), the subsets each is scored from, the model's class for each real clip, and
    how many of each clip's subsets replication keeps in that class."""

    clips: Tensor  # (N, 3, T, H, W) uint8
    indices: Tensor  # (N, S, k) subsets per clip
    targets: Tensor  # (N,) the model's prediction on the real clip
    replication_hits: np.ndarray  # (N,) per clip: subsets whose replicated clip the model gives the real clip's class

    @property
    def replication(self) -> float:
        """Agreement of replicating the same subsets."""
        return share(self.replication_hits, self.indices.shape[1])

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
    holdout = Holdout(clips, indices, targets, np.zeros(n, dtype=np.int64))
    holdout.replication_hits = clip_hits(lambda frames, idx: replicate_nearest(frames, idx, num_frames), model,
                                         holdout, device, batch_size)
    return holdout


def share(hits: np.ndarray, subsets_per_clip: int) -> float:
    """Agreement: the share of (held-out clip, subset) pairs whose generated clip the model gives the real clip's
    class, from the per-clip counts of `clip_hits`."""
    return float(hits.sum()) / max(1, hits.size * subsets_per_clip)


def beats_replication(hits: np.ndarray, replication_hits: np.ndarray, states: int) -> dict:
    """The paired sign test of a generator's per-clip hits against replication's on the same subsets: wins,
    losses, the level (ALPHA over the `states` the generator's state was chosen from) and whether it passes.

    >>> beats_replication(np.array([3] * 10), np.array([2] * 10), states=4)["kept"]   # 10 wins of 10
    True
    >>> beats_replication(np.array([3, 3, 3, 1]), np.array([2, 2, 2, 2]), states=1)["kept"]  # 3 of 4: noise
    False
    """
    wins, losses = int((hits > replication_hits).sum()), int((hits < replication_hits).sum())
    alpha = ALPHA / max(1, states)
    kept = bool(wins >= sign_test_thresholds(wins + losses, alpha)[wins + losses])
    return {"wins": wins, "losses": losses, "alpha": round(alpha, 6), "kept": kept}


@torch.no_grad()
def clip_hits(generate, model, holdout: Holdout, device: str, batch_size: int) -> np.ndarray:
    """Per held-out clip: how many of its subsets' generated clips the model gives the real clip's class."""
    out = []
    s = holdout.indices.shape[1]
    for start in range(0, holdout.clips.shape[0], max(1, batch_size // s)):
        clips = to_float(holdout.clips[start:start + max(1, batch_size // s)]).to(device)
        n = clips.shape[0]
        indices = holdout.indices[start:start + n].reshape(n * s, -1).to(device)
        frames = take_frames(clips.repeat_interleave(s, dim=0), indices)
        pred = model(generate(frames, indices)).argmax(1).cpu()
        out.append((pred == holdout.targets[start:start + n].repeat_interleave(s)).view(n, s).sum(1))
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, dtype=np.int64)
