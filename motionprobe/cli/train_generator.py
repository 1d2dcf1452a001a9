"""`motionprobe train-generator`: train the class-agnostic temporal generator for k given frames."""

from __future__ import annotations

import argparse
import json

from ..generator.losses import LOSSES
from .options import add_model_options, model_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-generator", help="train the temporal generator (k frames + their indices → 16-frame clip), no labels",
        description="Train one class-agnostic temporal generator for K given frames against a trained video "
                    "model's features (perceptual loss) or pixels. Labels are never read. The dataset may "
                    "differ from the model's. Writes generator.safetensors, config.json, meta.json, "
                    "losses.csv and samples/*.png into --out; --resume continues an interrupted run.")
    p.add_argument("--model", required=True, metavar="DIR", help="trained video model folder (from train-model)")
    p.add_argument("--frames", "-k", dest="k", type=int, required=True, metavar="K",
                   help="number of given frames (1, 2, 4, 8)")
    p.add_argument("--loss", choices=LOSSES, help="perceptual (the model's features; default) or pixel")
    p.add_argument("--epochs", dest="generator_epochs", type=int, metavar="N",
                   help="training epochs, trained exactly (default: tiny 6, or more to reach 400 steps; paper 10)")
    p.add_argument("--batch-size", dest="generator_batch_size", type=int, metavar="B", help="clips per step")
    p.add_argument("--lr", dest="generator_lr", type=float, metavar="LR", help="Adam learning rate")
    p.add_argument("--decay-fraction", type=float, metavar="F",
                   help="the last F of the steps lower the learning rate linearly towards 0 (default 0.5, "
                        "CycleGAN's second half; 0: constant)")
    p.add_argument("--no-indices", dest="use_indices", action="store_const", const=False,
                   help="do not tell the generator where the given frames sit (the tiny preset's default; "
                        "generator.use_indices: true in a --config file turns them on)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    add_model_options(p)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..workflows import train_generator

    cfg = model_config(args)
    out = args.out = args.out or f"runs/generator_k{args.k}_{cfg.generator.loss}"  # args.out: what Ctrl-C reports on
    result = train_generator(args.model, args.k, out, cfg, resume=args.resume, trust_model_code=args.trust_model_code)
    print(json.dumps(result, indent=2))
    return 0
