"""Scoring the analysis against a dataset's planted truth: figures per kind of class, and how well the
per-class bounds find the classes that need motion.

The kinds and which of them need motion are the truth file's vocabulary (data/truth.py): the classes of
`NEEDS_MOTION` kinds are the positives of the AUROCs, and the kinds in `ONE_FRAME_KINDS` (decided by one
frame) get their gains and bounds reported beside them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.truth import NEEDS_MOTION, ONE_FRAME_KINDS
from .estimates import accuracy_block, by_k, estimates_of, rounded
from .outcomes import Key, Outcomes
from .stats import auroc


def planted_truth_figures(outcomes: Outcomes, classes: Sequence[str], stats: dict[Key, np.ndarray], per_class: dict,
              kinds: dict[str, str], ks: Sequence[int], n_boot: int, seed: int, level: float) -> tuple[dict, dict | None]:
    """Accuracies per planted kind of class, and how well the per-class motion bound finds the motion classes."""
    kind_names = sorted({kinds[c] for c in classes if c in kinds})
    out = {}
    for j, kind in enumerate(kind_names):
        members = [c for c, name in enumerate(classes) if kinds.get(name) == kind]
        rows = np.flatnonzero(np.isin(outcomes.labels, members))
        est = estimates_of(stats, rows, n_boot, [seed, 2, j], level)
        out[kind] = {"classes": [classes[c] for c in members], "n": int(len(rows)),
                     "accuracy": accuracy_block(est, ks) if len(rows) else {},
                     **{name: by_k(est, name, ks) for name in ("motion_bound", "paper_bound", "uniform_gap",
                                                                 "full_minus_uniform", "best_minus_uniform")}}
    if not any(kind in NEEDS_MOTION for kind in kind_names):
        return out, None
    present = [name for name, entry in per_class.items() if entry["n"] > 0 and name in kinds and entry["analysable"]]
    positive = np.array([kinds[name] in NEEDS_MOTION for name in present])

    def auroc_of(field_name: str) -> dict[str, float | None]:
        res = {}
        for k in ks:
            scores = [per_class[name][field_name].get(str(k)) for name in present]
            if scores and all(s is not None for s in scores):
                res[str(k)] = rounded(auroc(np.array(scores), positive))
        return res

    truth = {"positive_kind": "+".join(NEEDS_MOTION), "classes_scored": present,
             "motion_bound_auroc": auroc_of("motion_bound"), "paper_bound_auroc": auroc_of("paper_bound"),
             "motion_bound_f1_auroc": auroc_of("motion_bound_f1"), "uniform_gap_auroc": {
                 str(k): rounded(auroc(np.array([per_class[n]["uniform_gap"][str(k)]["value"] for n in present]),
                                      positive)) for k in ks if present},
             **{f"{kind}_{name}": out.get(kind, {}).get(name, {}) for kind in ONE_FRAME_KINDS
                for name in ("full_minus_uniform", "best_minus_uniform", "motion_bound")}}
    return out, truth
