"""Supervised training of the video model, in one explicit loop.

Recipes: `paper` follows C3D (SGD, momentum 0.9, weight decay 5e-4, learning rate divided by 10 every
4 epochs); `tiny` uses AdamW with a step decay, which trains the 1/8-width C3D on the synthetic
benchmark in a couple of CPU minutes. Each epoch draws its shuffle order and dropout noise from
(seed, epoch), so a run resumed from an epoch checkpoint ends exactly where an uninterrupted one does.

Under torchrun (motionprobe/distributed.py) the model trains in DDP: `train.batch_size` stays the
global batch, each of N ranks takes every N-th clip of it (`epoch_loader`), gradients are averaged,
and rank 0 alone writes the model folder and logs. On CUDA the forward and loss run under bf16 autocast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from .. import distributed
from ..data import ClipDataset, build_dataset, to_float
from ..data.base import collate_clips
from ..errors import UserError
from ..evaluation import evaluate, write_evaluation
from ..folders import ModelFolder
from ..io import atomic_write_json, read_json
from ..models import VideoModel, build_model
from .schedule import (
    MODEL_STREAM,
    epoch_batches,
    model_epochs,
    model_lr_factor,
    rank_share,
    set_learning_rate,
    steps_per_epoch,
)
from .state import (
    MetricsLog,
    TrainState,
    check_finite,
    load_train_state,
    optimizer_step,
    refuse_fewer_epochs,
    refuse_started_run,
    save_train_state,
    seed_everything,
)

if TYPE_CHECKING:
    from ..config import Config

RANK_SEED_STRIDE = 1_000_003  # keeps the ranks' noise seeds apart from every (seed, epoch) of rank 0


def make_optimizer(cfg: Config, model: torch.nn.Module) -> torch.optim.Optimizer:
    t = cfg.train  # validated by config.validate: a known optimizer, a positive finite lr
    if t.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)


def augment(clip: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Light, motion-neutral augmentation: per-clip brightness and contrast jitter (no flips: they
    would turn 'drift left' into 'drift right')."""
    b = clip.shape[0]
    gain = 1.0 + 0.2 * (torch.rand(b, 1, 1, 1, 1, generator=generator) - 0.5)
    bias = 0.1 * (torch.rand(b, 1, 1, 1, 1, generator=generator) - 0.5)
    return (clip * gain + bias).clamp_(0.0, 1.0)


def epoch_loader(train_set: ClipDataset, cfg: Config, epoch: int, world: distributed.World) -> DataLoader:
    """This process's batches of one epoch (training/schedule.py: the global batches of `train.batch_size`,
    shuffled by (seed, epoch), every N-th clip of each to process r of N; a partial last batch is dropped)."""
    batches = epoch_batches(len(train_set), cfg.train.batch_size, cfg.seed, epoch, stream=MODEL_STREAM,
                            drop_last=True)
    return DataLoader(train_set, batch_sampler=rank_share(batches, world)[1], num_workers=0, collate_fn=collate_clips)


def build_for_training(cfg: Config, num_classes: int) -> VideoModel:
    # The config to train is the caller's own choice (typed options, their config file), not one read from a
    # model folder, so a model factory it names is trusted.
    model = build_model(cfg.model, cfg.data, num_classes, trust_model_code=True)
    if cfg.model.weights:
        from ..weights.load import apply_pretrained

        model = apply_pretrained(model, cfg.model.weights, cfg.model.arch, num_classes)
    return model


