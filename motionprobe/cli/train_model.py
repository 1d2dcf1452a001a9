"""`motionprobe train-model`: supervised training of the video model to be analysed."""

from __future__ import annotations

import argparse

from ..models import architectures
from .options import add_common, add_hf_model, resolve_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-model", help="train (or fine-tune) the video classifier to analyse",
        description="Train a video classifier on 16-frame clips. Writes a model folder (model.safetensors, "
                    "config.json, meta.json) with log.csv, eval.json, per_class.csv and confusion.csv; "
                    "--resume continues from the last completed epoch.")
    p.add_argument("--arch", choices=architectures(), help="architecture (default c3d)")
    p.add_argument("--weights", metavar="FILE", help="start from pretrained weights: c3d.pickle, torchvision .pth, "
                   "or a motionprobe model folder / .safetensors; the classifier is replaced for this dataset")
    p.add_argument("--model-factory", metavar="MOD:FN", help="your own model: package.module:function(num_classes=N)")
    add_hf_model(p)
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--batch-size", type=int, help="clips per step")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    add_common(p)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..workflows import train_model

    out = args.out = args.out or "runs/model"  # args.out: what Ctrl-C reports on
    metrics = train_model(resolve_config(args), out, resume=args.resume)
    kinds = "  ".join(f"{k[len('test_acc_'):]} {v:.3f}" for k, v in metrics.items() if k.startswith("test_acc_"))
    print(f"test clip accuracy {metrics.get('test_acc', float('nan')):.3f}  {kinds}")
    print(f"model folder: {out}")
    return 0
