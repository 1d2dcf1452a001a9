"""`motionprobe train-generator`: train the class-agnostic temporal generator for k given frames."""

from __future__ import annotations

import argparse
import json

from .. import config as config_mod
from ..generator.losses import LOSSES
from .common import add_common, model_config, out_dir, resolve_config

# Verb options → GeneratorConfig fields (kept here: they mean nothing to the other verbs).
GENERATOR_OPTIONS = {"generator_epochs": "generator.epochs", "generator_batch_size": "generator.batch_size",
                     "generator_lr": "generator.lr", "decay_fraction": "generator.decay_fraction",
                     "use_indices": "generator.use_indices"}


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-generator", help="train the temporal generator (k frames + their indices → 16-frame clip), no labels",
        description="Train one class-agnostic temporal generator for K given frames against a trained video "
                    "model's features (perceptual loss) or pixels. Labels are never read. The dataset may "
                    "differ from the model's. Writes generator.safetensors, config.json, meta.json, "
                    "losses.csv and samples/*.png into --out; --resume continues an interrupted run.")
    p.add_argument("--model", required=True, metavar="DIR", help="trained video model folder (from train-model)")
    p.add_argument("--frames", "-k", type=int, required=True, metavar="K", help="number of given frames (1, 2, 4, 8)")
    p.add_argument("--loss", choices=LOSSES, help="perceptual (the model's features; default) or pixel")
    p.add_argument("--epochs", dest="generator_epochs", type=int, metavar="N", help="training epochs (tiny 6, paper 10)")
    p.add_argument("--batch-size", dest="generator_batch_size", type=int, metavar="B", help="clips per step")
    p.add_argument("--lr", dest="generator_lr", type=float, metavar="LR", help="Adam learning rate")
    p.add_argument("--decay-fraction", type=float, metavar="F",
                   help="the last F of the steps lower the learning rate linearly towards 0 (default 0.5, "
                        "CycleGAN's second half; 0: constant)")
    p.add_argument("--no-indices", dest="use_indices", action="store_const", const=False,
                   help="do not tell the generator where the given frames sit (the tiny preset's default; "
                        "generator.use_indices: true in a --config file turns them on)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    add_common(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..training.generator import check_schedule, train_generator

    model_cfg = model_config(args.model)
    cfg = resolve_config(args, base=model_cfg)
    config_mod.apply_overrides(cfg, {path: getattr(args, dest) for dest, path in GENERATOR_OPTIONS.items()
                                     if getattr(args, dest, None) is not None})
    loss = args.loss or cfg.generator.loss
    check_schedule(cfg)  # before --out is created: a refused option leaves no empty folder behind
    out = out_dir(args, f"runs/generator_k{args.frames}_{loss}")
    result = train_generator(cfg, args.model, args.frames, out, loss=loss, resume=args.resume)
    print(json.dumps(result, indent=2))
    return 0
