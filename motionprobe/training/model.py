"""Supervised training of the video model, in one explicit loop.

Recipes: `paper` follows C3D (SGD, momentum 0.9, weight decay 5e-4, learning rate divided by 10 every
4 epochs); `tiny` uses AdamW with a step decay, which trains the 1/8-width C3D on the synthetic
benchmark in a couple of CPU minutes. Each epoch draws its shuffle order and dropout noise from
(seed, epoch), so a run resumed from an epoch checkpoint ends exactly where an uninterrupted one does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..config import Config
from ..data import ClipDataset, build_dataset, to_float
from ..data.base import collate_clips
from ..errors import UserError
from ..evaluation import evaluate, write_evaluation
from ..models import VideoModel, build_model, save_model
from .state import (
    MetricsLog,
    TrainState,
    check_finite,
    check_learning_rate,
    has_train_state,
    load_train_state,
    optimizer_step,
    save_train_state,
    seed_everything,
)


def make_optimizer(cfg: Config, model: torch.nn.Module) -> tuple[torch.optim.Optimizer, Any]:
    t = cfg.train
    check_learning_rate(t.lr, "--lr")
    for option, value in (("--epochs", t.epochs), ("--batch-size", t.batch_size),
                          ("train.lr_step_epochs", t.lr_step_epochs)):
        if value < 1:
            raise UserError(f"{option}: expected a positive integer, got {value}")
    if t.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
    elif t.optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    else:
        raise UserError(f"train.optimizer: expected 'sgd' or 'adamw', got {t.optimizer!r}")
    return opt, torch.optim.lr_scheduler.StepLR(opt, step_size=t.lr_step_epochs, gamma=t.lr_gamma)


def augment(clip: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Light, motion-neutral augmentation: per-clip brightness and contrast jitter (no flips: they
    would turn 'drift left' into 'drift right')."""
    b = clip.shape[0]
    gain = 1.0 + 0.2 * (torch.rand(b, 1, 1, 1, 1, generator=generator) - 0.5)
    bias = 0.1 * (torch.rand(b, 1, 1, 1, 1, generator=generator) - 0.5)
    return (clip * gain + bias).clamp_(0.0, 1.0)


def build_for_training(cfg: Config, num_classes: int) -> VideoModel:
    model = build_model(cfg, num_classes)
    if cfg.model.weights:
        from ..models.weights import apply_pretrained

        model = apply_pretrained(model, cfg.model.weights, cfg.model.arch, num_classes)
    return model


def train_model(cfg: Config, out: str | Path, resume: bool = False, progress: bool = True,
                train_set: ClipDataset | None = None, test_set: ClipDataset | None = None) -> dict[str, Any]:
    """Train, evaluating on the test split after every epoch; returns the final metrics.

    Writes into `out`: model.safetensors, config.json, meta.json (the model folder other verbs load),
    train_state.* (for --resume), log.csv, eval.json, per_class.csv, confusion.csv.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not resume and has_train_state(out):
        raise UserError(f"--out: {out} already holds a training run; pass --resume to continue it or choose another folder")
    seed_everything(cfg.seed)
    train_set = train_set or build_dataset(cfg, "train", training=True)
    test_set = test_set or build_dataset(cfg, "test", training=False)
    model = build_for_training(cfg, len(train_set.classes)).to(cfg.device)
    optimizer, scheduler = make_optimizer(cfg, model)
    state = TrainState(epoch=0, history=[], extra={})
    if resume:
        state = load_train_state(out, model, optimizer, scheduler)
    cfg.save(out / "config.json")
    log = MetricsLog(out)

    metrics: dict[str, Any] = state.history[-1] if state.history else {}
    for epoch in range(state.epoch, cfg.train.epochs):
        rng = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        torch.manual_seed(cfg.seed * 100_003 + epoch)  # dropout noise
        loader = DataLoader(train_set, batch_size=cfg.train.batch_size, shuffle=True, generator=rng,
                            num_workers=0, drop_last=len(train_set) > cfg.train.batch_size, collate_fn=collate_clips)
        model.train()
        start, seen, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.train.epochs}", unit="batch", disable=not progress, leave=False)
        for batch in bar:
            if not batch["id"]:  # every clip of the batch was unreadable (recorded in train_set.skipped)
                continue
            clip = augment(to_float(batch["clip"]), rng).to(cfg.device)
            label = batch["label"].to(cfg.device)
            logits = model(clip)
            loss = F.cross_entropy(logits, label)
            if not torch.isfinite(loss):
                raise UserError(_diverged(cfg, out, epoch, f"loss {loss.item()}"))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer_step(optimizer, _diverged(cfg, out, epoch, "the update overflowed float32"))
            seen += len(label)
            correct += int((logits.argmax(1) == label).sum())
            loss_sum += loss.item() * len(label)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        scheduler.step()
        check_finite(model, _diverged(cfg, out, epoch, "non-finite weights after the last step"))
        ev = evaluate(model, test_set, batch_size=max(32, cfg.train.batch_size), device=cfg.device, progress=progress)
        metrics = {"epoch": epoch + 1, "train_loss": loss_sum / max(1, seen), "train_acc": correct / max(1, seen),
                   "test_acc": ev.accuracy, **{f"test_acc_{k}": v for k, v in ev.per_kind().items()},
                   "lr": optimizer.param_groups[0]["lr"], "skipped_clips": len(train_set.skipped) + len(test_set.skipped),
                   "seconds": time.perf_counter() - start}
        state = TrainState(epoch=epoch + 1, history=[*state.history, metrics], extra={})
        log.write(state.history)
        save_model(out, model, cfg, train_set.classes, seed=cfg.seed, metrics=metrics,
                   dataset=dict(train_set.metadata), epochs_done=epoch + 1)
        write_evaluation(out, ev, model=str(out), split="test", epoch=epoch + 1)
        save_train_state(out, model, optimizer, scheduler, state)
        if progress:
            kinds = " ".join(f"{k}={v:.3f}" for k, v in ev.per_kind().items())
            tqdm.write(f"epoch {epoch + 1}: loss {metrics['train_loss']:.3f}  test clip acc {ev.accuracy:.3f}  {kinds}")
    return metrics


def _diverged(cfg: Config, out: Path, epoch: int, why: str) -> str:
    return (f"training diverged at epoch {epoch + 1} ({why}); lower --lr (now {cfg.train.lr}); "
            f"the last good checkpoint in {out} is intact")
