"""From the candidate table to the numbers: per-clip outcomes of every method, then accuracies with
bootstrap intervals overall, per class, per planted kind and per video.

Methods (per k; see docs/results-schema.md): `uniform` (replicated uniform subset), `generator`
(uniform subset generated), `full` (max response over the pool), `oracle`, `random` (a seeded pool
candidate), `pixel_generator`; plus `original`. Every method is a selector applied to rows of the
table, streamed one shard at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..selection import (
    DEFAULT_POOL,
    ScoreTable,
    Selection,
    candidates,
    num_subsets,
    select_max_response,
    select_oracle,
    select_random,
    select_uniform,
    subset_mask,
    uniform_subset,
)
from .engine import Plan
from .stats import CI_LEVEL, Estimate, auroc, estimate_means
from .table import GENERATOR, ORIGINAL, PIXEL_GENERATOR, REPLICATE, iter_shards

METHODS = ("original", "uniform", "generator", "full", "oracle", "random", "pixel_generator")
GENERATOR_METHODS = ("generator", "full", "oracle", "random")
PER_CLASS = (*METHODS, "motion_bound", "uniform_gap")  # statistics tabulated per class
WITHIN_POINTS = 0.01  # "within 1 point of the original" (the paper's Figure 5)
_EPS = 1e-9
Key = tuple[str, int | None]  # (method, k); k is None for "original"


@dataclass
class Outcomes:
    """Per evaluated clip (in dataset order): the prediction and the chosen frames of every method and k."""

    clip_index: np.ndarray
    ids: list[str]
    labels: np.ndarray
    pred: dict[Key, np.ndarray] = field(default_factory=dict)
    frames: dict[Key, np.ndarray] = field(default_factory=dict)  # chosen subset as a bit mask
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def correct(self, key: Key) -> np.ndarray:
        return (self.pred[key] == self.labels).astype(np.float64)

    def keys(self) -> list[Key]:
        return list(self.pred)


def sampled_pool_gap_ks(plan: Plan, sampled: int = DEFAULT_POOL) -> list[int]:
    """k's whose pool is every subset and larger than `sampled`: there the sampled estimate can be compared."""
    return [k for k, pool in plan.pools.items()
            if len(pool) == num_subsets(k, plan.num_frames) and len(pool) > sampled]


def collect_outcomes(table_dir, plan: Plan, seed: int, sampled: int = DEFAULT_POOL) -> Outcomes:
    """Apply every selector to every shard of the table (one shard in memory at a time)."""
    T = plan.num_frames
    gap_ks = sampled_pool_gap_ks(plan, sampled)
    sampled_masks = {k: np.array([subset_mask(s) for s in candidates(k, sampled, T, seed)]) for k in gap_ks}
    parts: list[Outcomes] = []
    skipped: list[tuple[str, str]] = []
    for shard in iter_shards(table_dir, plan.num_shards):
        skipped.extend(shard.skipped)
        rows = shard.rows
        part = Outcomes(shard.clip_index, shard.ids, shard.labels.astype(np.int64))
        chosen: dict[Key, tuple[Selection, ScoreTable]] = {}

        orig = rows.scores(ORIGINAL, num_frames=T)
        chosen[("original", None)] = (select_max_response(orig), orig)
        for k in plan.ks:
            uni = uniform_subset(k, T)
            rep = rows.scores(REPLICATE, k, num_frames=T)
            chosen[("uniform", k)] = (select_uniform(rep, uni), rep)
            if k in plan.pools:
                gen = rows.scores(GENERATOR, k, num_frames=T)
                pool = rows.scores(GENERATOR, k, pool_only=True, num_frames=T)
                chosen[("generator", k)] = (select_uniform(gen, uni), gen)
                chosen[("full", k)] = (select_max_response(pool), pool)
                chosen[("oracle", k)] = (select_oracle(pool), pool)
                chosen[("random", k)] = (select_random(pool, seed), pool)
                if k in gap_ks:
                    sub = pool.take(np.isin(pool.mask, sampled_masks[k]))
                    chosen[("full_sampled", k)] = (select_max_response(sub), sub)
            if k in plan.pixel_ks:
                pix = rows.scores(PIXEL_GENERATOR, k, num_frames=T)
                chosen[("pixel_generator", k)] = (select_uniform(pix, uni), pix)
        for key, (sel, table) in chosen.items():
            if not np.array_equal(sel.clip, shard.clip_index):
                raise ValueError(f"shard {shard.index}: {key} has no row for some clips (table incomplete)")
            part.pred[key] = table.pred[sel.row]
            part.frames[key] = table.mask[sel.row]
        parts.append(part)
    return _concat(parts, skipped)


