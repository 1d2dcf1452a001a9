"""From per-clip outcomes to the deterministic part of results.json: accuracies with bootstrap intervals
overall and per class, the motion bound beside the paper's, the class summary, fallback classes and the
diagnostics; the per-kind, probe and video figures come from their own modules.

The motion bound is original − `best`, where `best` is the label-free method chosen by guarded two-fold
cross-fitting over clips (analysis/bound_choice.py): the choice never sees the labels of the clips it is
scored on, so the bound is not tightened by luck. The paper's bound, original − `full`, stands beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..selection import DEFAULT_POOL
from .bound_choice import BoundChoice, choose_best, choose_per_class, class_intervals, crossfit_intervals
from .choice import BOUND_RULE, folds_of
from .classwise import fallback_classes, per_class_f1
from .engine import Plan
from .estimates import accuracy_block, by_k, estimates_of, per_clip_statistics, rounded
from .methods import BEST, METHOD_SPECS, METHODS
from .outcomes import Key, Outcomes
from .planted import planted_truth_figures
from .probe_summary import probe_figures
from .stats import CI_LEVEL
from .video import video_accuracy

PER_CLASS = (*METHODS, BEST, "motion_bound", "paper_bound", "uniform_gap", "generator_minus_uniform",
             "best_minus_uniform")  # statistics tabulated per class
WITHIN_POINTS = 0.01  # "within 1 point of the original" (the paper's Figure 5)
CLASS_FLOOR = 0.5  # a class the model gets right on fewer of its full clips is not analysable
_EPS = 1e-9


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
    overall = estimates_of(stats, everyone, n_boot, [seed, 0], level)
    crossfit_intervals(overall, outcomes, plan, choices, folds, n_boot, [seed, 0], level)

    per_class, class_means = _per_class(class_outcomes, classes, class_stats, ks, kinds, n_boot, seed, level,
                                        class_floor)
    class_intervals(per_class, outcomes, plan, choices, class_choice, folds, classes, n_boot, seed, level)
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
        "accuracy": accuracy_block(overall, ks),
        "motion_bound": by_k(overall, "motion_bound", ks),
        "paper_bound": by_k(overall, "paper_bound", ks),
        "bound_method": {str(k): choices[k].to_dict() for k in ks},
        "bound_rule": BOUND_RULE,
        "uniform_gap": by_k(overall, "uniform_gap", ks),
        "candidates": {str(k): len(plan.pools[k]) for k in ks},
        "replicate_candidates": {str(k): len(plan.replicate_pools[k]) for k in ks},
        "candidate_gap": {str(k): {"all": overall[("full", k)].to_dict()["value"],
                                   "sampled": overall[("full_sampled", k)].to_dict()["value"],
                                   "n_sampled": sampled, "gap": overall[("candidate_gap", k)].to_dict()}
                          for k in ks if ("candidate_gap", k) in overall},
        "model_check": {"original": rounded(original), "class_floor": class_floor,
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
        "probes": probe_figures(outcomes, classes, kinds, per_class, n_boot, seed, level) if outcomes.probe_correct else {},
        "video": video_accuracy(outcomes, ks, n_boot, seed, level),
    }
    if kinds:
        results["per_kind"], results["planted_truth"] = planted_truth_figures(
            class_outcomes, classes, class_stats, per_class, kinds, ks, n_boot, seed, level)
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
        est = estimates_of(wanted, rows, n_boot, [seed, 1, c], level) if len(rows) else {}
        if est:
            means[name] = {key: e.value for key, e in est.items()}
        entry["original"] = rounded(est[("original", None)].value) if est else None
        entry["analysable"] = entry["original"] is not None and entry["original"] >= class_floor
        for method in (*METHODS[1:], BEST):
            entry[method] = {str(k): rounded(est[(method, k)].value) if est else None
                             for k in ks if (method, k) in stats}
        for name_ in ("motion_bound", "paper_bound"):
            entry[name_] = {str(k): rounded(est[(name_, k)].value) if est else None for k in ks if (name_, k) in stats}
            entry[f"{name_}_ci"] = {str(k): est[(name_, k)].to_dict()["ci"] if est else None
                                    for k in ks if (name_, k) in stats}
        for name_ in ("uniform_gap", "generator_minus_uniform", "best_minus_uniform"):
            entry[name_] = {str(k): est[(name_, k)].to_dict() if est else None for k in ks if (name_, k) in stats}
        entry["motion_bound_f1"] = {str(k): rounded(f1[("original", None)][c] - f1[(BEST, k)][c]) if est else None
                                    for k in ks if (BEST, k) in f1}
        table[name] = entry
    return table, means


def _class_summary(means: dict[str, dict[Key, float]], analysable: list[str], ks: Sequence[int]) -> dict:
    """Figure 5 (share of classes within 1 point of the original) and Figure 8 (share the generator improves),
    over the classes the model recognises on full clips (the others are not analysable)."""
    names = [c for c in analysable if c in means]
    summary: dict = {"num_classes": len(names), "within_1_point": {}, "generator_improves": {}, "generator_ties": {}}

    def share(flags: list[bool]) -> float | None:
        return rounded(float(np.mean(flags))) if flags else None

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


