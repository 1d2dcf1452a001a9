"""`motionprobe evaluate`: clip accuracy, per-class accuracy and confusion matrix of a trained model."""

from __future__ import annotations

import argparse

from .common import add_common, model_config, out_dir, resolve_config


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="clip accuracy, per-class accuracy and confusion matrix of a trained model",
        description="Evaluate a model folder on a dataset's test split (by default the dataset it was trained "
                    "on). Writes eval.json, per_class.csv and confusion.csv into --out.")
    p.add_argument("--model", required=True, metavar="DIR", help="trained model folder")
    p.add_argument("--batch-size", type=int, help="clips per batch")
    add_common(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..data import build_dataset
    from ..evaluation import evaluate, write_evaluation
    from ..models import load_model
    cfg = resolve_config(args, base=model_config(args.model))
    model, meta = load_model(args.model, cfg.device)
    dataset = build_dataset(cfg, "test", training=False)
    if list(dataset.classes) != list(meta["classes"]):
        from ..errors import UserError

        raise UserError(f"--dataset: its {len(dataset.classes)} classes differ from the {len(meta['classes'])} "
                        f"the model in {args.model} was trained on")
    ev = evaluate(model, dataset, batch_size=args.batch_size or cfg.train.batch_size, device=cfg.device)
    out = out_dir(args, f"{args.model}/eval")
    write_evaluation(out, ev, model=str(args.model), dataset=cfg.data.dataset, split="test")
    cfg.save(out / "config.json")
    kinds = "  ".join(f"{k} {v:.3f}" for k, v in ev.per_kind().items())
    print(f"clip accuracy {ev.accuracy:.3f} on {ev.n} clips  {kinds}")
    print(f"wrote {out}/eval.json, per_class.csv, confusion.csv")
    return 0
