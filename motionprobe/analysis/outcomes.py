"""Per-clip outcomes: every selector applied to the candidate table, shard by shard.

For each clip and each method and k (analysis/methods.py), the class the method's chosen input was given
and the frames it kept; per temporal probe, the share of its draws the model got right. Scored against the
labels, or against the model's prediction on the original clip (`target="prediction"`). Everything after
this (choices, estimates, per-class figures) reads these vectors, not the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..selection import (
    DEFAULT_POOL,
    ScoreTable,
    Selection,
    candidates,
    num_subsets,
    select_contrast,
    select_max_response,
    select_mean_response,
    select_oracle,
    select_random,
    select_uniform,
    subset_mask,
    uniform_subset,
)
from .choice import folds_of
from .engine import Plan
from .methods import METHOD_SPECS
from .table import GENERATOR, ORIGINAL, PIXEL_GENERATOR, PROBE, REPLICATE, iter_shards

Key = tuple[str, int | str | None]  # (method, k); k is None for "original"


@dataclass
class Outcomes:
    """Per evaluated clip (in dataset order): the prediction and the chosen frames of every method and k,
    and per probe the share of its draws the model got right (NaN where the probe did not run)."""

    clip_index: np.ndarray
    ids: list[str]
    labels: np.ndarray  # the targets scored against: labels, or the original clip's prediction
    pred: dict[Key, np.ndarray] = field(default_factory=dict)
    frames: dict[Key, np.ndarray] = field(default_factory=dict)  # chosen subset as a bit mask
    probe_correct: dict[str, np.ndarray] = field(default_factory=dict)
    probe_pred: dict[str, np.ndarray] = field(default_factory=dict)  # the first draw's prediction
    skipped: list[tuple[str, str]] = field(default_factory=list)
    folds: np.ndarray | None = None  # the half (0/1) each clip is in for the bound's choice (choice.folds_of)

    def correct(self, key: Key) -> np.ndarray:
        return (self.pred[key] == self.labels).astype(np.float64)

    def keys(self) -> list[Key]:
        return list(self.pred)


SOURCE_CODE = {"replicate": REPLICATE, "generator": GENERATOR, "pixel_generator": PIXEL_GENERATOR}


def sampled_pool_gap_ks(plan: Plan, sampled: int = DEFAULT_POOL) -> list[int]:
    """k's with a generator whose pool is every subset and larger than `sampled`: there the sampled
    estimate of `full` can be compared with the full one."""
    return [k for k in plan.generator_ks
            if len(plan.pools[k]) == num_subsets(k, plan.num_frames) and len(plan.pools[k]) > sampled]


def collect_outcomes(table_dir, plan: Plan, seed: int, sampled: int = DEFAULT_POOL, target: str = "label") -> Outcomes:
    """Apply every selector to every shard of the table (one shard in memory at a time), scoring against
    the labels or (`target="prediction"`) against the model's prediction on the original clip."""
    T = plan.num_frames
    gap_ks = sampled_pool_gap_ks(plan, sampled)
    sampled_masks = {k: np.array([subset_mask(s) for s in candidates(k, sampled, T, seed)]) for k in gap_ks}
    parts: list[Outcomes] = []
    skipped: list[tuple[str, str]] = []
    for shard in iter_shards(table_dir, plan.num_shards):
        skipped.extend(shard.skipped)
        if len(shard.clip_index) == 0:  # no readable clip in this shard: its clips are counted as skipped
            continue
        rows = shard.rows
        labels = shard.labels.astype(np.int64)
        if target == "prediction":
            original = rows.where(rows.source == ORIGINAL)
            targets = dict(zip(original.clip.tolist(), original.pred.tolist(), strict=True))
            rows = rows.with_targets(targets)
            labels = np.array([targets[int(c)] for c in shard.clip_index], dtype=np.int64)
        part = Outcomes(shard.clip_index, shard.ids, labels)
        chosen: dict[Key, tuple[Selection, ScoreTable]] = {}
        orig = rows.scores(ORIGINAL, num_frames=T, target=target)
        chosen[("original", None)] = (select_max_response(orig), orig)
        for k in plan.ks:
            for method in METHOD_SPECS:
                source = SOURCE_CODE[method.source]
                if (source == GENERATOR and k not in plan.generator_ks) or \
                        (source == PIXEL_GENERATOR and k not in plan.pixel_ks):
                    continue
                chosen[(method.name, k)] = apply_selector(method.selector, rows, shard.pools, source, k, T, seed, target)
            if k in gap_ks:
                pool = rows.scores(GENERATOR, k, pool_only=True, num_frames=T, target=target)
                sub = pool.take(np.isin(pool.mask, sampled_masks[k]))
                chosen[("full_sampled", k)] = (select_max_response(sub), sub)
        for key, (sel, table) in chosen.items():
            if not np.array_equal(sel.clip, shard.clip_index):
                raise ValueError(f"shard {shard.index}: {key} has no row for some clips (table incomplete)")
            part.pred[key] = sel.pred
            part.frames[key] = table.mask[sel.row]
        for number, name in enumerate(plan.probe_names):
            probe = rows.scores(PROBE, probe=number, num_frames=T, target=target)
            part.probe_correct[name], part.probe_pred[name] = _probe_outcomes(probe, shard.clip_index)
        parts.append(part)
    outcomes = _concat(parts, skipped)
    outcomes.folds = folds_of(outcomes.ids, seed, strata=outcomes.labels)
    return outcomes


