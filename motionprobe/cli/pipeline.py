"""`motionprobe pipeline` (and `demo`): the whole method in one command, stage after stage.

Stages (each a verb a user can run alone; each skipped when its folder is complete, resumed when it
was interrupted), all reading one resolved config, OUT/pipeline_config.json:
  1. train-model      the video model (or --model DIR)                      → OUT/model
  2. train-generator  one perceptual generator per k, a pixel one for k = 1 → OUT/generator_k*_*
  3. analyze          uniform / generator / full / oracle / original        → OUT/analysis
  4. report           figures, pictures and report.html                    → OUT/analysis/report.html
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..config import Config
from ..io import read_json
from .common import add_common, out_dir, resolve_config

DEFAULT_KS = (1, 2, 4, 8)


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pipeline", help="the whole method in one command: model, generators, analysis, report",
        description="Train the video model (or take --model), train a perceptual generator for each K and a "
                    "pixel one for K = 1, run the analysis and write the report. Rerunning skips finished "
                    "stages and resumes an interrupted one.")
    add_pipeline_options(p)
    add_common(p)
    p.set_defaults(run=run)


def add_pipeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="DIR", help="analyse this trained model folder instead of training one")
    p.add_argument("--frames", "-k", type=int, nargs="+", metavar="K", help=f"numbers of kept frames (default {DEFAULT_KS})")
    p.add_argument("--fast", action="store_true", help="a smoke run: 1 epoch each, few clips (seconds, not minutes)")


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


def _skip(folder: Path) -> None:
    print(f"   {folder} is complete; skipped", file=sys.stderr, flush=True)


def make_fast(cfg: Config) -> None:
    cfg.train.epochs = cfg.generator.epochs = 1
    cfg.data.train_per_class, cfg.data.test_per_class = 6, 2
    cfg.analysis.bootstrap = 100


def run(args: argparse.Namespace, *, default_out: str = "runs/pipeline") -> int:
    from . import main as cli

    cfg = resolve_config(args)
    if args.fast:
        make_fast(cfg)
    out = out_dir(args, default_out)
    ks = tuple(sorted(set(args.frames or DEFAULT_KS)))
    # One resolved config for every stage: each verb reads it with --config (JSON is YAML).
    settings = out / "pipeline_config.json"
    cfg.save(settings)
    shared = ["--config", str(settings)]
    timings: dict[str, float] = {}

    t0 = _stage("1/4 video model")
    if args.model:
        model = Path(args.model)
        print(f"   using {model}", file=sys.stderr)
    else:
        model = out / "model"
        if _epochs_done(model) == cfg.train.epochs:
            _skip(model)
        else:
            resume = ["--resume"] if (model / "train_state.safetensors").is_file() else []
            _ok(cli(["train-model", "--out", str(model), *shared, *resume]))
    timings["model"] = time.perf_counter() - t0

    generators: dict[int, Path] = {}
    pixel: dict[int, Path] = {}
    t0 = _stage(f"2/4 temporal generators for k = {', '.join(map(str, ks))} (no labels)")
    for k, loss in [(k, "perceptual") for k in ks] + ([(1, "pixel")] if 1 in ks else []):
        folder = out / f"generator_k{k}_{loss}"
        (generators if loss == "perceptual" else pixel)[k] = folder
        if _epochs_done(folder) == cfg.generator.epochs:
            _skip(folder)
            continue
        resume = ["--resume"] if (folder / "train_state.safetensors").is_file() else []
        _ok(cli(["train-generator", "--model", str(model), "--frames", str(k), "--loss", loss, "--out", str(folder),
                 *shared, *resume]))
    timings["generators"] = time.perf_counter() - t0

    analysis = out / "analysis"
    t0 = _stage("3/4 analysis: how much of the accuracy needs motion?")
    argv = ["analyze", "--model", str(model), "--out", str(analysis), "--frames", *map(str, ks), *shared,
            "--generator", *(f"{k}={d}" for k, d in generators.items())]
    if pixel:
        argv += ["--pixel-generator", *(f"{k}={d}" for k, d in pixel.items())]
    if (analysis / "table").is_dir():
        argv.append("--resume")
    _ok(cli(argv))
    timings["analysis"] = time.perf_counter() - t0

    t0 = _stage("4/4 report")
    from ..report.build import write_report

    report = write_report(analysis, model_dir=model, generator_dirs=generators, device=cfg.device, verbose=True)
    timings["report"] = time.perf_counter() - t0

    print("\n" + "  ".join(f"{name} {sec:.0f}s" for name, sec in timings.items()), file=sys.stderr)
    print(f"report: {report}")
    return 0


def _ok(status: int) -> None:
    if status != 0:
        from ..errors import UserError

        raise UserError(f"pipeline: a stage failed (exit status {status}); rerun the same command to resume it")