def _concat(parts: list[Outcomes], skipped: list[tuple[str, str]]) -> Outcomes:
    if not parts:
        return Outcomes(np.zeros(0, np.int64), [], np.zeros(0, np.int64), skipped=skipped)
    out = Outcomes(np.concatenate([p.clip_index for p in parts]), [i for p in parts for i in p.ids],
                   np.concatenate([p.labels for p in parts]), skipped=skipped)
    for key in parts[0].pred:
        out.pred[key] = np.concatenate([p.pred[key] for p in parts])
        out.frames[key] = np.concatenate([p.frames[key] for p in parts])
    return out


# -- statistics ------------------------------------------------------------------------------------

def per_clip_statistics(outcomes: Outcomes, plan: Plan) -> dict[Key, np.ndarray]:
    """Every reported mean as a per-clip vector: accuracies (1/0) and paired gaps (differences of those)."""
    stats: dict[Key, np.ndarray] = {key: outcomes.correct(key) for key in outcomes.keys()}
    original = stats[("original", None)]
    for k in plan.ks:
        stats[("uniform_gap", k)] = original - stats[("uniform", k)]
        if ("full", k) in stats:
            stats[("motion_bound", k)] = original - stats[("full", k)]
            stats[("full_minus_uniform", k)] = stats[("full", k)] - stats[("uniform", k)]
        if ("full_sampled", k) in stats:
            stats[("candidate_gap", k)] = stats[("full", k)] - stats[("full_sampled", k)]
    return stats


def _estimates(stats: dict[Key, np.ndarray], rows: np.ndarray, n_boot: int, seed: list[int],
               level: float) -> dict[Key, Estimate]:
    keys = list(stats)
    values = np.stack([stats[key][rows] for key in keys]) if keys else np.zeros((0, 0))
    return dict(zip(keys, estimate_means(values, n_boot, seed, level), strict=True))


def _by_k(est: dict[Key, Estimate], name: str, ks: Sequence[int]) -> dict[str, dict]:
    return {str(k): est[(name, k)].to_dict() for k in ks if (name, k) in est}


def _accuracy_block(est: dict[Key, Estimate], ks: Sequence[int]) -> dict:
    block = {"original": est[("original", None)].to_dict()}
    for method in METHODS[1:]:
        block[method] = _by_k(est, method, ks)
    return block


