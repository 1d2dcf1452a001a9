"""Graded temporal probes and temporal-sampling curves: the summaries results.json adds beside the probes.

From the per-clip probe outcomes (the share of a probe's draws the model got right, NaN where the probe
did not run) and the probes' table (motionprobe/probes.py):

- `robustness`: per probe, relative robustness γ = acc(probe) / acc(original) on the clips it ran on
  (Schiappa et al. 2023's 1 − (A_clean − A_perturbed) / A_clean); per family, the mean of γ over the
  family's severities that ran; `overall`, the mean over the families, so each family weighs the same
  whatever its number of severities. 1: the probe changes nothing; 0: nothing is left.
- `sampling`: the stride curve (the clip read at 1, 2, 4, 8, 16 times its stride: speed ×1 … ×16) and the
  coverage curve (the clip's first 100, 50, 25 % stretched over its T frames: speed ×1, ×0.5, ×0.25), and
  the temporal demand, infoRates' Temporal Demand Score: accuracy at stride 1 − accuracy at the largest
  stride that ran (16 by default), in the same units as every accuracy here, paired over clips.

Every interval is a percentile bootstrap over clips; the numerator and denominator of a ratio, and the
two ends of a difference, see the same resamples (paired). Worked example: a model right on 4 of 4
original clips and on 2 of them under a probe keeps half its accuracy (γ = 0.5):

>>> r = robustness_values(np.ones(4), {"p": np.array([1, 0, 1, 0.0])}, {"f": ["p"]}, counts=np.ones((1, 4)))
>>> float(r["f"][0]), float(r["overall"][0])
(0.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..probes import COVERAGE_CURVE, FAMILIES, PROBE, STRIDE_CURVE, family_members
from .outcomes import Outcomes
from .stats import CI_LEVEL, Estimate, resample_counts


def temporal_blocks(outcomes: Outcomes, classes: Sequence[str], kinds: dict[str, str] | None, summary: dict,
                    probe_names: Sequence[str], past_end: dict[int, int], n_boot: int, seed: int,
                    level: float = CI_LEVEL) -> dict:
    """`graded` and `sampling` for one target's summary (its `probes` block and original accuracy)."""
    return {"graded": graded(outcomes, classes, kinds, probe_names, n_boot, seed, level),
            "sampling": sampling(outcomes, classes, summary.get("probes") or {}, summary["accuracy"]["original"],
                                 probe_names, past_end)}


def robustness_values(original: np.ndarray, probe_correct: dict[str, np.ndarray], groups: dict[str, list[str]],
                      counts: np.ndarray) -> dict[str, np.ndarray]:
    """Each group's mean relative robustness, and `overall` (their mean), for each row of clip weights `counts`
    (b, n): a bootstrap resample's multinomial counts, or ones for the point estimate. NaN where undefined."""
    names = [n for members in groups.values() for n in members]
    if not names:
        return {}
    probe = np.stack([probe_correct[n] for n in names])
    ran = np.isfinite(probe)
    num = counts @ np.where(ran, probe, 0.0).T               # (b, m): right under the probe
    den = counts @ np.where(ran, original[None], 0.0).T      # (b, m): right originally, on the same clips
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    out, column = {}, {n: i for i, n in enumerate(names)}
    for group, members in groups.items():
        out[group] = _nanmean(ratio[:, [column[n] for n in members]])
    out["overall"] = _nanmean(np.stack([out[g] for g in groups], axis=1))
    return out


def _nanmean(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(finite.any(axis=1), np.where(finite, values, 0).sum(axis=1) / finite.sum(axis=1), np.nan)


def _estimate(point: float, draws: np.ndarray, n: int, level: float) -> dict:
    draws = draws[np.isfinite(draws)]
    alpha = (1 - level) / 2
    ci = tuple(np.quantile(draws, [alpha, 1 - alpha])) if len(draws) else (np.nan, np.nan)
    return Estimate(float(point), (float(ci[0]), float(ci[1])), n).to_dict()


def robustness(outcomes: Outcomes, rows: np.ndarray, names: Sequence[str], n_boot: int, seed: list[int],
               level: float = CI_LEVEL) -> dict:
    """Relative robustness per family (the severities that ran) and overall, with intervals, over clips `rows`."""
    groups = {f: [p.name for p in family_members(names, f)] for f in FAMILIES}
    groups = {f: members for f, members in groups.items() if members}
    if not groups or not len(rows):
        return {}
    original = outcomes.correct(("original", None))[rows]
    correct = {n: outcomes.probe_correct[n][rows] for n in names}
    point = robustness_values(original, correct, groups, np.ones((1, len(rows))))
    draws = {key: [] for key in point}
    for counts in resample_counts(len(rows), n_boot, seed):
        for key, values in robustness_values(original, correct, groups, counts).items():
            draws[key].append(values)
    return {key: _estimate(point[key][0], np.concatenate(draws[key]), len(rows), level) for key in point}


def graded(outcomes: Outcomes, classes: Sequence[str], kinds: dict[str, str] | None, names: Sequence[str],
           n_boot: int, seed: int, level: float = CI_LEVEL) -> dict:
    """results.json's `graded`: per family its probes mildest first (with their severity), and relative
    robustness overall, per planted kind (with intervals) and per class (values)."""
    names = [n for n in names if n in outcomes.probe_correct]
    if not names:
        return {}
    families = {f: [{"probe": p.name, "severity": p.severity, "label": p.label} for p in family_members(names, f)]
                for f in FAMILIES}
    everyone = np.arange(len(outcomes.labels))
    out = {"families": {f: members for f, members in families.items() if members},
           "robustness": robustness(outcomes, everyone, names, n_boot, [seed, 8], level),
           "per_kind": {}, "per_class": {}}
    for j, kind in enumerate(sorted(set((kinds or {}).values()))):
        members = [c for c, name in enumerate(classes) if (kinds or {}).get(name) == kind]
        rows = np.flatnonzero(np.isin(outcomes.labels, members))
        if len(rows):
            out["per_kind"][kind] = robustness(outcomes, rows, names, n_boot, [seed, 9, j], level)
    groups = {f: [m["probe"] for m in members] for f, members in out["families"].items()}
    original = outcomes.correct(("original", None))
    for c, name in enumerate(classes):
        rows = np.flatnonzero(outcomes.labels == c)
        if len(rows):
            values = robustness_values(original[rows], {n: outcomes.probe_correct[n][rows] for n in names}, groups,
                                       np.ones((1, len(rows))))
            out["per_class"][name] = {key: _rounded(v[0]) for key, v in values.items()}
    return out


def _rounded(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def sampling(outcomes: Outcomes, classes: Sequence[str], probes_block: dict, original: dict, names: Sequence[str],
             past_end: dict[int, int]) -> dict:
    """results.json's `sampling`: the stride and coverage curves and the temporal demand (overall and per class, the
    drop of the largest stride read, from the probes' block: the same estimates), and how many clips each read
    covered or had filled by the short-video policy."""
    strides = [n for n in STRIDE_CURVE if n in names and n in outcomes.probe_correct]
    coverage = [n for n in COVERAGE_CURVE if n in names and n in outcomes.probe_correct]
    if not strides and not coverage:
        return {}
    accuracy, per_class = probes_block.get("accuracy") or {}, probes_block.get("per_class") or {}
    read = [n for n in strides if np.isfinite(outcomes.probe_correct[n]).any()]
    last = read[-1] if read else None  # the largest stride any clip was read at: ×16 by default
    out: dict = {
        "stride": {"1": original, **{f"{PROBE[n].read}": accuracy.get(n) for n in strides}},
        "coverage": {"1": original, **{f"{PROBE[n].severity:g}": accuracy.get(n) for n in coverage}},
        "probes": {"stride": strides, "coverage": coverage},
        "reads": {str(PROBE[n].read): {"clips": int(np.isfinite(outcomes.probe_correct[n]).sum()),
                                       "past_end": int(past_end.get(PROBE[n].read, 0)),
                                       "left_out": int((~np.isfinite(outcomes.probe_correct[n])).sum())}
                  for n in strides},
        "temporal_demand": ({**(probes_block.get("drop") or {}).get(last, {}), "from_stride": 1,
                             "to_stride": PROBE[last].read} if last else None),
        "per_class": {}}
    original_correct = outcomes.correct(("original", None))
    for c, name in enumerate(classes):
        mine = per_class.get(name) or {}
        if not mine:
            continue
        own = _rounded(original_correct[outcomes.labels == c].mean())
        out["per_class"][name] = {
            "stride": {"1": own, **{f"{PROBE[n].read}": (mine.get(n) or {}).get("accuracy") for n in strides}},
            "coverage": {"1": own, **{f"{PROBE[n].severity:g}": (mine.get(n) or {}).get("accuracy") for n in coverage}},
            "temporal_demand": (mine.get(last) or {}).get("drop") if last else None}
    return out