def train_model(cfg: Config, out: str | Path, resume: bool = False, progress: bool = True,
                train_set: ClipDataset | None = None, test_set: ClipDataset | None = None) -> dict[str, Any]:
    """Train, evaluating on the test split after every epoch; returns the final metrics.

    Writes into `out`: model.safetensors, config.json, meta.json (the model folder other verbs load),
    train_state.* (to resume), log.csv, eval.json, per_class.csv, confusion.csv.
    """
    out = Path(out)
    world = distributed.init(cfg.device)  # a no-op unless launched by torchrun
    refuse_started_run(out, resume, "training")
    out.mkdir(parents=True, exist_ok=True)
    distributed.barrier()  # every rank has looked at the folder before rank 0 writes into it
    progress = progress and world.is_main
    seed_everything(cfg.seed)
    train_set = train_set or build_dataset(cfg.data, "train", training=True, seed=cfg.seed)
    test_set = test_set or build_dataset(cfg.data, "test", training=False, seed=cfg.seed)
    model = build_for_training(cfg, len(train_set.classes)).to(cfg.device)
    trained = distributed.wrap_ddp(model)  # DDP under torchrun; `model` is what is saved and evaluated
    optimizer = make_optimizer(cfg, model)
    state = TrainState(epoch=0, history=[], extra={})
    epochs = model_epochs(cfg.train, steps_per_epoch(len(train_set), cfg.train.batch_size))
    if resume:
        state = load_train_state(out, model, optimizer)
        refuse_fewer_epochs(out, state.epoch, epochs, "train.epochs")
    if world.is_main:
        cfg.save(out / "config.json")
    log = MetricsLog(out) if world.is_main else None
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=torch.device(cfg.device).type == "cuda")

    metrics: dict[str, Any] = state.history[-1] if state.history else {}
    for epoch in range(state.epoch, epochs):
        # Augmentation and dropout noise from (seed, epoch, rank): ranks see different clips, so different noise.
        rng = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch + RANK_SEED_STRIDE * world.rank)
        torch.manual_seed(cfg.seed * 100_003 + epoch + RANK_SEED_STRIDE * world.rank)
        loader = epoch_loader(train_set, cfg, epoch, world)
        start = time.perf_counter()
        seen, correct, loss_sum = _train_epoch(cfg, out, epoch, epochs, model, trained, optimizer, loader, rng,
                                               autocast, progress)
        seen, correct, loss_sum = distributed.all_reduce_sum([seen, correct, loss_sum])  # over every rank's clips
        skipped_train = distributed.merged(train_set.skipped)  # each rank saw its own clips; all evaluate every test clip
        check_finite(model, _diverged(cfg, out, epoch, "non-finite weights after the last step"))
        ev = evaluate(model, test_set, batch_size=max(32, cfg.train.batch_size), device=cfg.device, progress=progress)
        metrics = {"epoch": epoch + 1, "train_loss": loss_sum / max(1, seen), "train_acc": correct / max(1, seen),
                   "test_acc": ev.accuracy, **{f"test_acc_{k}": v for k, v in ev.per_kind().items()},
                   "lr": optimizer.param_groups[0]["lr"], "skipped_clips": len(skipped_train) + len(test_set.skipped),
                   "seconds": time.perf_counter() - start}
        state = TrainState(epoch=epoch + 1, history=[*state.history, metrics], extra={})
        if not world.is_main:
            continue
        log.write(state.history)
        _save_epoch(out, cfg, model, optimizer, state, train_set, ev, epochs, progress)
    if world.is_main and state.epoch >= epochs and not ModelFolder(out).is_complete():
        _mark_complete(out, epochs)  # resumed with no epoch left to run (--epochs lowered to those done)
    distributed.barrier()  # when any rank returns, the model folder is complete
    return metrics


def _train_epoch(cfg: Config, out: Path, epoch: int, epochs: int, model: VideoModel, trained: torch.nn.Module,
                 optimizer: torch.optim.Optimizer, loader: DataLoader, rng: torch.Generator, autocast: Any,
                 progress: bool) -> tuple[int, int, float]:
    """One epoch's optimiser steps on this rank's batches: the clips seen, those right, and the summed loss."""
    steps = max(1, len(loader))
    model.train()
    seen, correct, loss_sum = 0, 0, 0.0
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", disable=not progress, leave=False)
    for b, batch in enumerate(bar):
        # A batch whose clips were all unreadable (recorded in train_set.skipped) is no step, on any rank.
        if distributed.any_rank(not batch["id"]):
            continue
        set_learning_rate(optimizer, cfg.train.lr * model_lr_factor(epoch * steps + b, steps, cfg.train))
        clip = augment(to_float(batch["clip"]), rng).to(cfg.device)
        label = batch["label"].to(cfg.device)
        with autocast:
            logits = trained(clip)
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
    return seen, correct, loss_sum


def _save_epoch(out: Path, cfg: Config, model: VideoModel, optimizer: torch.optim.Optimizer, state: TrainState,
                train_set: ClipDataset, ev: Any, epochs: int, progress: bool) -> None:
    """Rank 0 after an epoch: the model folder (meta.json says whether it is complete), its evaluation and the
    resumable state."""
    epoch, metrics = state.epoch, state.history[-1]
    ModelFolder(out).save(model, cfg, train_set.classes, seed=cfg.seed, metrics=metrics,
                          dataset=dict(train_set.metadata), epochs_done=epoch, planned_epochs=epochs,
                          complete=epoch >= epochs)
    write_evaluation(out, ev, model=str(out), split="test", epoch=epoch)
    save_train_state(out, model, optimizer, state)
    if progress:
        kinds = " ".join(f"{k}={v:.3f}" for k, v in ev.per_kind().items())
        tqdm.write(f"epoch {epoch}: loss {metrics['train_loss']:.3f}  test clip acc {ev.accuracy:.3f}  {kinds}")


def _mark_complete(out: Path, epochs: int) -> None:
    """A model stopped early becomes complete when it is resumed with the epochs it already has."""
    path = out / "meta.json"
    if path.is_file():
        atomic_write_json(path, {**read_json(path), "planned_epochs": epochs, "complete": True})


def _diverged(cfg: Config, out: Path, epoch: int, why: str) -> str:
    return (f"training diverged at epoch {epoch + 1} ({why}); lower train.lr (now {cfg.train.lr}); "
            f"the last good checkpoint in {out} is intact")
