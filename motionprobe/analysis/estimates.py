"""Every reported mean as a per-clip vector, and its bootstrap estimate over any set of clips.

Accuracies are 1/0 per clip; gaps and bounds are paired differences of those, so an interval of a gap is
paired: the same resampled clips on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .engine import Plan
from .methods import BEST, METHODS
from .outcomes import Key, Outcomes
from .stats import Estimate, estimate_means


def per_clip_statistics(outcomes: Outcomes, plan: Plan) -> dict[Key, np.ndarray]:
    """Every reported mean as a per-clip vector: accuracies (1/0) and paired gaps (differences of those)."""
    stats: dict[Key, np.ndarray] = {key: outcomes.correct(key) for key in outcomes.keys()}
    original = stats[("original", None)]
    for k in plan.ks:
        uniform = stats[("uniform", k)]
        stats[("uniform_gap", k)] = original - uniform
        stats[("motion_bound", k)] = original - stats[(BEST, k)]
        stats[("best_minus_uniform", k)] = stats[(BEST, k)] - uniform
        if ("full", k) in stats:
            stats[("paper_bound", k)] = original - stats[("full", k)]
            stats[("full_minus_uniform", k)] = stats[("full", k)] - uniform
            stats[("generator_minus_uniform", k)] = stats[("generator", k)] - uniform
        if ("full_sampled", k) in stats:
            stats[("candidate_gap", k)] = stats[("full", k)] - stats[("full_sampled", k)]
    return stats


def estimates_of(stats: dict[Key, np.ndarray], rows: np.ndarray, n_boot: int, seed: list[int],
               level: float) -> dict[Key, Estimate]:
    keys = list(stats)
    values = np.stack([stats[key][rows] for key in keys]) if keys else np.zeros((0, 0))
    return dict(zip(keys, estimate_means(values, n_boot, seed, level), strict=True))


def by_k(est: dict[Key, Estimate], name: str, ks: Sequence[int]) -> dict[str, dict]:
    return {str(k): est[(name, k)].to_dict() for k in ks if (name, k) in est}


def accuracy_block(est: dict[Key, Estimate], ks: Sequence[int]) -> dict:
    block = {"original": est[("original", None)].to_dict()}
    for method in (*METHODS[1:], BEST):
        block[method] = by_k(est, method, ks)
    return block


def rounded(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)
