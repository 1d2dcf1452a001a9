"""Per-class statistics of predictions against targets, and the classes a motion-free model falls back to.

A class's accuracy under motion ablation (its recall) is the natural per-class figure, but it is fooled in
one way: when the frames of many clips no longer show their class, the model often gives one *fallback*
class to all of them. That class keeps a high recall for the wrong reason (its own clips would be called
that way whatever they showed), and every other class that lost clips to it looks worse. Precision sees
this, recall does not; F1 = 2·TP / (2·TP + FP + FN) combines the two.

>>> labels = np.array([0, 0, 1, 1, 2, 2])
>>> pred = np.array([0, 0, 0, 0, 0, 2])            # class 0 receives every clip of class 1 and one of class 2
>>> per_class_recall(labels, pred, 3).tolist(), per_class_f1(labels, pred, 3).round(2).tolist()
([1.0, 0.0, 0.5], [0.57, 0.0, 0.67])
>>> [f.name for f in fallback_classes(labels, pred, ["a", "b", "c"])]
['a']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A class is a fallback when it receives at least as many clips of other classes as it has clips, and at
# least this many: with a handful of clips one stray prediction is not a pattern.
FALLBACK_MIN_RECEIVED = 3


def _counts(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives and false negatives per class; predictions outside the classes are wrong."""
    keep = (labels >= 0) & (labels < num_classes)
    labels, pred = labels[keep], pred[keep]
    pred = np.where((pred >= 0) & (pred < num_classes), pred, num_classes)
    tp = np.bincount(labels[pred == labels], minlength=num_classes).astype(float)
    fp = np.bincount(pred[pred != labels], minlength=num_classes + 1)[:num_classes].astype(float)
    fn = np.bincount(labels[pred != labels], minlength=num_classes).astype(float)
    return tp, fp, fn


def per_class_recall(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-class accuracy: the share of a class's clips predicted as it; NaN for a class without clips."""
    tp, _, fn = _counts(labels, pred, num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fn > 0, tp / (tp + fn), np.nan)


def per_class_f1(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """F1 of each class: 2·TP / (2·TP + FP + FN); NaN for a class never present nor predicted.

    >>> per_class_f1(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]), 2).round(3).tolist()
    [0.667, 0.0]
    """
    tp, fp, fn = _counts(labels, pred, num_classes)
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / denom, np.nan)


def per_class_informedness(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Youden's J per class: its recall minus the share of the other classes' clips given it.

    >>> per_class_informedness(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]), 2).tolist()
    [0.5, 0.5]
    """
    tp, fp, fn = _counts(labels, pred, num_classes)
    negatives = len(labels) - (tp + fn)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fn > 0, tp / (tp + fn), np.nan) - np.where(negatives > 0, fp / negatives, 0.0)


def per_class_corrected(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Recall corrected for guessing: a class's clips are taken to reach it either by their evidence or, without
    it, as often as the other classes' misclassified clips do (q, the share of those given this class), so the
    evidence-borne share is (recall − q) / (1 − q), at least 0. A class the model gives every clip it cannot
    place keeps no credit for its own clips unless they reach it more often than those.

    >>> labels, pred = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 0, 0, 2])
    >>> per_class_corrected(labels, pred, 3).round(2).tolist()   # class 0 receives all 3 misplaced clips: q = 1
    [0.0, 0.0, 0.5]
    """
    tp, fp, fn = _counts(labels, pred, num_classes)
    recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), np.nan)
    misplaced = fn.sum() - fn  # the other classes' misclassified clips
    q = np.where(misplaced > 0, fp / np.maximum(misplaced, 1), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corrected = np.where(q < 1, (recall - q) / (1 - q), 0.0)  # q = 1: its clips are indistinguishable from guesses
    return np.clip(corrected, 0.0, 1.0)


@dataclass(frozen=True)
class Fallback:
    """A class given to many clips of other classes: `received` of them (from `sources`, class → count)."""

    name: str
    clips: int
    recall: float
    precision: float
    received: int
    sources: dict[str, int]

    def to_dict(self) -> dict:
        return {"class": self.name, "clips": self.clips, "recall": round(self.recall, 6),
                "precision": round(self.precision, 6), "received": self.received, "from": self.sources}


def fallback_classes(labels: np.ndarray, pred: np.ndarray, classes: Sequence[str]) -> list[Fallback]:
    """Classes that receive at least as many clips of other classes as they have (and ≥ FALLBACK_MIN_RECEIVED)."""
    num_classes = len(classes)
    tp, fp, fn = _counts(labels, pred, num_classes)
    found = []
    for c in np.flatnonzero((fp >= np.maximum(tp + fn, FALLBACK_MIN_RECEIVED)) & (tp + fn > 0)):
        wrong = labels[(pred == c) & (labels != c)]
        sources = {classes[int(s)]: int(n) for s, n in zip(*np.unique(wrong, return_counts=True), strict=True)}
        found.append(Fallback(classes[c], int(tp[c] + fn[c]), float(tp[c] / (tp[c] + fn[c])),
                              float(tp[c] / (tp[c] + fp[c])), int(fp[c]),
                              dict(sorted(sources.items(), key=lambda item: -item[1]))))
    return found