def _value(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def summarize(outcomes: Outcomes, classes: Sequence[str], plan: Plan, *, kinds: dict[str, str] | None = None,
              n_boot: int = 1000, seed: int = 0, level: float = CI_LEVEL, sampled: int = DEFAULT_POOL) -> dict:
    """The deterministic part of results.json (everything but config, provenance and timestamps)."""
    ks = list(plan.ks)
    stats = per_clip_statistics(outcomes, plan)
    everyone = np.arange(len(outcomes.labels))
    overall = _estimates(stats, everyone, n_boot, [seed, 0], level)
    gen_ks = [k for k in ks if k in plan.pools]

    per_class, class_means = _per_class(outcomes, classes, stats, ks, kinds, n_boot, seed, level)
    results = {
        "frames": ks,
        "num_frames": plan.num_frames,
        "num_clips": int(len(outcomes.labels)),
        "ci_level": level,
        "bootstrap": n_boot,
        "generator_frames": gen_ks,
        "pixel_generator_frames": list(plan.pixel_ks),
        "accuracy": _accuracy_block(overall, ks),
        "motion_bound": _by_k(overall, "motion_bound", ks),
        "uniform_gap": _by_k(overall, "uniform_gap", ks),
        "candidates": {str(k): len(plan.pools[k]) for k in gen_ks},
        "candidate_gap": {str(k): {"all": overall[("full", k)].to_dict()["value"],
                                   "sampled": overall[("full_sampled", k)].to_dict()["value"],
                                   "n_sampled": sampled, "gap": overall[("candidate_gap", k)].to_dict()}
                          for k in ks if ("candidate_gap", k) in overall},
        "per_class": per_class,
        "class_summary": _class_summary(class_means, ks),
        "per_kind": {},
        "planted_truth": None,
        "video": _video(outcomes, ks, n_boot, seed, level),
    }
    if kinds:
        results["per_kind"], results["planted_truth"] = _per_kind(outcomes, classes, stats, per_class, kinds, ks,
                                                                  n_boot, seed, level)
    return results


def _per_class(outcomes: Outcomes, classes: Sequence[str], stats: dict[Key, np.ndarray], ks: Sequence[int],
               kinds: dict[str, str] | None, n_boot: int, seed: int, level: float) -> tuple[dict, dict]:
    table, means = {}, {}
    f1 = {key: per_class_f1(outcomes.labels, outcomes.pred[key], len(classes))
          for key in outcomes.keys() if key[0] in ("original", "full")}
    for c, name in enumerate(classes):
        rows = np.flatnonzero(outcomes.labels == c)
        entry: dict = {"n": int(len(rows))}
        if kinds:
            entry["kind"] = kinds.get(name)
        if len(rows):
            wanted = {key: v for key, v in stats.items() if key[0] in PER_CLASS}
            est = _estimates(wanted, rows, n_boot, [seed, 1, c], level)
            means[name] = {key: e.value for key, e in est.items()}
        else:
            est = {}
        entry["original"] = _value(est[("original", None)].value) if est else None
        for method in METHODS[1:]:
            entry[method] = {str(k): _value(est[(method, k)].value) if est else None
                             for k in ks if (method, k) in stats}
        entry["motion_bound"] = {str(k): _value(est[("motion_bound", k)].value) if est else None
                                 for k in ks if ("motion_bound", k) in stats}
        entry["motion_bound_ci"] = {str(k): est[("motion_bound", k)].to_dict()["ci"] if est else None
                                    for k in ks if ("motion_bound", k) in stats}
        entry["uniform_gap"] = {str(k): _value(est[("uniform_gap", k)].value) if est else None for k in ks}
        entry["motion_bound_f1"] = {str(k): _value(f1[("original", None)][c] - f1[("full", k)][c]) if est else None
                                    for k in ks if ("full", k) in f1}
        table[name] = entry
    return table, means


def per_class_f1(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """F1 of each class: 2·TP / (2·TP + FP + FN); NaN for a class never present nor predicted.

    Unlike per-class accuracy (recall), F1 also counts the clips of *other* classes predicted as this one.
    That matters for the motion bound: when motion is removed, a model often sends every motionless
    clip of a group to one default class, whose recall stays high for the wrong reason.

    >>> per_class_f1(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]), 2).round(3).tolist()
    [0.667, 0.0]
    """
    tp = np.bincount(labels[pred == labels], minlength=num_classes).astype(float)
    fp = np.bincount(pred[pred != labels], minlength=num_classes).astype(float)
    fn = np.bincount(labels[pred != labels], minlength=num_classes).astype(float)
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / denom, np.nan)


def _class_summary(means: dict[str, dict[Key, float]], ks: Sequence[int]) -> dict:
    """Figure 5 (share of classes within 1 point of the original) and Figure 8 (share the generator improves)."""
    names = list(means)
    summary: dict = {"num_classes": len(names), "within_1_point": {}, "generator_improves": {}, "generator_ties": {}}

    def share(flags: list[bool]) -> float | None:
        return _value(float(np.mean(flags))) if flags else None

    for method in ("uniform", "generator", "full"):
        summary["within_1_point"][method] = {
            str(k): share([means[c][(method, k)] >= means[c][("original", None)] - WITHIN_POINTS - _EPS for c in names])
            for k in ks if names and (method, k) in means[names[0]]}
    for k in ks:
        if names and ("generator", k) in means[names[0]]:
            diffs = [means[c][("generator", k)] - means[c][("uniform", k)] for c in names]
            summary["generator_improves"][str(k)] = share([d > _EPS for d in diffs])
            summary["generator_ties"][str(k)] = share([abs(d) <= _EPS for d in diffs])
    return summary


def _per_kind(outcomes: Outcomes, classes: Sequence[str], stats: dict[Key, np.ndarray], per_class: dict,
              kinds: dict[str, str], ks: Sequence[int], n_boot: int, seed: int, level: float) -> tuple[dict, dict | None]:
    """Accuracies per planted kind of class, and how well the per-class motion bound finds the motion classes."""
    kind_names = sorted({kinds[c] for c in classes if c in kinds})
    out = {}
    for j, kind in enumerate(kind_names):
        members = [c for c, name in enumerate(classes) if kinds.get(name) == kind]
        rows = np.flatnonzero(np.isin(outcomes.labels, members))
        est = _estimates(stats, rows, n_boot, [seed, 2, j], level)
        out[kind] = {"classes": [classes[c] for c in members], "n": int(len(rows)),
                     "accuracy": _accuracy_block(est, ks) if len(rows) else {},
                     "motion_bound": _by_k(est, "motion_bound", ks), "uniform_gap": _by_k(est, "uniform_gap", ks),
                     "full_minus_uniform": _by_k(est, "full_minus_uniform", ks)}
    if "motion" not in kind_names:
        return out, None
    present = [name for name, entry in per_class.items() if entry["n"] > 0 and name in kinds]
    positive = np.array([kinds[name] == "motion" for name in present])

    def auroc_of(field_name: str) -> dict[str, float | None]:
        res = {}
        for k in ks:
            scores = [per_class[name][field_name].get(str(k)) for name in present]
            if scores and all(s is not None for s in scores):
                res[str(k)] = _value(auroc(np.array(scores), positive))
        return res

    truth = {"positive_kind": "motion", "motion_bound_auroc": auroc_of("motion_bound"),
             "motion_bound_f1_auroc": auroc_of("motion_bound_f1"), "uniform_gap_auroc": auroc_of("uniform_gap"),
             "keyframe_full_minus_uniform": out.get("keyframe", {}).get("full_minus_uniform", {}),
             "implied_full_minus_uniform": out.get("implied", {}).get("full_minus_uniform", {})}
    return out, truth


def _video(outcomes: Outcomes, ks: Sequence[int], n_boot: int, seed: int, level: float) -> dict | None:
    """Video-level accuracy when clip ids are "<video>#<n>" and some video has several clips: the majority vote
    of a video's clips (ties: lowest class)."""
    if not outcomes.ids or not all("#" in i for i in outcomes.ids):
        return None
    videos, inverse = np.unique([i.rsplit("#", 1)[0] for i in outcomes.ids], return_inverse=True)
    if len(videos) == len(outcomes.ids):
        return None  # one clip per video: video accuracy is clip accuracy
    num_classes = int(max([outcomes.labels.max()] + [p.max() for p in outcomes.pred.values()])) + 1
    labels = np.zeros(len(videos), dtype=np.int64)
    labels[inverse] = outcomes.labels
    correct = {}
    for key, pred in outcomes.pred.items():
        if key[0] not in METHODS:
            continue
        votes = np.bincount(inverse * num_classes + pred, minlength=len(videos) * num_classes)
        correct[key] = (votes.reshape(len(videos), num_classes).argmax(axis=1) == labels).astype(np.float64)
    est = _estimates(correct, np.arange(len(videos)), n_boot, [seed, 3], level)
    return {"num_videos": int(len(videos)), "accuracy": _accuracy_block(est, ks)}
