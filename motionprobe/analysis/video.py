"""Video-level accuracy: the majority vote of a video's clips, when a video has several."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .estimates import accuracy_block, estimates_of
from .methods import BEST, METHODS
from .outcomes import Outcomes


def video_accuracy(outcomes: Outcomes, ks: Sequence[int], n_boot: int, seed: int, level: float) -> dict | None:
    """Video-level accuracy when clip ids are "<video>#<n>" and some video has several clips: the majority vote
    of a video's clips against the majority of their targets (ties: lowest class)."""
    if not outcomes.ids or not all("#" in i for i in outcomes.ids):
        return None
    videos, inverse = np.unique([i.rsplit("#", 1)[0] for i in outcomes.ids], return_inverse=True)
    if len(videos) == len(outcomes.ids):
        return None  # one clip per video: video accuracy is clip accuracy
    num_classes = int(max([outcomes.labels.max()] + [p.max() for p in outcomes.pred.values()])) + 1
    # A video's target is the majority of its clips' targets: the label they share, or (agreement) the
    # class most of its full clips were given.
    target_votes = np.bincount(inverse * num_classes + outcomes.labels, minlength=len(videos) * num_classes)
    labels = target_votes.reshape(len(videos), num_classes).argmax(axis=1)
    correct = {}
    for key, pred in outcomes.pred.items():
        if key[0] not in (*METHODS, BEST):
            continue
        votes = np.bincount(inverse * num_classes + pred, minlength=len(videos) * num_classes)
        correct[key] = (votes.reshape(len(videos), num_classes).argmax(axis=1) == labels).astype(np.float64)
    est = estimates_of(correct, np.arange(len(videos)), n_boot, [seed, 3], level)
    return {"num_videos": int(len(videos)), "accuracy": accuracy_block(est, ks)}
