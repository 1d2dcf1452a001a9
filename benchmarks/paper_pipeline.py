"""The `paper` preset end to end — C3D at 112×112×16, CycleGAN's 9-block generator — on planted truth, at a size
this CPU affords: a shape, memory or time-limit bug at 112×112 shows here, not on a user's GPU.

    python -m benchmarks.paper_pipeline --out runs/paper-small --threads 1

exports the embedded benchmark as 112×112 videos in UCF101's layout (`motionprobe data export-synthetic --size
112`; `--train-per-class`, `--test-per-class`), then runs `workflows.pipeline` with the `paper` preset on it (the
model trained for `--epochs`, a perceptual generator per k and the pixel one for k = 1, each `--steps` steps of
`--batch` clips, the analysis with `--candidates` and the shuffle probe, the report), timing each stage, and
scores the planted truth as `benchmarks.planted_truth` does. At this size the model cannot learn the classes: the
run checks that every stage runs and writes what it should, not the method's answer (the GPU check runs the same
function at a size that trains: benchmarks/gpu_stages.py). Writes OUT/paper_pipeline.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

SIDE = 112


@dataclass(frozen=True)
class Plan:
    """How much of the paper preset's recipe runs (everything else is the preset's)."""

    train_per_class: int = 2
    test_per_class: int = 1
    epochs: int = 1
    steps: int = 2  # generator steps per generator
    batch: int = 2  # clips per generator step
    ks: tuple[int, ...] = (1,)
    candidates: int = 2
    probes: tuple[str, ...] = ("shuffle",)
    probe_draws: int = 1
    side: int = SIDE  # the GPU check's dry run renders at 16×16
    extra: dict = field(default_factory=dict)  # more config overrides (the dry run narrows the networks)


def overrides(plan: Plan, dataset: str, root: str | None, device: str = "cpu") -> dict:
    """Config overrides of the `paper` preset: the benchmark's classes at 112×112 (resized to their own size,
    nothing cropped away), and the plan's counts."""
    out = {"data.dataset": dataset, "data.crop_size": plan.side, "data.resize": [plan.side, plan.side],
           "train.epochs": plan.epochs,
           "generator.epochs": 1, "generator.min_steps": plan.steps, "generator.batch_size": plan.batch,
           "analysis.ks": list(plan.ks), "analysis.candidates": plan.candidates,
           "analysis.replicate_candidates": plan.candidates, "analysis.probes": list(plan.probes),
           "analysis.probe_draws": plan.probe_draws, "device": device, **plan.extra}
    if root is None:  # the embedded benchmark, rendered at 112 in memory
        out.update({"data.train_per_class": plan.train_per_class, "data.test_per_class": plan.test_per_class})
    else:
        out["data.root"] = root
    return out


def run(out: Path, plan: Plan, *, export: bool = True, device: str = "cpu", seed: int = 0) -> dict:
    """The pipeline on the 112×112 benchmark (exported to videos first when `export`), its stage times and the
    planted-truth checks; written to OUT/paper_pipeline.json."""
    from motionprobe.io import atomic_write_json, code_version

    from .planted_truth import run_seed, verdicts

    started = time.perf_counter()
    root = None
    if export:
        from motionprobe.data.export import export_synthetic

        root = out / "ucf112"
        if not (root / "ucfTrainTestlist" / "classInd.txt").is_file():
            export_synthetic(root, train_per_class=plan.train_per_class, test_per_class=plan.test_per_class,
                             size=plan.side, seed=seed, progress=False)
    export_seconds = time.perf_counter() - started
    settings = overrides(plan, "ucf101" if export else "synthetic", None if root is None else str(root), device)
    row = run_seed(seed, out / "pipeline", settings, None, preset="paper")
    record = {"argv": sys.argv, "code_version": code_version(), "plan": asdict(plan), "overrides": settings,
              "export_seconds": round(export_seconds, 1), "seconds": round(time.perf_counter() - started, 1),
              **row, "checks": verdicts(row)}
    atomic_write_json(out / "paper_pipeline.json", record)
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.paper_pipeline", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("runs/paper-small"))
    defaults = Plan()
    p.add_argument("--train-per-class", type=int, default=defaults.train_per_class)
    p.add_argument("--test-per-class", type=int, default=defaults.test_per_class)
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--steps", type=int, default=defaults.steps, help="generator steps per generator")
    p.add_argument("--threads", type=int)
    args = p.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    plan = Plan(train_per_class=args.train_per_class, test_per_class=args.test_per_class, epochs=args.epochs,
                steps=args.steps)
    r = run(args.out, plan)
    print(f"paper preset end to end at 112x112: {r['seconds']:.0f} s (export {r['export_seconds']:.0f} s; stages "
          + ", ".join(f"{k} {v} s" for k, v in r["stage_seconds"].items()) + f"); original {100 * r['original']:.1f}%, "
          f"checks {r['checks']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
