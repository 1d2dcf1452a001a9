"""From the candidate table to the numbers: per-clip outcomes of every method, then accuracies with
bootstrap intervals overall, per class, per planted kind and per video, the motion bound and the probes.

Methods (analysis/methods.py; docs/results-schema.md): every selector is applied to the rows of the
table, streamed one shard at a time. The motion bound is original − `best`, where `best` is the
label-free method with the highest accuracy chosen by two-fold cross-fitting over clips (each half of
the clips, split by a seeded hash of the video, is scored by the method that was best on the other
half; the bootstrap repeats the choice in every resample): the choice never sees the labels of the
clips it is scored on, so the bound is not tightened by luck. The paper's bound, original − `full`,
stands beside it.
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
    select_contrast,
    select_max_response,
    select_mean_response,
    select_oracle,
    select_random,
    select_uniform,
    subset_mask,
    uniform_subset,
)
from .choice import ALPHA, BOUND_RULE, Guard, bootstrap_guarded, folds_of, guarded_choice
from .classwise import fallback_classes, per_class_f1
from .engine import Plan
from .methods import BEST, BOUND_CANDIDATES, METHOD_SPECS, METHODS
from .stats import (
    CI_LEVEL,
    Estimate,
    auroc,
    bootstrap_means,
    estimate_means,
    percentile_interval,
    spearman,
)
from .table import GENERATOR, ORIGINAL, PIXEL_GENERATOR, PROBE, REPLICATE, iter_shards

SOURCE_CODE = {"replicate": REPLICATE, "generator": GENERATOR, "pixel_generator": PIXEL_GENERATOR}
PER_CLASS = (*METHODS, BEST, "motion_bound", "paper_bound", "uniform_gap", "generator_minus_uniform",
             "best_minus_uniform")  # statistics tabulated per class
WITHIN_POINTS = 0.01  # "within 1 point of the original" (the paper's Figure 5)
CLASS_FLOOR = 0.5  # a class the model gets right on fewer of its full clips is not analysable
_EPS = 1e-9
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
                chosen[(method.name, k)] = _select(method.selector, rows, shard.pools, source, k, T, seed, target)
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


def _select(selector: str, rows, pools, source: int, k: int, T: int, seed: int, target: str) -> tuple[Selection, ScoreTable]:
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


# -- the cross-fitted choice of the bound's method ---------------------------------------------------

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


# -- statistics ------------------------------------------------------------------------------------

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


def _estimates(stats: dict[Key, np.ndarray], rows: np.ndarray, n_boot: int, seed: list[int],
               level: float) -> dict[Key, Estimate]:
    keys = list(stats)
    values = np.stack([stats[key][rows] for key in keys]) if keys else np.zeros((0, 0))
    return dict(zip(keys, estimate_means(values, n_boot, seed, level), strict=True))


def _crossfit_intervals(est: dict[Key, Estimate], outcomes: Outcomes, plan: Plan, choices: dict[int, BoundChoice],
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


def _class_intervals(per_class: dict, outcomes: Outcomes, plan: Plan, choices: dict[int, BoundChoice],
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
            entry["motion_bound_ci"][str(k)] = [_value(lo), _value(hi)]


def _by_k(est: dict[Key, Estimate], name: str, ks: Sequence[int]) -> dict[str, dict]:
    return {str(k): est[(name, k)].to_dict() for k in ks if (name, k) in est}


def _accuracy_block(est: dict[Key, Estimate], ks: Sequence[int]) -> dict:
    block = {"original": est[("original", None)].to_dict()}
    for method in (*METHODS[1:], BEST):
        block[method] = _by_k(est, method, ks)
    return block


def _value(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def summarize(outcomes: Outcomes, classes: Sequence[str], plan: Plan, *, kinds: dict[str, str] | None = None,
              n_boot: int = 1000, seed: int = 0, level: float = CI_LEVEL, sampled: int = DEFAULT_POOL,
              target: str = "label", class_floor: float = CLASS_FLOOR) -> dict:
    """The deterministic part of results.json (everything but config, provenance and timestamps)."""
    ks = list(plan.ks)
    folds = outcomes.folds if outcomes.folds is not None else folds_of(outcomes.ids, seed, strata=outcomes.labels)
    choices = choose_best(outcomes, plan, folds)
    class_outcomes, class_choice = choose_per_class(outcomes, plan, folds, choices)
    stats = per_clip_statistics(outcomes, plan)
    class_stats = per_clip_statistics(class_outcomes, plan)
    everyone = np.arange(len(outcomes.labels))
    overall = _estimates(stats, everyone, n_boot, [seed, 0], level)
    _crossfit_intervals(overall, outcomes, plan, choices, folds, n_boot, [seed, 0], level)

    per_class, class_means = _per_class(class_outcomes, classes, class_stats, ks, kinds, n_boot, seed, level,
                                        class_floor)
    _class_intervals(per_class, outcomes, plan, choices, class_choice, folds, classes, n_boot, seed, level)
    fallbacks = _fallbacks(outcomes, classes, ks, per_class)
    analysable = [name for name, entry in per_class.items() if entry.get("analysable")]
    original = overall[("original", None)].value
    results = {
        "target": target,
        "frames": ks,
        "num_frames": plan.num_frames,
        "num_clips": int(len(outcomes.labels)),
        "ci_level": level,
        "bootstrap": n_boot,
        "generator_frames": list(plan.generator_ks),
        "pixel_generator_frames": list(plan.pixel_ks),
        "methods": {m.name: m.label for m in METHOD_SPECS if any((m.name, k) in outcomes.pred for k in ks)},
        "accuracy": _accuracy_block(overall, ks),
        "motion_bound": _by_k(overall, "motion_bound", ks),
        "paper_bound": _by_k(overall, "paper_bound", ks),
        "bound_method": {str(k): choices[k].to_dict() for k in ks},
        "bound_rule": BOUND_RULE,
        "uniform_gap": _by_k(overall, "uniform_gap", ks),
        "candidates": {str(k): len(plan.pools[k]) for k in ks},
        "replicate_candidates": {str(k): len(plan.replicate_pools[k]) for k in ks},
        "candidate_gap": {str(k): {"all": overall[("full", k)].to_dict()["value"],
                                   "sampled": overall[("full_sampled", k)].to_dict()["value"],
                                   "n_sampled": sampled, "gap": overall[("candidate_gap", k)].to_dict()}
                          for k in ks if ("candidate_gap", k) in overall},
        "model_check": {"original": _value(original), "class_floor": class_floor,
                        "analysable_classes": len(analysable),
                        "not_analysable": [name for name, entry in per_class.items()
                                           if entry["n"] and not entry.get("analysable")],
                        "weak": bool(original is not None and np.isfinite(original) and original < class_floor)},
        "per_class": per_class,
        "class_summary": _class_summary(class_means, analysable, ks),
        "diagnostics": _diagnostics(per_class, ks, choices),
        "fallback": fallbacks,
        "per_kind": {},
        "planted_truth": None,
        "probes": _probes(outcomes, classes, kinds, per_class, n_boot, seed, level) if outcomes.probe_correct else {},
        "video": _video(outcomes, ks, n_boot, seed, level),
    }
    if kinds:
        results["per_kind"], results["planted_truth"] = _per_kind(class_outcomes, classes, class_stats, per_class, kinds,
                                                                  ks, n_boot, seed, level)
    return results


def _per_class(outcomes: Outcomes, classes: Sequence[str], stats: dict[Key, np.ndarray], ks: Sequence[int],
               kinds: dict[str, str] | None, n_boot: int, seed: int, level: float,
               class_floor: float) -> tuple[dict, dict]:
    table, means = {}, {}
    f1 = {key: per_class_f1(outcomes.labels, outcomes.pred[key], len(classes))
          for key in outcomes.keys() if key[0] in ("original", BEST, "full")}
    wanted = {key: v for key, v in stats.items() if key[0] in PER_CLASS}
    for c, name in enumerate(classes):
        rows = np.flatnonzero(outcomes.labels == c)
        entry: dict = {"n": int(len(rows))}
        if kinds:
            entry["kind"] = kinds.get(name)
        est = _estimates(wanted, rows, n_boot, [seed, 1, c], level) if len(rows) else {}
        if est:
            means[name] = {key: e.value for key, e in est.items()}
        entry["original"] = _value(est[("original", None)].value) if est else None
        entry["analysable"] = entry["original"] is not None and entry["original"] >= class_floor
        for method in (*METHODS[1:], BEST):
            entry[method] = {str(k): _value(est[(method, k)].value) if est else None
                             for k in ks if (method, k) in stats}
        for name_ in ("motion_bound", "paper_bound"):
            entry[name_] = {str(k): _value(est[(name_, k)].value) if est else None for k in ks if (name_, k) in stats}
            entry[f"{name_}_ci"] = {str(k): est[(name_, k)].to_dict()["ci"] if est else None
                                    for k in ks if (name_, k) in stats}
        for name_ in ("uniform_gap", "generator_minus_uniform", "best_minus_uniform"):
            entry[name_] = {str(k): est[(name_, k)].to_dict() if est else None for k in ks if (name_, k) in stats}
        entry["motion_bound_f1"] = {str(k): _value(f1[("original", None)][c] - f1[(BEST, k)][c]) if est else None
                                    for k in ks if (BEST, k) in f1}
        table[name] = entry
    return table, means


def _class_summary(means: dict[str, dict[Key, float]], analysable: list[str], ks: Sequence[int]) -> dict:
    """Figure 5 (share of classes within 1 point of the original) and Figure 8 (share the generator improves),
    over the classes the model recognises on full clips (the others are not analysable)."""
    names = [c for c in analysable if c in means]
    summary: dict = {"num_classes": len(names), "within_1_point": {}, "generator_improves": {}, "generator_ties": {}}

    def share(flags: list[bool]) -> float | None:
        return _value(float(np.mean(flags))) if flags else None

    for method in ("uniform", "generator", "full", BEST):
        summary["within_1_point"][method] = {
            str(k): share([means[c][(method, k)] >= means[c][("original", None)] - WITHIN_POINTS - _EPS for c in names])
            for k in ks if names and (method, k) in means[names[0]]}
    for k in ks:
        if names and ("generator", k) in means[names[0]]:
            diffs = [means[c][("generator", k)] - means[c][("uniform", k)] for c in names]
            summary["generator_improves"][str(k)] = share([d > _EPS for d in diffs])
            summary["generator_ties"][str(k)] = share([abs(d) <= _EPS for d in diffs])
    return summary


FALLBACK_METHODS = ("uniform", "full", BEST)  # the ablations whose fallback classes are reported


def _fallbacks(outcomes: Outcomes, classes: Sequence[str], ks: Sequence[int], per_class: dict) -> dict:
    """Per method and k, the classes the model gives to many clips of other classes (analysis/classwise.py);
    each class's entry lists them as `fallback` {method: [k, ...]}, so its accuracy there is read with care."""
    found: dict = {}
    for method in FALLBACK_METHODS:
        for k in ks:
            if (method, k) not in outcomes.pred:
                continue
            entries = fallback_classes(outcomes.labels, outcomes.pred[(method, k)], classes)
            if entries:
                found.setdefault(method, {})[str(k)] = [e.to_dict() for e in entries]
            for e in entries:
                per_class[e.name].setdefault("fallback", {}).setdefault(method, []).append(k)
    return found


