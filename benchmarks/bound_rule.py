"""How the bound's method choice behaves on finished analyses: re-scored over many fold assignments.

The choice of the method behind `best` is made on one half of the clips and scored on the other; which clips
fall in which half is a seeded hash, so the same run gives another bound under another fold seed. This
benchmark re-reads the candidate tables of finished analysis folders (no model is run) and, for each rule and
each of `--folds` fold seeds, reports the bound against the paper's at every k and, where the dataset declares
planted kinds, the appearance classes' per-class bounds at k = 1:

    python -m benchmarks.bound_rule runs/demo/analysis runs/bench/photo/seed_0/analysis --folds 20

Rules: `plain` (the most accurate candidate of the other half) and `guarded` (analysis/choice.py), each over
every label-free method (`all`) or over the bound's candidates (`few`: analysis/methods.py BOUND_CANDIDATES).
Prints one table per folder; `--json` writes every figure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from motionprobe.analysis.choice import ALPHA, Guard, folds_of, guarded_choice
from motionprobe.analysis.classwise import per_class_f1, per_class_recall
from motionprobe.analysis.engine import Plan
from motionprobe.analysis.methods import BOUND_CANDIDATES
from motionprobe.analysis.stats import auroc
from motionprobe.analysis.summary import collect_outcomes
from motionprobe.analysis.table import TABLE_DIR
from motionprobe.io import atomic_write_json, read_json

# Every label-free method (as the bound chose among before the guard) against the bound's own candidates.
ALL = ("full", "generator", "uniform_select", "generator_mean", "generator_contrast", "uniform_mean", "uniform_contrast",
       "uniform", "pixel_generator")


def per_class_informedness(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Youden's J per class: recall − the share of the other classes' clips given this class."""
    fpr = np.array([(pred[labels != c] == c).mean() for c in range(num_classes)])
    return per_class_recall(labels, pred, num_classes) - fpr


STATISTICS = {"recall": per_class_recall, "f1": per_class_f1, "informedness": per_class_informedness}
RULES = {"plain/all": (1.0, ALL), "guarded/all": (ALPHA, ALL), "plain/few": (1.0, BOUND_CANDIDATES),
         "guarded/few": (ALPHA, BOUND_CANDIDATES)}


def load_plan(folder: Path) -> Plan:
    saved = read_json(folder / TABLE_DIR / "plan.json")
    pools = {int(k): tuple(tuple(s) for s in v) for k, v in saved["pools"].items()}
    replicate = {int(k): tuple(tuple(s) for s in v) for k, v in saved["replicate_pools"].items()}
    return Plan(num_frames=saved["num_frames"], ks=tuple(saved["ks"]), pools=pools, replicate_pools=replicate,
                generator_ks=tuple(saved["generator_ks"]), pixel_ks=tuple(saved["pixel_ks"]),
                num_clips=saved["num_clips"], shard_clips=saved["shard_clips"],
                probes=tuple(tuple(p) for p in saved["probes"]), identity=saved.get("identity", {}))


def rescore(folder: Path, fold_seeds: range) -> dict:
    results = read_json(folder / "results.json")
    plan = load_plan(folder)
    outcomes = collect_outcomes(folder / TABLE_DIR, plan, results["provenance"]["seed"], target=results["target"])
    classes = results["classes"]
    kinds = {name: entry.get("kind") for name, entry in results["per_class"].items()}
    appearance = [classes.index(c) for c, kind in kinds.items() if kind == "appearance"]
    motion = [classes.index(c) for c, kind in kinds.items() if kind == "motion"]
    scored = np.array([classes.index(c) for c, e in results["per_class"].items() if e.get("analysable") and e.get("kind")])
    original = outcomes.correct(("original", None))
    out: dict = {"folder": str(folder), "clips": len(original), "rules": {}}
    for rule, (alpha, pool) in RULES.items():
        per_k = {}
        for k in plan.ks:
            names = [m for m in pool if (m, k) in outcomes.pred]
            values = np.stack([outcomes.correct((m, k)) for m in names])
            paper = original.mean() - values[0].mean() if names[0] == "full" else None
            bounds, worst_appearance, chosen, aurocs = [], [], {}, {name: [] for name in STATISTICS}
            for fold_seed in fold_seeds:
                fitted, picked = guarded_choice(values, folds_of(outcomes.ids, fold_seed), Guard(alpha=alpha))
                bounds.append(original.mean() - fitted.mean())
                for i in picked:
                    chosen[names[i]] = chosen.get(names[i], 0) + 1
                if k == min(plan.ks) and motion:
                    pred = np.choose(np.where(folds_of(outcomes.ids, fold_seed) == 0, picked[0], picked[1]),
                                     [outcomes.pred[(m, k)] for m in names])
                    for name, statistic in STATISTICS.items():
                        drop = (statistic(outcomes.labels, outcomes.pred[("original", None)], len(classes))
                                - statistic(outcomes.labels, pred, len(classes)))
                        aurocs[name].append(auroc(drop[scored], np.isin(scored, motion)))
                if k == min(plan.ks) and appearance:
                    excess = [(original - fitted)[outcomes.labels == c].mean()
                              - (original - values[0])[outcomes.labels == c].mean() for c in appearance]
                    worst_appearance.append(max(excess))
            bounds = np.array(bounds)
            per_k[str(k)] = {"paper": paper, "mean": float(bounds.mean()), "min": float(bounds.min()),
                             "max": float(bounds.max()),
                             "looser_by_2": None if paper is None else float((bounds > paper + 0.02 + 1e-9).mean()),
                             "chosen": chosen, "auroc": {n: float(np.mean(v)) for n, v in aurocs.items() if v},
                             "appearance_excess_max": float(max(worst_appearance)) if worst_appearance else None}
        out["rules"][rule] = per_k
    return out


def table(entry: dict) -> str:
    lines = [f"{entry['folder']} ({entry['clips']} clips); bound points over fold seeds: mean [min, max], "
             "share > paper + 2, worst appearance-class excess over the paper's at the first k"]
    for rule, per_k in entry["rules"].items():
        cells = []
        for k, r in per_k.items():
            paper = "—" if r["paper"] is None else f"{100 * r['paper']:.1f}"
            share = "" if r["looser_by_2"] is None else f" {100 * r['looser_by_2']:.0f}%"
            cells.append(f"k{k} {100 * r['mean']:.1f} [{100 * r['min']:.1f}, {100 * r['max']:.1f}] p {paper}{share}")
        first = next(iter(per_k.values()))
        worst = "" if first["appearance_excess_max"] is None else f"  appearance +{100 * first['appearance_excess_max']:.0f}"
        worst += "".join(f"  AUROC {name} {value:.2f}" for name, value in first.get("auroc", {}).items())
        lines.append(f"  {rule:<12} " + "  ".join(cells) + worst)
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
