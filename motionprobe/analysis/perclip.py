"""A run's per-clip outcomes as the card and `motionprobe compare` read them: per clip its target, what every
method predicted at every k, and the share of each temporal probe's draws it got right.

Built from the analysis' own outcomes, or read back from per_clip.csv (docs/results-schema.md), so two
finished analysis folders can be compared clip by clip without a model run. The bound's statistics are
pure functions of these arrays.

>>> clips = PerClip(["a", "b"], np.array([0, 1]), {"original": np.array([0, 1]), "best@1": np.array([0, 0])}, {})
>>> clips.correct("best@1").tolist(), clips.take(np.array([1])).ids
([1.0, 0.0], ['b'])
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from .choice import bootstrap_guarded, folds_of, guarded_choice
from .outcomes import Outcomes
from .stats import bootstrap_means

ID_COLUMNS = ("clip_id", "label", "class", "fold")  # per_clip.csv's columns that are no method
PROBE_COLUMN = "probe:"  # per_clip.csv's probe columns: "probe:shuffle" is the share of shuffle's draws right


@dataclass
class PerClip:
    ids: list[str]
    labels: np.ndarray  # the target scored against: the label, or the full-clip prediction
    pred: dict[str, np.ndarray]  # "original", "<method>@<k>" → predicted class per clip
    probes: dict[str, np.ndarray]  # probe name → share of its draws right per clip (NaN: not run)
    folds: np.ndarray | None = None  # the half each clip was in for the bound's choice (None: not recorded)

    def correct(self, column: str) -> np.ndarray:
        return (self.pred[column] == self.labels).astype(np.float64)

    def take(self, rows: np.ndarray) -> PerClip:
        return PerClip([self.ids[i] for i in rows], self.labels[rows], {c: v[rows] for c, v in self.pred.items()},
                       {n: v[rows] for n, v in self.probes.items()}, None if self.folds is None else self.folds[rows])

    @classmethod
    def from_outcomes(cls, outcomes: Outcomes) -> PerClip:
        pred = {("original" if k is None else f"{m}@{k}"): p for (m, k), p in outcomes.pred.items()}
        return cls(list(outcomes.ids), np.asarray(outcomes.labels), pred, dict(outcomes.probe_correct), outcomes.folds)

    @classmethod
    def read(cls, path: str | Path) -> PerClip:
        """per_clip.csv → PerClip; UserError naming the file when it is missing or not such a table."""
        path = Path(path)
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            header = list(rows[0]) if rows else []
            if "clip_id" not in header or "label" not in header or "original" not in header:
                raise ValueError("expected the columns clip_id, label and original")
            methods = [c for c in header if c not in ID_COLUMNS and not c.endswith("_frames")
                       and not c.startswith(PROBE_COLUMN)]
            probes = [c for c in header if c.startswith(PROBE_COLUMN)]
            return cls([r["clip_id"] for r in rows], np.array([int(r["label"]) for r in rows], dtype=np.int64),
                       {m: np.array([int(r[m]) for r in rows], dtype=np.int64) for m in methods},
                       {c[len(PROBE_COLUMN):]: np.array([float(r[c]) if r[c] != "" else np.nan for r in rows])
                        for c in probes},
                       np.array([int(r["fold"]) for r in rows]) if rows and _has_folds(rows) else None)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, csv.Error, IndexError) as e:
            raise UserError(f"{path}: not a readable per-clip table ({str(e).splitlines()[0] if str(e) else e!r})") \
                from None


def _has_folds(rows: list[dict]) -> bool:
    """Whether the table records every clip's half (else `bound_draws` draws the halves from the run's seed)."""
    return all(r.get("fold") not in (None, "") for r in rows)


def area_weights(ks: list[int]) -> np.ndarray:
    """Weights that turn a bound per k into its area over k: the trapezoid under the bound against log2 k,
    divided by the log2-k range (a mean bound; one k: the bound itself).

    >>> area_weights([1, 2, 4, 8]).round(4).tolist(), area_weights([4]).tolist()
    ([0.1667, 0.3333, 0.3333, 0.1667], [1.0])
    """
    x = np.log2(np.asarray(ks, dtype=np.float64))
    if len(x) == 1:
        return np.ones(1)
    w = np.zeros(len(x))
    for i, step in enumerate(np.diff(x)):
        w[i] += step / 2
        w[i + 1] += step / 2
    return w / (x[-1] - x[0])


def bound_draws(clips: PerClip, candidates: dict[int, list[str]], seed: int, ks: list[int], n_boot: int,
                boot_seed: int | list[int]) -> tuple[dict[int, float], dict[int, np.ndarray]]:
    """Per k, the motion bound (original − the cross-fitted best method among `candidates[k]`) on these clips and
    its bootstrap draws, the choice repeated in every resample (as results.json's interval; `seed` the analysis's,
    which split the clips into halves). Draws of one `boot_seed` over the same number of clips see the same
    resamples, so two runs' draws on the same clips in the same order are paired."""
    folds = clips.folds if clips.folds is not None else folds_of(clips.ids, seed, strata=clips.labels)
    original = clips.correct("original")
    orig_draws = bootstrap_means(original[None], n_boot, boot_seed)[:, 0]
    points, draws = {}, {}
    for k in ks:
        names = [m for m in candidates[k] if f"{m}@{k}" in clips.pred]
        values = np.stack([clips.correct(f"{m}@{k}") for m in names])
        boot = bootstrap_guarded(values, folds, n_boot, boot_seed)
        draws[k] = orig_draws - boot
        best, _ = guarded_choice(values, folds)
        points[k] = float(original.mean() - best.mean()) if len(original) else float("nan")
    return points, draws
