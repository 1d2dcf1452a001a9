"""How the motion bound chooses its method: guarded cross-fitting, never looser than the default beyond noise.

Any label-free, motion-free method gives a valid motion bound (original − its accuracy), so the bound may
take the best of several. Choosing the best on the clips it is then scored on rewards luck; two-fold
cross-fitting removes that (each half is scored by the method chosen on the other half), but on small test
sets the choice itself is noise: among nine methods of similar accuracy, the one that won the other half
is often worse on this one, and the bound comes out looser than the default method's (the paper's `full`).

The guard: each half keeps the default method unless a challenger beat it on the other half by a margin
the exact one-sided sign test (McNemar's) supports at level `alpha` divided by the number of challengers.
Only clips where the two methods disagree count: a challenger right on `b` of them and the default on `w`
must reach `b ≥ thresholds[b + w]`. Among the challengers that pass, the most accurate on the other half is
used. Under the null (no challenger better than the default) a half leaves the default with probability at
most `alpha`, so the bound equals the default's on both halves with probability ≥ 1 − 2·alpha, and a switch
happens only where the other half's evidence is strong enough to expect a gain on this one.

>>> thresholds = sign_test_thresholds(10, 0.05)
>>> thresholds[[5, 6, 10]].tolist()   # 5 of 5 wins: p = 1/32 ≤ 0.05; 6 of 6 and 9 of 10 too
[5, 6, 9]
>>> int(thresholds[4])                 # 4 disagreements can never reach p ≤ 0.05
5
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from .stats import resample_counts

ALPHA = 0.05  # the family-wise level at which a half may leave the default method
BOUND_RULE = ("each half of the clips (split by a seeded hash of the video) is scored by the paper's full analysis "
              "(replication with max response where k has no generator) unless another label-free method beat it on "
              f"the other half by a margin an exact one-sided sign test supports at level {ALPHA:g} over the "
              "challengers (then the most accurate of those); the bootstrap repeats the choice in every resample")
_EXACT_UP_TO = 2000  # disagreements counted exactly; beyond, the normal approximation is within one clip


def folds_of(ids: Sequence[str], seed: int, strata: Sequence[int] | None = None) -> np.ndarray:
    """Two seeded halves of the clips, split by video (clips "<video>#<n>" of one video stay together) and, with
    `strata` (a class per clip), balanced within each class: a class's videos, in the order of a seeded hash,
    alternate between the halves, so no class has most of its clips on one side (a class-blind split of 14
    clips puts 13 on one side once in about 600 draws; then that class's other half says nothing).

    >>> folds_of(["a#0", "a#1", "b#0"], 0).tolist()[:2]
    [1, 1]
    >>> halves = folds_of([f"v{i}#0" for i in range(6)], 0, strata=[0, 0, 0, 1, 1, 1])
    >>> halves.reshape(2, 3).sum(axis=1).tolist()   # each class's three clips: one in half 1, two in half 0
    [1, 1]
    """
    videos = [clip_id.rsplit("#", 1)[0] for clip_id in ids]
    digest = {v: hashlib.sha256(f"{seed}:{v}".encode()).digest() for v in dict.fromkeys(videos)}
    if strata is None:
        return np.array([digest[v][0] & 1 for v in videos], dtype=np.int64)
    votes: dict[str, dict[int, int]] = {}
    for video, stratum in zip(videos, strata, strict=True):
        votes.setdefault(video, {}).setdefault(int(stratum), 0)
        votes[video][int(stratum)] += 1
    video_stratum = {v: max(sorted(c), key=lambda s: c[s]) for v, c in votes.items()}  # majority, ties to the lowest
    fold_of: dict[str, int] = {}
    for stratum in sorted(set(video_stratum.values())):
        members = sorted((v for v, s in video_stratum.items() if s == stratum), key=lambda v: digest[v])
        first = digest[members[0]][0] & 1  # which half takes the first video: seeded, not always half 0
        for i, video in enumerate(members):
            fold_of[video] = (first + i) & 1
    return np.array([fold_of[v] for v in videos], dtype=np.int64)


@lru_cache(maxsize=64)
def sign_test_thresholds(n_max: int, alpha: float) -> np.ndarray:
    """`thresholds[n]` for n = 0..n_max: the fewest wins among n disagreements whose one-sided exact sign-test
    p-value, P(Bin(n, 1/2) ≥ wins), is at most `alpha`; n + 1 where no number of wins is."""
    out = np.empty(n_max + 1, dtype=np.int64)
    exact = min(n_max, _EXACT_UP_TO)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, exact + 1)))])
    for n in range(exact + 1):
        b = np.arange(n + 1)
        pmf = np.exp(log_fact[n] - log_fact[b] - log_fact[n - b] - n * math.log(2))
        tail = np.cumsum(pmf[::-1])[::-1]  # tail[b] = P(X ≥ b)
        passing = np.flatnonzero(tail <= alpha * (1 + 1e-12))
        out[n] = passing[0] if len(passing) else n + 1
    if n_max > exact:
        z = NormalDist().inv_cdf(1 - alpha)
        n = np.arange(exact + 1, n_max + 1)
        out[exact + 1:] = np.ceil(n / 2 + z * np.sqrt(n) / 2 + 0.5).astype(np.int64)
    out.flags.writeable = False  # shared by every caller through the cache
    return out


@dataclass(frozen=True)
class Guard:
    """What a half may choose among M candidates: `default` (an index) is kept unless one of `challengers`
    (default: every other candidate) passes the sign test at `alpha` over the number of challengers."""

    default: int = 0
    alpha: float = ALPHA
    challengers: tuple[int, ...] | None = None

    def challenger_mask(self, m: int) -> np.ndarray:
        mask = np.ones(m, dtype=bool) if self.challengers is None else np.isin(np.arange(m), self.challengers)
        mask[self.default] = False
        return mask


def guarded_choice(values: np.ndarray, folds: np.ndarray,
                   guard: Guard | tuple[Guard, Guard] = Guard()) -> tuple[np.ndarray, list[int]]:
    """The method each fold is scored by: the default unless a challenger passes the guard on the other fold.

    `values` (M, N) are per-clip outcomes (1 right, 0 wrong) of M methods in priority order (ties go to the
    earlier), `folds` (N,) in {0, 1}. Returns the per-clip vector (clip i scored by its fold's method) and the
    method of fold 0 and fold 1. With `alpha=1` every challenger more accurate than the default on the other
    fold passes: plain cross-fitting (the most accurate method of the other fold). `guard` may be one per fold.

    >>> default, better = np.array([1, 0, 0, 0, 0, 0, 0] * 2), np.array([1, 1, 1, 1, 1, 1, 0] * 2)
    >>> guarded_choice(np.stack([default, better]), np.repeat([0, 1], 7))[1]   # 5 wins of 5 on each half
    [1, 1]
    >>> guarded_choice(np.stack([default, better]), np.repeat([0, 1], 7), Guard(alpha=0.01))[1]   # 1/32 > 0.01
    [0, 0]
    """
    values, folds = np.asarray(values, dtype=np.float64), np.asarray(folds)
    counts = np.ones((1, values.shape[1]))
    guards = guard if isinstance(guard, tuple) else (guard, guard)
    picked = [int(_pick(counts, values, folds != fold, guards[fold])[0]) for fold in (0, 1)]
    return np.where(folds == 0, values[picked[0]], values[picked[1]]), picked


def bootstrap_guarded(values: np.ndarray, folds: np.ndarray, n_boot: int, seed: int | list[int],
                      guard: Guard | tuple[Guard, Guard] = Guard()) -> np.ndarray:
    """The guarded cross-fitted mean in each bootstrap resample, the choice made afresh in every resample:
    (n_boot,). With the seed of `stats.bootstrap_means` it sees the same resamples, so differences stay paired."""
    values, folds = np.asarray(values, dtype=np.float64), np.asarray(folds)
    m, n = values.shape
    if n == 0:
        return np.full(n_boot, np.nan)
    guards = guard if isinstance(guard, tuple) else (guard, guard)
    out = []
    for counts in resample_counts(n, n_boot, seed):
        total = np.zeros(len(counts))
        for fold in (0, 1):
            pick = _pick(counts, values, folds != fold, guards[fold])
            scored = counts @ (values * (folds == fold)).T  # (b, M) sums on the fold being scored
            total += scored[np.arange(len(counts)), pick]
        out.append(total / n)
    return np.concatenate(out)


def beats(counts: np.ndarray, challenger: np.ndarray, base: np.ndarray, inside: np.ndarray, alpha: float,
          tests: int = 1) -> np.ndarray:
    """Per resample: does `challenger` (rows (M, N), or one row) beat `base` (N,) on the clips `inside`, by the
    exact one-sided sign test at alpha / tests? (b, M) or (b,) booleans."""
    rows = np.atleast_2d(challenger)
    wins = np.rint(counts @ (rows * (1 - base) * inside).T).astype(np.int64)      # right where base is wrong
    losses = np.rint(counts @ ((1 - rows) * base * inside).T).astype(np.int64)    # wrong where base is right
    thresholds = sign_test_thresholds(int((wins + losses).max(initial=0)), alpha / max(tests, 1))
    passed = (wins >= thresholds[wins + losses]) & (wins > losses)  # alpha = 1: more accurate is enough
    return passed if np.ndim(challenger) == 2 else passed[:, 0]


def _pick(counts: np.ndarray, values: np.ndarray, chooser: np.ndarray, guard: Guard) -> np.ndarray:
    """Per resample (rows of `counts`, clip multiplicities): the method the clips in `chooser` choose."""
    allowed = guard.challenger_mask(len(values))
    inside = chooser.astype(np.float64)
    passes = beats(counts, values, values[guard.default], inside, guard.alpha, int(allowed.sum())) & allowed
    sums = np.where(passes, counts @ (values * inside).T, -np.inf)
    best = np.argmax(sums >= sums.max(axis=1, keepdims=True) - 1e-9, axis=1)  # the earliest of the most accurate
    return np.where(passes.any(axis=1), best, guard.default)
