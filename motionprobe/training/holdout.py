"""The held-out check that keeps a generator only where it does no harm.

A generator trained against a model's features can learn a hedge that removes evidence the kept frames
hold: on a dataset it was not tuned for, the tiny preset's generator turned a still pagoda into something
the model read as a spinning wheel. Replication (the untrained generator's starting point) cannot do that.
So a few training clips are held out of the generator's training, and at every epoch's end the generator is
scored on them by **agreement**: how often the model gives the clip generated from k of its frames the class
it gives the real clip. No label is read: the target is the model's own prediction on the full clip, so the
generator stays class-agnostic. The run remembers the trained state with the highest agreement and keeps
it only if a paired test says it beats replication on those clips. A clip is a win when the generator's clips
agree on more of its subsets than replication's, a loss when on fewer; a state's statistic is wins − losses.
Since the best of several states was picked on the same clips, the chosen state's statistic is compared with
the *largest* over all scored states under random sign flips of whole clips (a max-statistic permutation
test, as Westfall and Young correct for many tests): if no state beats replication, each clip's row of signs
is as likely negated, so flipping rows draws from the statistic's null distribution, and the states' strong
correlation (consecutive epochs of one run) is kept, where dividing the level by the number of states would
treat them as unrelated. The state is kept at p ≤ 0.05. Otherwise the generator folder says it
`replicates`, and loading it gives exact nearest-frame replication: a lead that could be noise never reaches
the analysis.

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
ALPHA = 0.05  # the level of the test against replication
FLIPS = 9_999  # random sign flips; with the observed signs a p-value on a grid of 1/10,000, exact at that level


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


def beats_replication(state_hits: np.ndarray, chosen: int, replication_hits: np.ndarray, seed: int = 0) -> dict:
    """The max-statistic sign-flip test of the state `chosen` among the scored states' per-clip hits
    (states, clips) against replication's per-clip hits on the same subsets: the chosen state's wins and
    losses, the number of states, the p-value, the level and whether it passes.

    >>> rep = np.array([2] * 10)
    >>> beats_replication(np.array([[3] * 10]), 0, rep)["kept"]             # 10 wins of 10: p ≈ 1/1024
    True
    >>> beats_replication(np.array([[3, 3, 3] + [2] * 7]), 0, rep)["kept"]  # 3 of 3: p ≈ 1/8, noise
    False
    """
    signs = np.sign(np.atleast_2d(np.asarray(state_hits)) - np.asarray(replication_hits)).astype(np.float64)
    wins, losses = int((signs[chosen] > 0).sum()), int((signs[chosen] < 0).sum())
    flips = np.random.default_rng([seed, 9]).choice([-1.0, 1.0], size=(FLIPS, signs.shape[1]))
    largest = (flips @ signs.T).max(axis=1)  # per flip: the best state's wins − losses
    p = (1 + int((largest >= wins - losses).sum())) / (1 + FLIPS)
    return {"wins": wins, "losses": losses, "states": int(signs.shape[0]), "p": round(p, 6), "alpha": ALPHA,
            "kept": bool(wins > losses and p <= ALPHA)}


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
