"""`motionprobe report`: figures, pictures and report.html from an analysis folder."""

from __future__ import annotations

import argparse

from .. import config as config_mod
from ..folders import AnalysisFolder
from .options import add_data, assignments, resolve_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="draw the figures and write report.html for an analysis folder",
        description="Reads DIR/results.json (from 'motionprobe analyze') and writes, beside it, figures/ (accuracy "
                    "vs frames, per class, pixel vs perceptual generator, generator gain, per kind), and report.html: "
                    "the motion bound headline, the tables, the figures and provenance. With --model (and the "
                    "generator folders, taken from results.json when omitted) it also draws pictures/: the classes "
                    "needing the least and the most motion, their selected frames, generated clips and motion. "
                    "The page has no external resources: open it offline.")
    p.add_argument("analysis", metavar="DIR", help="analysis folder holding results.json")
    p.add_argument("--model", metavar="DIR", help="the analysed model folder: adds the qualitative pictures")
    p.add_argument("--generator", action="extend", nargs="+", default=[], metavar="K=DIR",
                   help="generator folder for K (default: the folders recorded in results.json, if they exist)")
    p.add_argument("--out", metavar="DIR", help="where report.html, figures/ and pictures/ go (default DIR)")
    p.add_argument("--device", choices=config_mod.DEVICES, help="where to regenerate the pictures' clips (default cpu)")
    add_data(p)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..report import headline
    from ..workflows import report

    results = AnalysisFolder(args.analysis).results()
    cfg = None
    if args.model and results.config:  # the pictures' clips: the analysis' dataset unless data flags say otherwise
        cfg = resolve_config(args, base=config_mod.from_dict(results.config))
    page = report(args.analysis, model_dir=args.model,
                  generators=assignments(args.generator, "--generator") if args.generator else None, cfg=cfg,
                  out=args.out, device=args.device or "cpu", verbose=True)
    print(headline(results))
    print(f"report: {page}")
    return 0