def _diagnostics(per_class: dict, ks: Sequence[int], choices: dict[int, BoundChoice]) -> list[dict]:
    """Classes where completing the frames hurts: the generator below replication, or the bound's method
    below the fixed uniform subset, each with a paired interval entirely below zero."""
    found = []
    for name, entry in per_class.items():
        if not entry.get("analysable"):
            continue
        for k in ks:
            key = str(k)
            for field_, what in (("generator_minus_uniform", "generator"), ("best_minus_uniform", "selector")):
                est = (entry.get(field_) or {}).get(key)
                if not est or est.get("value") is None or est["ci"][1] is None or est["ci"][1] >= 0:
                    continue
                uniform = entry["uniform"][key]
                if what == "generator":
                    text = (f"the generator removes evidence for {name} at k = {k}: {100 * entry['generator'][key]:.0f}% "
                            f"generated vs {100 * uniform:.0f}% replicated")
                else:
                    method = ", ".join(sorted(set((entry.get("bound_method") or {}).get(key) or choices[k].folds)))
                    text = (f"the bound's method ({method}) chooses worse frames than the uniform subset for {name} "
                            f"at k = {k}: {100 * entry[BEST][key]:.0f}% vs {100 * uniform:.0f}%")
                found.append({"class": name, "k": k, "kind": f"{what}_below_uniform", "difference": est, "text": text})
    return found


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
                     **{name: _by_k(est, name, ks) for name in ("motion_bound", "paper_bound", "uniform_gap",
                                                                 "full_minus_uniform", "best_minus_uniform")}}
    if "motion" not in kind_names:
        return out, None
    present = [name for name, entry in per_class.items() if entry["n"] > 0 and name in kinds and entry["analysable"]]
    positive = np.array([kinds[name] == "motion" for name in present])

    def auroc_of(field_name: str) -> dict[str, float | None]:
        res = {}
        for k in ks:
            scores = [per_class[name][field_name].get(str(k)) for name in present]
            if scores and all(s is not None for s in scores):
                res[str(k)] = _value(auroc(np.array(scores), positive))
        return res

    truth = {"positive_kind": "motion", "classes_scored": present,
             "motion_bound_auroc": auroc_of("motion_bound"), "paper_bound_auroc": auroc_of("paper_bound"),
             "motion_bound_f1_auroc": auroc_of("motion_bound_f1"), "uniform_gap_auroc": {
                 str(k): _value(auroc(np.array([per_class[n]["uniform_gap"][str(k)]["value"] for n in present]),
                                      positive)) for k in ks if present},
             **{f"{kind}_{name}": out.get(kind, {}).get(name, {}) for kind in ("keyframe", "implied")
                for name in ("full_minus_uniform", "best_minus_uniform", "motion_bound")}}
    return out, truth


