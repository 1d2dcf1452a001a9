"""Percentile-bootstrap confidence intervals over clips, and the AUROC of a per-class score.

Every statistic the analysis reports is a mean over clips of a per-clip value: 1/0 for a correct or
wrong prediction, or the difference of two such values for a gap (original − full). Resampling the
clips once and reusing the same resamples for every statistic makes differences *paired*: the
interval of "original − full" reflects that both were measured on the same clips.

>>> values = np.array([[1, 1, 0, 1, 0, 1, 1, 1.0]])
>>> est = estimate_means(values, n_boot=2000, seed=0)[0]
>>> est.value, est.n, est.ci[0] < est.value < est.ci[1]
(0.75, 8, True)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

CI_LEVEL = 0.95
_MAX_CHUNK_CELLS = 1 << 22  # resample-count matrix cells per chunk: bounds memory for any number of clips


@dataclass(frozen=True)
class Estimate:
    """A mean over `n` clips with its bootstrap interval."""

    value: float
    ci: tuple[float, float]
    n: int

    @classmethod
    def from_dict(cls, data: dict) -> Estimate:
        """An estimate as results.json holds it, {"value", "ci": [lo, hi], "n"} (None for what was not finite)."""
        return cls(data["value"], tuple(data["ci"]), data.get("n"))

    def to_dict(self, digits: int = 6) -> dict:
        return {"value": _round(self.value, digits), "ci": [_round(self.ci[0], digits), _round(self.ci[1], digits)],
                "n": self.n}


def _round(x: float, digits: int) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def resample_counts(n: int, n_boot: int, seed: int | list[int]) -> Iterator[np.ndarray]:
    """The bootstrap's resamples of n clips as multinomial counts, in chunks of (b, n) rows.

    Deterministic given `seed` (an int or a list of ints, as numpy seeds): every statistic drawn from
    the same seed sees the same resamples, which is what makes differences of them paired."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _MAX_CHUNK_CELLS // max(1, n))
    p = np.full(n, 1.0 / n)
    for lo in range(0, n_boot, chunk):
        yield rng.multinomial(n, p, size=min(n_boot, lo + chunk) - lo).astype(np.float64)


def bootstrap_means(values: np.ndarray, n_boot: int, seed: int | list[int]) -> np.ndarray:
    """Means of each row of `values` (M, N) over `n_boot` resamples of the N columns: (n_boot, M).

    Each resample draws N clips with replacement, as multinomial counts shared by all M rows.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be (statistics, clips), got shape {values.shape}")
    m, n = values.shape
    if n == 0:
        return np.full((n_boot, m), np.nan)
    return np.concatenate([counts @ values.T / n for counts in resample_counts(n, n_boot, seed)])


def percentile_interval(boot: np.ndarray, level: float = CI_LEVEL) -> np.ndarray:
    """(n_boot, M) bootstrap means → (M, 2) lower and upper percentile bounds."""
    alpha = (1.0 - level) / 2.0
    return np.quantile(boot, [alpha, 1.0 - alpha], axis=0).T


def estimate_means(values: np.ndarray, n_boot: int, seed: int | list[int], level: float = CI_LEVEL) -> list[Estimate]:
    """Point estimate (the sample mean) and percentile interval for each row of `values` (M, N)."""
    values = np.asarray(values, dtype=np.float64)
    m, n = values.shape
    if n == 0:
        return [Estimate(float("nan"), (float("nan"), float("nan")), 0) for _ in range(m)]
    means = values.mean(axis=1)
    bounds = percentile_interval(bootstrap_means(values, n_boot, seed), level)
    return [Estimate(float(means[i]), (float(bounds[i, 0]), float(bounds[i, 1])), n) for i in range(m)]


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties counting one half.

    >>> auroc(np.array([0.9, 0.8, 0.1, 0.2]), np.array([True, True, False, False]))
    1.0
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side is constant.

    >>> a = np.array([1, 2, 3, 4.0])
    >>> spearman(a, np.array([10, 20, 30, 35.0])), spearman(a, -a)
    (1.0, -1.0)
    """
    ra, rb = _ranks(np.asarray(a, dtype=np.float64)), _ranks(np.asarray(b, dtype=np.float64))
    if len(ra) < 2 or ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    for value in np.unique(x):  # ties share their average rank
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks
