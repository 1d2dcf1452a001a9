"""The cross-fitted choice of the bound's method, overall and per class, and the intervals that repeat it.

Overall, per k: the guarded rule of analysis/choice.py picks a method on each half of the clips from the
other half's labels, the paper's `full` the default. Per class: each half of a class's clips keeps the
overall choice unless `full` or `uniform` did better on that class's clips in the other half. The bootstrap
repeats both choices in every resample, so a bound's interval carries the noise of its choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .choice import ALPHA, Guard, bootstrap_guarded, guarded_choice
from .engine import Plan
from .estimates import rounded
from .methods import BEST, BOUND_CANDIDATES
from .outcomes import Key, Outcomes
from .stats import Estimate, bootstrap_means, percentile_interval


@dataclass(frozen=True)
class BoundChoice:
    """The methods the bound at k chose among (the first the default), the one chosen for each fold, and the
    best on all clips."""

    candidates: list[str]
    folds: list[str]
    on_all_clips: str

    @classmethod
    def from_dict(cls, data: dict) -> BoundChoice:
        return cls(list(data["candidates"]), list(data["chosen_per_fold"]), data["best_on_all_clips"])

    def to_dict(self) -> dict:
        return {"candidates": self.candidates, "default": self.candidates[0], "chosen_per_fold": self.folds,
                "best_on_all_clips": self.on_all_clips}


def choose_best(outcomes: Outcomes, plan: Plan, folds: np.ndarray, alpha: float = ALPHA) -> dict[int, BoundChoice]:
    """Per k, the `best` method by guarded cross-fitting (analysis/choice.py), the first candidate (the paper's
    `full` where k has a generator) the default: its predictions and frames join `outcomes` as (BEST, k)."""
    choices = {}
    for k in plan.ks:
        names = [m for m in BOUND_CANDIDATES if (m, k) in outcomes.pred]
        values = np.stack([outcomes.correct((m, k)) for m in names])
        _, picked = guarded_choice(values, folds, Guard(alpha=alpha))
        means = values.mean(axis=1) if values.shape[1] else np.zeros(len(names))
        overall = int(np.flatnonzero(means >= means.max() - 1e-12)[0]) if len(names) else 0
        for table in (outcomes.pred, outcomes.frames):
            table[(BEST, k)] = np.where(folds == 0, table[(names[picked[0]], k)], table[(names[picked[1]], k)])
        choices[k] = BoundChoice(names, [names[i] for i in picked], names[overall])
    return choices


# Per class, the methods that may replace the overall choice: the paper's, and plain replication (a class's
# bound should not exceed what either shows for it beyond noise).
CLASS_CHALLENGERS = ("full", "uniform")


@dataclass
class ClassChoice:
    """Per k and class: the guard of each half (the overall choice the default, the class challengers) and the
    method each half of the class's clips is scored by."""

    guards: dict[int, dict[int, tuple[Guard, Guard]]]
    methods: dict[int, dict[int, list[str]]]


def choose_per_class(outcomes: Outcomes, plan: Plan, folds: np.ndarray,
                     choices: dict[int, BoundChoice]) -> tuple[Outcomes, ClassChoice]:
    """Per k and class, the method each half of that class's clips is scored by: the half's overall choice,
    unless `full` or `uniform` was more accurate on the class's clips in the other half (plain cross-fitting:
    a class's few clips tell only large differences apart, and only two challengers can win). Returns a copy
    of `outcomes` whose (BEST, k) are these per-class choices, for the per-class and per-kind figures.

    The choice looks at the labels of the other half only, as the overall choice does, so each class's bound
    stays a bound of a label-free method on that class's clips; the method may differ between classes."""
    class_outcomes = Outcomes(outcomes.clip_index, outcomes.ids, outcomes.labels, dict(outcomes.pred),
                              dict(outcomes.frames), outcomes.probe_correct, outcomes.probe_pred, outcomes.skipped,
                              folds)
    guards: dict[int, dict[int, tuple[Guard, Guard]]] = {}
    methods: dict[int, dict[int, list[str]]] = {}
    for k in plan.ks:
        names = choices[k].candidates
        values = np.stack([outcomes.correct((m, k)) for m in names])
        challengers = tuple(names.index(m) for m in CLASS_CHALLENGERS if m in names)
        pick = np.zeros(len(folds), dtype=np.int64)
        guards[k], methods[k] = {}, {}
        for c in np.unique(outcomes.labels).tolist():
            rows = outcomes.labels == c
            pair = tuple(Guard(default=names.index(choices[k].folds[f]), alpha=1.0, challengers=challengers)
                         for f in (0, 1))
            _, picked = guarded_choice(values[:, rows], folds[rows], pair)
            pick[rows] = np.where(folds[rows] == 0, picked[0], picked[1])
            guards[k][c], methods[k][c] = pair, [names[i] for i in picked]
        for table in (class_outcomes.pred, class_outcomes.frames):
            table[(BEST, k)] = np.choose(pick, [table[(m, k)] for m in names])
    return class_outcomes, ClassChoice(guards, methods)


def crossfit_intervals(est: dict[Key, Estimate], outcomes: Outcomes, plan: Plan, choices: dict[int, BoundChoice],
                        folds: np.ndarray, n_boot: int, seed: list[int], level: float) -> None:
    """Replace the intervals of `best` and the motion bound by ones whose every resample repeats the choice
    (same resamples as the other statistics: the bound stays paired with the original)."""
    original = bootstrap_means(outcomes.correct(("original", None))[None], n_boot, seed)[:, 0]
    for k in plan.ks:
        values = np.stack([outcomes.correct((m, k)) for m in choices[k].candidates])
        boot = bootstrap_guarded(values, folds, n_boot, seed)
        for key, draws in (((BEST, k), boot), (("motion_bound", k), original - boot)):
            lo, hi = percentile_interval(draws[:, None], level)[0]
            est[key] = Estimate(est[key].value, (float(lo), float(hi)), est[key].n)


def class_intervals(per_class: dict, outcomes: Outcomes, plan: Plan, choices: dict[int, BoundChoice],
                     class_choice: ClassChoice, folds: np.ndarray, classes: Sequence[str], n_boot: int, seed: int,
                     level: float) -> None:
    """Each class's motion-bound interval with the class's own choice repeated in every resample (paired with
    its original), and the method each half of its clips was scored by."""
    original = outcomes.correct(("original", None))
    for c, name in enumerate(classes):
        rows = outcomes.labels == c
        entry = per_class[name]
        if not rows.any():
            continue
        entry["bound_method"] = {str(k): class_choice.methods[k][c] for k in plan.ks}
        base = bootstrap_means(original[rows][None], n_boot, [seed, 1, c])[:, 0]
        for k in plan.ks:
            values = np.stack([outcomes.correct((m, k)) for m in choices[k].candidates])
            boot = bootstrap_guarded(values[:, rows], folds[rows], n_boot, [seed, 1, c], class_choice.guards[k][c])
            lo, hi = percentile_interval((base - boot)[:, None], level)[0]
            entry["motion_bound_ci"][str(k)] = [rounded(lo), rounded(hi)]