def _probes(outcomes: Outcomes, classes: Sequence[str], kinds: dict[str, str] | None, per_class: dict,
            n_boot: int, seed: int, level: float) -> dict:
    """Per probe: accuracy (the mean over its draws) overall, per class and per kind; the drops of the
    shuffle (temporal sensitivity) and reverse (arrow of time) probes per class, and how they rank the
    classes against the motion bound."""
    original = outcomes.correct(("original", None))
    out: dict = {"accuracy": {}, "drop": {}, "per_class": {}, "per_kind": {}, "confusion": {}}
    for j, (name, correct) in enumerate(outcomes.probe_correct.items()):
        ran = np.flatnonzero(np.isfinite(correct))
        est = estimate_means(np.stack([correct[ran], original[ran] - correct[ran]]), n_boot, [seed, 4, j], level)
        out["accuracy"][name], out["drop"][name] = est[0].to_dict(), est[1].to_dict()
        for c, cname in enumerate(classes):
            rows = ran[outcomes.labels[ran] == c]
            if not len(rows):
                continue
            e = estimate_means(np.stack([correct[rows], original[rows] - correct[rows]]), n_boot, [seed, 5, j, c], level)
            out["per_class"].setdefault(cname, {})[name] = {"accuracy": _value(e[0].value), "drop": e[1].to_dict()}
            pred = outcomes.probe_pred[name][rows]
            counts = np.bincount(pred[pred >= 0], minlength=len(classes))
            out["confusion"].setdefault(name, {})[cname] = {classes[i]: int(n) for i in np.flatnonzero(counts)
                                                            for n in [counts[i]]}
        for kind in sorted(set((kinds or {}).values())):
            members = [c for c, cname in enumerate(classes) if (kinds or {}).get(cname) == kind]
            rows = ran[np.isin(outcomes.labels[ran], members)]
            if len(rows):
                e = estimate_means(np.stack([correct[rows], original[rows] - correct[rows]]), n_boot, [seed, 6, j], level)
                out["per_kind"].setdefault(kind, {})[name] = {"accuracy": e[0].to_dict(), "drop": e[1].to_dict()}
    analysable = [c for c, e in per_class.items() if e.get("analysable") and c in out["per_class"]]
    bound_ks = sorted(int(k) for k in (per_class[analysable[0]]["motion_bound"] if analysable else {}))
    k = None if not bound_ks else (1 if 1 in bound_ks else bound_ks[0])  # the headline k
    out["bound_agreement"] = {"k": k, "classes": len(analysable)}
    for name in outcomes.probe_correct if k is not None else ():
        pairs = [(per_class[c]["motion_bound"][str(k)], out["per_class"][c].get(name, {}).get("drop", {}).get("value"))
                 for c in analysable]
        pairs = [(b, d) for b, d in pairs if b is not None and d is not None]
        bound, drop = np.array([b for b, _ in pairs]), np.array([d for _, d in pairs])
        out["bound_agreement"][f"{name}_spearman"] = _value(spearman(bound, drop)) if len(pairs) >= 3 else None
    return out


def _video(outcomes: Outcomes, ks: Sequence[int], n_boot: int, seed: int, level: float) -> dict | None:
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
    est = _estimates(correct, np.arange(len(videos)), n_boot, [seed, 3], level)
    return {"num_videos": int(len(videos)), "accuracy": _accuracy_block(est, ks)}
