"""`motionprobe evaluate`: clip accuracy, per-class accuracy and confusion matrix of a trained model."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_model_options, model_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="clip accuracy, per-class accuracy and confusion matrix of a trained model",
        description="Evaluate a model folder on a dataset's test split (by default the dataset it was trained "
                    "on). Writes eval.json, per_class.csv and confusion.csv into --out (default MODEL/eval).")
    p.add_argument("--model", required=True, metavar="DIR", help="trained model folder")
    p.add_argument("--batch-size", dest="eval_batch_size", type=int, help="clips per batch")
    add_model_options(p)
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from ..workflows import evaluate

    cfg = model_config(args)
    out = Path(args.out) if args.out else Path(args.model) / "eval"
    ev = evaluate(args.model, cfg, out, batch_size=args.eval_batch_size, trust_model_code=args.trust_model_code)
    kinds = "  ".join(f"{k} {v:.3f}" for k, v in ev.per_kind().items())
    print(f"clip accuracy {ev.accuracy:.3f} on {ev.n} clips  {kinds}")
    print(f"wrote {out}/eval.json, per_class.csv, confusion.csv")
    return 0
