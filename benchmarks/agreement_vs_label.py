"""Is agreement a faithful stand-in for labels? Per-class motion bounds scored against the labels and against the
model's own full-clip prediction, on planted truth, with a model deliberately trained too little to be perfect.

    python -m benchmarks.agreement_vs_label --out runs/agree-synthetic --threads 1                     # embedded, 32×32
    python -m benchmarks.agreement_vs_label --out runs/agree-64 --dataset ucf101 --root ucf64 --threads 1   # an export

Stages (each reused when complete, resumed when interrupted): the `tiny` preset's model trained for `--epochs` on
`--train-per-class` clips per class (the embedded benchmark) or on the export's training videos; a perceptual
generator per k of `--ks` (`--steps` each); one analysis with `target: both` (results.json holds the label
summary and, under "agreement", the prediction one). Then, per k, the Spearman ρ between the per-class motion
bounds by label and by agreement (classes with clips under both), over every class and over the analysable ones,
and the classes whose ranks differ most, with what differs for them: a class by agreement is the clips the model
*called* that class, so its bound is measured on other clips than the class's own when the model confuses it.
Writes OUT/agreement_vs_label.json (atomically) and prints the table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from motionprobe.analysis.results_type import Results


def overrides(args: argparse.Namespace) -> dict:
    out = {"train.epochs": args.epochs, "generator.min_steps": args.steps, "analysis.ks": list(args.ks),
           "analysis.target": "both", "data.dataset": args.dataset, "seed": args.seed}
    if args.dataset == "synthetic":
        out["data.train_per_class"] = args.train_per_class
    else:
        out.update({"data.root": args.root, "data.crop_size": args.size, "data.resize": [args.size, args.size]})
    return out


def ranks_compared(results: Results, k: int) -> dict:
    """Spearman ρ of the per-class motion bounds at k, by label and by agreement, and where they differ most."""
    from motionprobe.analysis.stats import spearman

    by_label, by_agreement = results.per_class, results.agreement.per_class
    rows = []
    for name, entry in by_label.items():
        a = entry.bounds["motion_bound"].get(str(k))
        b = by_agreement[name].bounds["motion_bound"].get(str(k)) if name in by_agreement else None
        if a is None or b is None:
            continue
        rows.append({"class": name, "kind": entry.kind, "label_bound": a, "agreement_bound": b,
                     "clips_by_label": entry.n, "clips_by_prediction": by_agreement[name].n,
                     "original_accuracy": entry.original, "analysable": entry.analysable})
    if len(rows) < 3:
        return {"k": k, "classes": len(rows), "spearman": None, "rows": rows}
    label = np.array([r["label_bound"] for r in rows])
    agree = np.array([r["agreement_bound"] for r in rows])
    ok = np.array([r["analysable"] for r in rows])
    rank_gap = np.abs(_rank(label) - _rank(agree))
    for r, gap in zip(rows, rank_gap, strict=True):
        r["rank_gap"] = float(gap)
    return {"k": k, "classes": len(rows), "spearman": _rho(spearman, label, agree),
            "analysable_classes": int(ok.sum()), "spearman_analysable": _rho(spearman, label[ok], agree[ok]),
            "rows": sorted(rows, key=lambda r: -r["rank_gap"])}


def _rho(spearman, a: np.ndarray, b: np.ndarray) -> float | None:
    value = spearman(a, b) if len(a) >= 3 else float("nan")
    return round(float(value), 4) if np.isfinite(value) else None


def _rank(x: np.ndarray) -> np.ndarray:
    from motionprobe.analysis.stats import _ranks

    return _ranks(x)


def run(args: argparse.Namespace, log=print) -> dict:
    from motionprobe import workflows
    from motionprobe.config import resolve
    from motionprobe.folders import AnalysisFolder, GeneratorFolder, ModelFolder
    from motionprobe.io import atomic_write_json, code_version

    cfg = resolve("tiny", overrides=overrides(args))
    out = Path(args.out)
    started, timings = time.perf_counter(), {}
    model = out / "model"
    if ModelFolder(model).epochs_done() != cfg.train.epochs:
        workflows.train_model(cfg, model, resume=(model / "train_state.safetensors").is_file(), progress=False)
    timings["model"] = round(time.perf_counter() - started, 1)
    generators = {}
    for k in args.ks:
        folder = out / f"generator_k{k}"
        if not GeneratorFolder(folder).finished_for(cfg.generator):
            workflows.train_generator(model, k, folder, cfg, resume=(folder / "train_state.safetensors").is_file(),
                                      progress=False)
        generators[k] = folder
    timings["generators"] = round(time.perf_counter() - started - timings["model"], 1)
    analysis = out / "analysis"
    if (analysis / "results.json").is_file():
        results = AnalysisFolder(analysis).results()
    else:
        results = workflows.analyze(model, analysis, cfg, generators=generators,
                                    resume=AnalysisFolder(analysis).has_table(), progress=False, log=log)
    timings["total"] = round(time.perf_counter() - started, 1)
    record = {"command": "python -m benchmarks.agreement_vs_label " + " ".join(sys.argv[1:]),
              "code_version": code_version(), "overrides": overrides(args),
              "model_test_accuracy": ModelFolder(model).meta().get("metrics", {}).get("test_acc"),
              "original_accuracy": results.accuracy.original.to_dict(), "seconds_this_call": timings,
              "per_k": [ranks_compared(results, k) for k in args.ks]}
    atomic_write_json(out / "agreement_vs_label.json", record)
    return record


def format_record(r: dict) -> list[str]:
    acc = r["original_accuracy"]
    lines = [f"model: {100 * acc['value']:.1f}% of test clips right [{100 * acc['ci'][0]:.1f}, {100 * acc['ci'][1]:.1f}]"]
    for block in r["per_k"]:
        lines.append(f"k={block['k']}: Spearman rho, per-class motion bound by label vs by agreement = {block['spearman']} "
                     f"({block['classes']} classes); analysable only: {block.get('spearman_analysable')} "
                     f"({block.get('analysable_classes')})")
        lines.append(f"  {'class':16} {'kind':12} {'label':>6} {'agree':>6} {'acc':>5} {'n lab':>5} {'n pred':>6} "
                     f"{'rank gap':>8}")
        for row in block["rows"]:
            lines.append(f"  {row['class']:16} {row['kind'] or '-':12} {row['label_bound']:6.2f} "
                         f"{row['agreement_bound']:6.2f} {row['original_accuracy']:5.2f} {row['clips_by_label']:5d} "
                         f"{row['clips_by_prediction']:6d} {row.get('rank_gap', 0):8.1f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.agreement_vs_label", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--dataset", default="synthetic", help="synthetic (default) or a layout such as ucf101 (--root)")
    p.add_argument("--root", help="the dataset's folder (an export: motionprobe data export-synthetic)")
    p.add_argument("--size", type=int, default=64, help="crop side of a dataset on disk (default 64)")
    p.add_argument("--epochs", type=int, default=2, help="model epochs (default 2: 87%% right on the embedded benchmark)")
    p.add_argument("--train-per-class", type=int, default=50, help="embedded benchmark: training clips per class")
    p.add_argument("--steps", type=int, default=200, help="generator steps per k (default 200)")
    p.add_argument("--ks", type=lambda s: tuple(int(v) for v in s.split(",")), default=(1, 2))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int)
    args = p.parse_args(argv)
    if args.dataset != "synthetic" and not args.root:
        p.error("--root is needed for a dataset on disk")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    print("\n".join(format_record(run(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
