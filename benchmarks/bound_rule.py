"""How the bound's method choice behaves on finished analyses: re-scored over many fold assignments.

The choice of the method behind `best` is made on one half of the clips and scored on the other; which clips
fall in which half is a seeded hash, so the same run gives another bound under another fold seed. This
benchmark re-reads the candidate tables of finished analysis folders (no model is run) and, for each rule and
each of `--folds` fold seeds, reports the bound against the paper's at every k:

    python -m benchmarks.bound_rule runs/demo/analysis runs/bench/photo/seed_0/analysis --folds 20

Rules: `plain` (the most accurate candidate of the other half) and `guarded` (analysis/choice.py), each over
every label-free method (`all`) or over the bound's candidates (`few`: analysis/methods.py BOUND_CANDIDATES).
The last, `guarded/few`, is the analysis' own rule; under it, with the per-class choice the analysis makes
(bound_choice.choose_per_class), the table also gives, for datasets with planted kinds, the worst appearance class's
bound at the first k beyond the smaller of its paper bound and its replication gap, and the AUROC of the motion
classes against the rest for per-class statistics of the predictions (analysis/classwise.py): the bound by
accuracy (recall), by F1, by informedness and by guess-corrected recall. `--json` writes every figure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from motionprobe.analysis.bound_choice import choose_best, choose_per_class
from motionprobe.analysis.choice import ALPHA, Guard, folds_of, guarded_choice
from motionprobe.analysis.classwise import per_class_corrected, per_class_f1, per_class_informedness, per_class_recall
from motionprobe.analysis.engine import Plan
from motionprobe.analysis.methods import BEST, BOUND_CANDIDATES
from motionprobe.analysis.outcomes import collect_outcomes
from motionprobe.analysis.results_type import Results
from motionprobe.analysis.stats import auroc
from motionprobe.analysis.table import TABLE_DIR
from motionprobe.folders import AnalysisFolder
from motionprobe.io import atomic_write_json, read_json

# Every label-free method (as the bound chose among before the guard) against the bound's own candidates.
ALL = ("full", "generator", "uniform_select", "generator_mean", "generator_contrast", "uniform_mean", "uniform_contrast",
       "uniform", "pixel_generator")
RULES = {"plain/all": (1.0, ALL), "guarded/all": (ALPHA, ALL), "plain/few": (1.0, BOUND_CANDIDATES),
         "guarded/few": (ALPHA, BOUND_CANDIDATES)}
STATISTICS = {"recall": per_class_recall, "f1": per_class_f1, "informedness": per_class_informedness,
              "corrected": per_class_corrected}


def load_plan(folder: Path) -> Plan:
    saved = read_json(folder / TABLE_DIR / "plan.json")
    pools = {int(k): tuple(tuple(s) for s in v) for k, v in saved["pools"].items()}
    replicate = {int(k): tuple(tuple(s) for s in v) for k, v in saved["replicate_pools"].items()}
    return Plan(num_frames=saved["num_frames"], ks=tuple(saved["ks"]), pools=pools, replicate_pools=replicate,
                generator_ks=tuple(saved["generator_ks"]), pixel_ks=tuple(saved["pixel_ks"]),
                num_clips=saved["num_clips"], shard_clips=saved["shard_clips"],
                probes=tuple(tuple(p) for p in saved["probes"]), identity=saved.get("identity", {}))


def rescore(folder: Path, fold_seeds: range) -> dict:
    results = AnalysisFolder(folder).results()
    plan = load_plan(folder)
    outcomes = collect_outcomes(folder / TABLE_DIR, plan, results.seed, target=results.target)
    original = outcomes.correct(("original", None))
    out: dict = {"folder": str(folder), "clips": len(original), "rules": {}, "classes": {}}
    for rule, (alpha, pool) in RULES.items():
        per_k = {}
        for k in plan.ks:
            names = [m for m in pool if (m, k) in outcomes.pred]
            values = np.stack([outcomes.correct((m, k)) for m in names])
            paper = original.mean() - values[0].mean() if names[0] == "full" else None
            bounds = np.array([original.mean() - guarded_choice(values, folds_of(outcomes.ids, s, outcomes.labels),
                                                                 Guard(alpha=alpha))[0].mean() for s in fold_seeds])
            per_k[str(k)] = {"paper": paper, "mean": float(bounds.mean()), "min": float(bounds.min()),
                             "max": float(bounds.max()),
                             "looser_by_2": None if paper is None else float((bounds > paper + 0.02 + 1e-9).mean())}
        out["rules"][rule] = per_k
    out["classes"] = per_class_checks(results, plan, outcomes, fold_seeds)
    return out


def per_class_checks(results: Results, plan: Plan, outcomes, fold_seeds: range) -> dict:
    """Under the analysis' own choice (overall, then per class) at the first k: the worst appearance class's
    excess over min(paper bound, replication gap), and each statistic's motion-vs-rest AUROC."""
    classes = results.classes
    kinds = {name: entry.kind for name, entry in results.per_class.items()}
    scored = [classes.index(c) for c, e in results.per_class.items() if e.analysable and e.kind]
    if not any(kinds[classes[c]] == "motion" for c in scored):
        return {}
    k, labels, n = min(plan.ks), outcomes.labels, len(classes)
    original = outcomes.pred[("original", None)]
    motion = np.array([kinds[classes[c]] == "motion" for c in scored])
    excess, aurocs = [], {name: [] for name in STATISTICS}
    for fold_seed in fold_seeds:
        folds = folds_of(outcomes.ids, fold_seed, strata=labels)
        choices = choose_best(outcomes, plan, folds)
        class_outcomes, _ = choose_per_class(outcomes, plan, folds, choices)
        pred = class_outcomes.pred[(BEST, k)]
        recall = {m: per_class_recall(labels, outcomes.pred[(m, k)], n) for m in ("full", "uniform")}
        own = per_class_recall(labels, original, n)
        chosen = per_class_recall(labels, pred, n)
        excess += [max((own[c] - chosen[c]) - min(own[c] - recall["full"][c], own[c] - recall["uniform"][c])
                       for c in scored if kinds[classes[c]] == "appearance")]
        for name, statistic in STATISTICS.items():
            drop = statistic(labels, original, n) - statistic(labels, pred, n)
            aurocs[name].append(auroc(drop[scored], motion))
    return {"k": k, "appearance_excess": {"mean": float(np.mean(excess)), "max": float(np.max(excess))},
            "auroc": {name: {"mean": float(np.mean(v)), "min": float(np.min(v))} for name, v in aurocs.items()}}


