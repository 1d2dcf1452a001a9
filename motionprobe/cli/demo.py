"""`motionprobe demo`: the pipeline on the embedded motion benchmark with the `tiny` preset."""

from __future__ import annotations

import argparse

from .options import add_common
from .pipeline import add_pipeline_options
from .pipeline import run as run_pipeline


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="the pipeline on the embedded benchmark (tiny preset): train, generators, analysis, report",
        description="Run 'motionprobe pipeline' on the synthetic motion benchmark with the tiny preset: train the "
                    "tiny C3D, train the temporal generators, analyse and write report.html (default runs/demo). "
                    "Rerunning skips finished stages and resumes an interrupted one.")
    add_pipeline_options(p)
    add_common(p, data=False)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    args.dataset, args.preset = "synthetic", args.preset or "tiny"
    return run_pipeline(args, default_out="runs/demo")
