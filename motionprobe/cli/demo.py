"""`motionprobe demo`: the whole method on the embedded benchmark, one stage after another.

Stages (each a verb a user can run alone, each skipped when its folder is already complete, each
resumed when it was interrupted):
  1. train-model      the tiny C3D on the synthetic motion benchmark      → OUT/model
  2. train-generator  one perceptual generator per k, a pixel one for k=1  → OUT/generator_k*_*
  3. analyze          uniform / generator / full / oracle / original        → OUT/analysis
  4. report           figures, pictures and report.html                    → OUT/analysis/report.html
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..io import read_json
from .common import out_dir

DEMO_KS = (1, 2, 4, 8)


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="run the whole method on the embedded benchmark (train, generators, analysis, report)",
        description="Train the tiny C3D on the synthetic motion benchmark, train the temporal generators, run "
                    "the analysis and write the report. Rerunning skips finished stages and resumes an "
                    "interrupted one.")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/demo)")
    p.add_argument("--frames", "-k", type=int, nargs="+", metavar="K", help=f"numbers of kept frames (default {DEMO_KS})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to compute (default cpu)")
    p.add_argument("--fast", action="store_true", help="smaller everything (for smoke tests): minutes become seconds")
    p.set_defaults(run=run)


def _epochs_done(folder: Path) -> int | None:
    """Epochs a finished model or generator folder was trained for (None when absent)."""
    meta = folder / "meta.json"
    if not meta.is_file():
        return None
    info = read_json(meta)
    return info.get("epochs_done", (info.get("metrics") or {}).get("epochs"))


def _stage(title: str) -> float:
    print(f"\n== {title}", file=sys.stderr, flush=True)
    return time.perf_counter()


def run(args: argparse.Namespace) -> int:
    from . import main as cli

    out = out_dir(args, "runs/demo")
    ks = tuple(sorted(set(args.frames or DEMO_KS)))
    common = ["--seed", str(args.seed), "--device", args.device]
    sizes = ["--train-per-class", "6", "--test-per-class", "3"] if args.fast else []
    model_epochs = ["--epochs", "1"] if args.fast else []
    gen_epochs = ["--epochs", "1"] if args.fast else []
    timings: dict[str, float] = {}

    model = out / "model"
    t0 = _stage("1/4 train the video model (tiny C3D, synthetic benchmark)")
    from .. import config as config_mod

    tiny = config_mod.preset("tiny")
    if _epochs_done(model) == (1 if args.fast else tiny.train.epochs):
        print(f"   {model} is complete; skipped", file=sys.stderr)
    else:
        resume = ["--resume"] if (model / "train_state.json").is_file() else []
        _ok(cli(["train-model", "--out", str(model), *common, *sizes, *model_epochs, *resume]))
    timings["model"] = time.perf_counter() - t0

    generators: dict[int, Path] = {}
    pixel: dict[int, Path] = {}
    t0 = _stage(f"2/4 train the temporal generators (k = {', '.join(map(str, ks))}; no labels)")
    jobs = [(k, "perceptual") for k in ks] + ([(1, "pixel")] if 1 in ks else [])
    for k, loss in jobs:
        folder = out / f"generator_k{k}_{loss}"
        (generators if loss == "perceptual" else pixel)[k] = folder
        if _epochs_done(folder) == (1 if args.fast else tiny.generator.epochs):
            print(f"   {folder} is complete; skipped", file=sys.stderr)
            continue
        resume = ["--resume"] if (folder / "train_state.json").is_file() else []
        _ok(cli(["train-generator", "--model", str(model), "--frames", str(k), "--loss", loss, "--out", str(folder),
                 *common, *sizes, *gen_epochs, *resume]))
    timings["generators"] = time.perf_counter() - t0

    analysis = out / "analysis"
    t0 = _stage("3/4 analyse: how much of the accuracy needs motion?")
    argv = ["analyze", "--model", str(model), "--out", str(analysis), "--frames", *map(str, ks), *common, *sizes,
            "--generator", *(f"{k}={d}" for k, d in generators.items())]
    if pixel:
        argv += ["--pixel-generator", *(f"{k}={d}" for k, d in pixel.items())]
    if (analysis / "table").is_dir():
        argv.append("--resume")
    _ok(cli(argv))
    timings["analysis"] = time.perf_counter() - t0

    t0 = _stage("4/4 report")
    report = _report(analysis, model, generators)
    timings["report"] = time.perf_counter() - t0

    print("\n" + "  ".join(f"{name} {sec:.0f}s" for name, sec in timings.items()), file=sys.stderr)
    print(f"open {report}")
    return 0


def _report(analysis: Path, model: Path, generators: dict[int, Path]) -> Path:
    from ..report.build import write_report

    return write_report(analysis, model_dir=model, generator_dirs=generators, verbose=True)


def _ok(status: int) -> None:
    if status != 0:
        from ..errors import UserError

        raise UserError(f"demo: a stage failed (exit status {status}); rerun 'motionprobe demo' to resume it")
