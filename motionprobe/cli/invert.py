"""`motionprobe invert`: reconstruct a clip from the model's features at one layer (feature inversion)."""

from __future__ import annotations

import argparse

from .options import add_model_options, model_config


def add(sub: argparse._SubParsersAction) -> None:
    from ..report.inversion import INITS, InversionSettings

    d = InversionSettings()
    p = sub.add_parser(
        "invert", help="show what a layer keeps: optimise a clip whose features match a real clip's",
        description="Feature inversion: starting from noise (or the model's mean colour), optimise a clip with "
                    "Adam so the model's features at --layer match those of test clip --clip, under a smoothness "
                    "prior (spatial and temporal total variation). Writes inversion.png (original, reconstruction "
                    "and their motion), inversion.gif (side by side) and inversion.json (final feature loss) into "
                    "--out. Put --out inside an analysis folder (DIR/inversion) and 'motionprobe report' shows it.")
    p.add_argument("--model", required=True, metavar="DIR", help="trained video model folder")
    p.add_argument("--layer", default="pool5", help="layer whose features are matched (default pool5)")
    p.add_argument("--clip", type=int, default=0, metavar="N", help="index of the clip in the test split (default 0)")
    p.add_argument("--steps", type=int, default=d.steps, metavar="S", help=f"Adam steps (default {d.steps})")
    p.add_argument("--lr", dest="inversion_lr", type=float, default=d.lr,
                   help=f"Adam learning rate on pixels in [0, 1] (default {d.lr})")
    p.add_argument("--init", choices=INITS, default=d.init, help="starting clip: noise around grey, or the model's "
                   f"mean colour (default {d.init})")
    p.add_argument("--tv", type=float, default=d.tv_space, help=f"spatial smoothness weight (default {d.tv_space})")
    p.add_argument("--tv-time", type=float, default=d.tv_time, help=f"temporal smoothness weight (default {d.tv_time})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_model_options(p)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..report.inversion import InversionSettings
    from ..workflows import invert

    cfg = model_config(args)
    settings = InversionSettings(steps=args.steps, lr=args.inversion_lr, init=args.init, tv_space=args.tv,
                                 tv_time=args.tv_time, seed=cfg.seed)
    inversion, files = invert(args.model, args.out or "runs/inversion", layer=args.layer, clip=args.clip,
                              settings=settings, cfg=cfg, trust_model_code=args.trust_model_code,
                              progress=not args.no_progress)
    print(f"layer {args.layer}: relative feature loss {inversion.initial_loss:.4f} -> {inversion.final_loss:.4f}")
    print(f"inversion: {files.png} {files.gif} {files.json}")
    return 0