def table(entry: dict) -> str:
    lines = [f"{entry['folder']} ({entry['clips']} clips); bound points over fold seeds: mean [min, max], "
             "paper's, share of seeds > paper + 2"]
    for rule, per_k in entry["rules"].items():
        cells = []
        for k, r in per_k.items():
            paper = "—" if r["paper"] is None else f"{100 * r['paper']:.1f}"
            share = "" if r["looser_by_2"] is None else f" {100 * r['looser_by_2']:.0f}%"
            cells.append(f"k{k} {100 * r['mean']:.1f} [{100 * r['min']:.1f}, {100 * r['max']:.1f}] p {paper}{share}")
        lines.append(f"  {rule:<12} " + "  ".join(cells))
    checks = entry["classes"]
    if checks:
        aurocs = "  ".join(f"{name} {v['mean']:.2f} (min {v['min']:.2f})" for name, v in checks["auroc"].items())
        excess = checks["appearance_excess"]
        lines.append(f"  per class at k = {checks['k']}: worst appearance class beyond min(paper, replication) "
                     f"{100 * excess['mean']:+.1f} (max {100 * excess['max']:+.1f}); AUROC {aurocs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bound_rule", description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="+", type=Path, help="finished analysis folders")
    p.add_argument("--folds", type=int, default=20, help="fold seeds to re-score (default 20)")
    p.add_argument("--json", type=Path, help="write every figure here")
    args = p.parse_args(argv)
    entries = [rescore(folder, range(args.folds)) for folder in args.folders]
    for entry in entries:
        print(table(entry))
    if args.json:
        atomic_write_json(args.json, {"folds": args.folds, "entries": entries})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
