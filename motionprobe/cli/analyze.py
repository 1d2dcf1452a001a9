"""`motionprobe analyze`: how much of the model's accuracy needs motion (the paper's Figure 3 numbers)."""

from __future__ import annotations

import argparse

from .options import add_analysis_options, add_common, add_trust_model_code, assignments, candidates, ks, model_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze", help="measure the model's accuracy without motion: uniform, generator, full analysis, oracle",
        description="For each K, keep K of the 16 frames, regenerate the clip with the temporal generator and "
                    "classify it; choose among candidate subsets by the model's max response (the full "
                    "analysis) or by an oracle. Reports clip accuracies with bootstrap intervals, the motion "
                    "upper bound (original − full), per-class and per-kind tables. K's without a generator "
                    "run the original and the replicated-frame baseline only. Writes results.json, "
                    "per_class.csv, per_clip.csv, candidates.csv.gz and the candidate table into --out; "
                    "--resume continues an interrupted run exactly.")
    p.add_argument("--model", required=True, metavar="DIR", help="trained video model folder (from train-model)")
    p.add_argument("--generator", action="extend", nargs="+", default=[], metavar="K=DIR",
                   help="perceptual generator folder for K kept frames (repeatable: --generator 1=g1 4=g4)")
    p.add_argument("--pixel-generator", action="extend", nargs="+", default=[], metavar="K=DIR",
                   help="pixel-loss generator folder for K kept frames (the Figure 7 comparison)")
    p.add_argument("--frames", "-k", nargs="+", metavar="K", type=ks,
                   help="numbers of kept frames, e.g. '1,2,4,8' or '1 2 4 8' (default 1 2 4 8)")
    p.add_argument("--candidates", type=candidates, metavar="N|all",
                   help="selector pool per K: N seeded random subsets (default 48, as the paper) or 'all' C(16, K)")
    p.add_argument("--bootstrap", type=int, metavar="B", help="bootstrap resamples for the intervals (tiny 500, paper 1000)")
    p.add_argument("--batch-size", dest="analysis_batch_size", type=int, metavar="B",
                   help="(clip, candidate) inputs per forward pass")
    p.add_argument("--shard-size", type=int, metavar="N", help="clips per resumable shard of the candidate table")
    p.add_argument("--no-csv", action="store_true", help="do not write candidates.csv.gz (the .npz table is kept)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--resume", action="store_true", help="continue the analysis in --out, skipping finished shards")
    add_trust_model_code(p)
    add_analysis_options(p)
    add_common(p)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..analysis.results import summary_text
    from ..workflows import analyze

    cfg = model_config(args)
    out = args.out = args.out or "runs/analysis"  # args.out: what Ctrl-C reports on
    results = analyze(args.model, out, cfg, generators=assignments(args.generator, "--generator"),
                      pixel_generators=assignments(args.pixel_generator, "--pixel-generator"), resume=args.resume,
                      write_csv=not args.no_csv, trust_model_code=args.trust_model_code, progress=not args.no_progress)
    print(summary_text(results))
    print(f"results: {out}/results.json")
    return 0
