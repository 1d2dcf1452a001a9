"""Differences between two runs (a − b), with bootstrap intervals: paired where they analysed the same clips.

Paired: one bootstrap over the shared clips, the same resamples for both runs, so what the two runs have
in common (which clips are hard) cancels and only their difference varies. Each run's motion bound
repeats its own cross-fitted choice in every resample, as results.json's interval does. Unpaired: each
run resampled alone (independent draws), the interval of the difference of two independent estimates.

Statistics: the motion bound per shared k and its area over those k's, the drop of every probe both ran
(original − probe, on the clips both ran it on), the temporal demand (the drop at the largest shared
stride) and the relative temporal robustness over the probe families both ran.
"""

from __future__ import annotations

import numpy as np

from ..analysis.perclip import PerClip, area_weights, bound_draws
from ..analysis.stats import Estimate, resample_counts
from ..analysis.temporal import robustness_values
from ..probes import FAMILIES, PROBE, STRIDE_CURVE, TABLE
from .runs import Run

SEED = 20180618  # the bootstrap's seed in compare (any fixed number: the report is deterministic)


def _estimate(point: float, draws: np.ndarray, n: int, level: float) -> dict:
    draws = draws[np.isfinite(draws)]
    alpha = (1 - level) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha]) if len(draws) else (np.nan, np.nan)
    return Estimate(float(point), (float(lo), float(hi)), n).to_dict()


def _probe_drop(clips: PerClip, name: str) -> np.ndarray:
    """Per clip: original − the share of the probe's draws right (NaN where the probe did not run)."""
    return clips.correct("original") - clips.probes[name]


def _mean_draws(values: np.ndarray, n_boot: int, seed: list[int]) -> np.ndarray:
    """Bootstrap means of `values` over the finite ones' resamples (n_boot,)."""
    values = values[np.isfinite(values)]
    if not len(values):
        return np.full(n_boot, np.nan)
    return np.concatenate([counts @ values / len(values) for counts in resample_counts(len(values), n_boot, seed)])


def compare_pair(a: Run, b: Run, order: np.ndarray | None, n_boot: int, level: float) -> dict:
    """The differences a − b. `order` (b's rows in a's clip order) makes them paired; None: unpaired."""
    ks = sorted(set(a.ks) & set(b.ks))
    paired = order is not None
    ca, cb = a.clips, (b.clips.take(order) if paired else b.clips)
    seeds = ([SEED, 0], [SEED, 0]) if paired else ([SEED, 1], [SEED, 2])  # paired: the same resamples for both
    out: dict = {"a": a.name, "b": b.name, "paired": paired, "clips": len(ca.ids) if paired else None, "ks": ks}

    pa, da = bound_draws(ca, a.results.bound_candidates(), a.results.seed, ks, n_boot, seeds[0])
    pb, db = bound_draws(cb, b.results.bound_candidates(), b.results.seed, ks, n_boot, seeds[1])
    n = len(ca.ids) if paired else min(len(ca.ids), len(cb.ids))
    out["motion_bound"] = {str(k): _estimate(pa[k] - pb[k], da[k] - db[k], n, level) for k in ks}
    weights = dict(zip(ks, area_weights(ks), strict=True))

    def area(per_k: dict) -> float | np.ndarray:
        return sum(weights[k] * per_k[k] for k in ks)

    out["bound_area"] = {**_estimate(area(pa) - area(pb), area(da) - area(db), n, level), "ks": ks}

    out["probe_drop"] = {}
    for probe in (p.name for p in TABLE if p.name in ca.probes and p.name in cb.probes):
        xa, xb = _probe_drop(ca, probe), _probe_drop(cb, probe)
        if paired:
            both = xa - xb  # NaN where either did not run
            ran = np.isfinite(both)
            if ran.any():
                out["probe_drop"][probe] = _estimate(both[ran].mean(), _mean_draws(both, n_boot, [SEED, 3]),
                                                     int(ran.sum()), level)
        elif np.isfinite(xa).any() and np.isfinite(xb).any():
            out["probe_drop"][probe] = _estimate(np.nanmean(xa) - np.nanmean(xb),
                                                 _mean_draws(xa, n_boot, [SEED, 4]) - _mean_draws(xb, n_boot, [SEED, 5]),
                                                 int(min(np.isfinite(xa).sum(), np.isfinite(xb).sum())), level)
    strides = [p for p in STRIDE_CURVE if p in out["probe_drop"]]
    out["temporal_demand"] = ({**out["probe_drop"][strides[-1]], "to_stride": PROBE[strides[-1]].read}
                              if strides else None)
    out["robustness"] = _robustness(ca, cb, paired, n_boot, level)
    return out


def _robustness(ca: PerClip, cb: PerClip, paired: bool, n_boot: int, level: float) -> dict | None:
    """Relative temporal robustness over the probe families both runs ran, a − b."""
    shared = [p for p in TABLE if p.name in ca.probes and p.name in cb.probes]
    groups = {f: [p.name for p in shared if p.family == f] for f in FAMILIES}
    groups = {f: names for f, names in groups.items() if names}
    if not groups:
        return None

    def values(clips: PerClip, counts: np.ndarray) -> np.ndarray:
        return robustness_values(clips.correct("original"), clips.probes, groups, counts)["overall"]

    point = values(ca, np.ones((1, len(ca.ids))))[0] - values(cb, np.ones((1, len(cb.ids))))[0]
    if paired:
        draws = np.concatenate([values(ca, c) - values(cb, c) for c in resample_counts(len(ca.ids), n_boot, [SEED, 6])])
    else:
        draws = (np.concatenate([values(ca, c) for c in resample_counts(len(ca.ids), n_boot, [SEED, 7])])
                 - np.concatenate([values(cb, c) for c in resample_counts(len(cb.ids), n_boot, [SEED, 8])]))
    return _estimate(point, draws, len(ca.ids) if paired else min(len(ca.ids), len(cb.ids)), level)
