"""`motionprobe compare`: several analysis folders in one report, paired where they analysed the same clips."""

from __future__ import annotations

import argparse


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="several analyses side by side: cards, ranking, paired differences, figures",
        description="Reads each RUN's results.json and per_clip.csv (analysis folders) and writes compare.html, "
                    "compare.json, ranking.csv, differences.csv and figures/ into --out: every run's motion bound "
                    "against k, its probe drops and stride curve, per-class bounds of two runs where their classes "
                    "match, the runs' cards side by side and ranked, and the differences of every pair with 95% "
                    "intervals: paired where the two analysed the same clips, unpaired (and said so) otherwise. A "
                    "run that scores another target, other clip lengths or other k's than the first is shown apart "
                    "with the reason.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="analysis folders (from 'motionprobe analyze')")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/compare)")
    p.add_argument("--bootstrap", dest="compare_bootstrap", type=int, metavar="B",
                   help="bootstrap resamples for the differences' intervals (default 1000)")
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..compare import compare

    out = args.out = args.out or "runs/compare"
    page = compare(args.runs, out, n_boot=1000 if args.compare_bootstrap is None else args.compare_bootstrap)
    print(f"compare: {page}")
    return 0
