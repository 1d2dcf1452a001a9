"""`motionprobe pipeline`: the whole method in one command (`workflows.pipeline`), stage after stage.

Stages (each a verb a user can run alone; each skipped when its folder is complete, resumed when it
was interrupted), all reading one resolved config, OUT/pipeline_config.json:
  1. train-model      the video model (or --model DIR)                      → OUT/model
  2. train-generator  one perceptual generator per k, a pixel one for k = 1 → OUT/generator_k*_*
  3. analyze          uniform / generator / full / oracle / original        → OUT/analysis
  4. report           figures, pictures and report.html                    → OUT/analysis/report.html
"""

from __future__ import annotations

import argparse

from .options import add_analysis_options, add_common, add_hf_model, add_trust_model_code, ks, resolve_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pipeline", help="the whole method in one command: model, generators, analysis, report",
        description="Train the video model (or take --model), train a perceptual generator for each K and a "
                    "pixel one for K = 1, run the analysis and write the report. Rerunning skips finished "
                    "stages and resumes an interrupted one.")
    add_pipeline_options(p)
    add_hf_model(p)
    add_common(p)
    p.set_defaults(run=run, parser=p)


def add_pipeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="DIR", help="analyse this trained model folder instead of training one")
    p.add_argument("--frames", "-k", type=ks, nargs="+", metavar="K", help="numbers of kept frames (default 1 2 4 8)")
    p.add_argument("--fast", action="store_true", help="a smoke run: 1 epoch each, few clips (seconds, not minutes)")
    add_trust_model_code(p)
    add_analysis_options(p)


def run(args: argparse.Namespace, *, default_out: str = "runs/pipeline") -> int:
    from ..analysis.results import summary_text
    from ..workflows import pipeline, smoke

    cfg = resolve_config(args)
    if args.fast:
        cfg = smoke(cfg)
    args.out = args.out or default_out  # what Ctrl-C reports on
    result = pipeline(cfg, args.out, model_dir=args.model, trust_model_code=args.trust_model_code)
    print(summary_text(result.results))
    print(f"report: {result.report}")
    return 0