def apply_selector(selector: str, rows, pools, source: int, k: int, T: int, seed: int,
                   target: str) -> tuple[Selection, ScoreTable]:
    """The selection of `selector` (analysis/methods.py names it) among one source's rows at k."""
    if selector == "uniform":
        table = rows.scores(source, k, num_frames=T, target=target)
        return select_uniform(table, uniform_subset(k, T)), table
    table = rows.scores(source, k, pool_only=True, num_frames=T, target=target)
    if selector == "max_response":
        return select_max_response(table), table
    if selector == "oracle":
        return select_oracle(table), table
    if selector == "random":
        return select_random(table, seed), table
    clips, means = pools.means(source, k)
    if selector == "mean_response":
        return select_mean_response(table, clips, means), table
    return select_contrast(table, clips, means), table


def _probe_outcomes(table: ScoreTable, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per clip: the share of a probe's draws the model got right (NaN without a draw) and the first
    draw's prediction (-1 without one)."""
    position = {int(c): i for i, c in enumerate(clips)}
    hits, draws = np.zeros(len(clips)), np.zeros(len(clips))
    first = np.full(len(clips), -1, dtype=np.int64)
    for clip, pred, right in zip(table.clip.tolist(), table.pred.tolist(), table.correct.tolist(), strict=True):
        i = position[clip]
        if draws[i] == 0:
            first[i] = pred
        hits[i] += right
        draws[i] += 1
    with np.errstate(invalid="ignore"):
        return np.where(draws > 0, hits / np.maximum(draws, 1), np.nan), first


def _concat(parts: list[Outcomes], skipped: list[tuple[str, str]]) -> Outcomes:
    if not parts:
        return Outcomes(np.zeros(0, np.int64), [], np.zeros(0, np.int64), skipped=skipped)
    out = Outcomes(np.concatenate([p.clip_index for p in parts]), [i for p in parts for i in p.ids],
                   np.concatenate([p.labels for p in parts]), skipped=skipped)
    for key in parts[0].pred:
        out.pred[key] = np.concatenate([p.pred[key] for p in parts])
        out.frames[key] = np.concatenate([p.frames[key] for p in parts])
    for name in parts[0].probe_correct:
        out.probe_correct[name] = np.concatenate([p.probe_correct[name] for p in parts])
        out.probe_pred[name] = np.concatenate([p.probe_pred[name] for p in parts])
    return out
