"""Label-free training of the temporal generator, in one explicit loop.

Each step: a batch of clips (clips only — the loader's collate drops labels and ids, so no label can
reach the generator or its loss), k random distinct sorted positions per clip (drawn as the analysis
draws candidates), the frames at those positions through the generator, the loss against the real
clip, an Adam step (CycleGAN's optimizer; learning rate and betas from `cfg.generator`).

Randomness is keyed, not carried: epoch e shuffles with a generator seeded by (seed, e) and batch b of
it draws its subsets from (seed, e, b). A run resumed from any checkpoint (written every
`checkpoint_every` steps and at every epoch's end) therefore ends exactly where an uninterrupted one
does.

Under torchrun (motionprobe/distributed.py) the generator trains in DDP: each rank takes every N-th
clip of each global batch and the matching rows of that batch's subsets, so the ranks together train
on exactly the single-process batches; rank 0 alone writes checkpoints, logs and samples. The loss
stays fp32 on every device: it is a small difference of two feature maps, which bf16 rounding (~0.4%
per value) would swamp once the generator is good.

Writes into `out`: generator.safetensors + config.json + meta.json (the folder `load_generator`
reads; refreshed at every epoch's end), train_state.* (for resume), losses.csv (one row per
`log_every` steps, per-layer terms included), samples/step_NNNNNN.png (given / generated / real).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .. import config as config_mod
from .. import distributed
from ..config import Config, GeneratorConfig
from ..data import ClipDataset, build_dataset, clips_only, to_float
from ..errors import UserError
from ..generator import build_generator, build_loss, save_generator, take_frames, training_subsets
from ..generator.losses import LOSSES
from ..generator.strips import png_bytes, strip_image
from ..io import atomic_write_bytes
from ..models import load_model
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
    train_state_extra,
)

SAMPLE_CLIPS = 4


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled clip order of one epoch, a pure function of (seed, epoch)."""
    return np.random.default_rng([seed, 1, epoch]).permutation(n)


def batch_subsets(k: int, n: int, seed: int, epoch: int, batch: int, num_frames: int) -> torch.Tensor:
    """The k-frame subsets given to the generator in one batch, a pure function of (seed, epoch, batch)."""
    return training_subsets(k, n, np.random.default_rng([seed, 2, epoch, batch]), num_frames)


def decay_factor(position: int, steps_per_epoch: int, g: GeneratorConfig) -> float:
    """The learning rate's multiplier at a batch position: 1, then over the last `g.decay_fraction` of the
    steps falling linearly towards 0 (CycleGAN's schedule, per step rather than per epoch). A pure
    function of the position, so a resumed run follows the same schedule without a scheduler state."""
    total = g.epochs * steps_per_epoch
    decay_steps = round(g.decay_fraction * total)
    start = total - decay_steps
    return 1.0 - max(0, position - start + 1) / (decay_steps + 1)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def clip_loader(dataset: ClipDataset, batches: list[list[int]]) -> DataLoader:
    """Yields uint8 clip tensors (B, 3, T, H, W) and nothing else: labels never leave the dataset."""
    return DataLoader(dataset, batch_sampler=batches, collate_fn=clips_only, num_workers=0)


def train_generator(cfg: Config, model_dir: str | Path | None, k: int, out: str | Path, loss: str = "perceptual",
                    resume: bool = False, *, dataset: ClipDataset | None = None, progress: bool = True) -> dict[str, Any]:
    """Train one generator for `k` given frames; returns its metrics.

    `model_dir` is the trained video model whose features define the perceptual loss (the pixel loss
    does not use it; it may then be None). `dataset` (default: `cfg.data`'s training split) may differ
    from the one the model was trained on.
    """
    out = Path(out)
    t = cfg.data.num_frames
    if not 1 <= k <= t:
        raise UserError(f"--frames: expected a number of given frames in 1..{t}, got {k}")
    if loss not in LOSSES:
        raise UserError(f"--loss: expected one of {', '.join(LOSSES)}, got {loss!r}")
    world = distributed.init(cfg.device)  # a no-op unless launched by torchrun
    if not resume and has_train_state(out):
        raise UserError(f"--out: {out} already holds a generator run; pass --resume to continue it or choose another folder")
    distributed.barrier()  # every rank has looked at --out before rank 0 writes into it
    progress = progress and world.is_main
    check_schedule(cfg)
    cfg = config_mod.from_dict(cfg.to_dict())  # a private copy: recording the loss must not touch the caller's
    cfg.generator.loss = loss
    g = cfg.generator
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(cfg.seed)

    model = load_model(model_dir, cfg.device)[0] if model_dir is not None and loss == "perceptual" else None
    criterion = build_loss(loss, model, cfg)
    data = dataset if dataset is not None else build_dataset(cfg, "train", training=True)
    if len(data) == 0:
        raise UserError(f"--dataset: the training split of {cfg.data.dataset!r} holds no clips")
    generator = build_generator(k, cfg).to(cfg.device)
    trained = distributed.wrap_ddp(generator)  # DDP under torchrun; `generator` is what is saved and sampled
    optimizer = torch.optim.Adam(generator.parameters(), lr=g.lr, betas=(g.beta1, g.beta2))
    run = {"k": k, "loss": loss}  # what the checkpoints are of: a resumed run must not change it
    state = TrainState(epoch=0, history=[], extra={"batch": 0, "step": 0, "seconds": 0.0, **run})
    if resume:
        _check_same_run(out, train_state_extra(out), run)  # before the weights: their shapes may differ by k
        state = load_train_state(out, generator, optimizer, None)
    if world.is_main:
        cfg.save(out / "config.json")
    log = MetricsLog(out, "losses.csv") if world.is_main else None

    n, bs = len(data), g.batch_size
    steps_per_epoch = math.ceil(n / bs)
    samples = _sample_batch(data, k, cfg)
    step, seconds = int(state.extra["step"]), float(state.extra["seconds"])
    skipped = getattr(data, "skipped", {})  # unreadable clips (id → reason); carried in checkpoints across resumes
    skipped.update(state.extra.get("skipped", {}))
    window: dict[str, float] = {}
    window_steps, window_clips, window_start = 0, 0, time.perf_counter()
    meta = {"k": k, "loss": loss, "model": None if model_dir is None else str(Path(model_dir).resolve()),
            "dataset": dict(data.metadata)}
    bar = tqdm(total=g.epochs * steps_per_epoch, initial=step, desc=f"generator k={k} {loss}", unit="step",
               disable=not progress)
    for epoch in range(state.epoch, g.epochs):
        first = int(state.extra["batch"]) if epoch == state.epoch else 0
        order = epoch_order(n, cfg.seed, epoch)
        batches = [order[i:i + bs].tolist() for i in range(first * bs, n, bs)]
        positions = [distributed.batch_positions(len(batch), world) for batch in batches]  # this rank's share
        mine = [[batch[i] for i in pos] for batch, pos in zip(batches, positions, strict=True)]
        for b, (clips, pos) in enumerate(zip(clip_loader(data, mine), positions, strict=True), start=first):
            # A batch whose clips were all unreadable (skipped and counted) is no step, on any rank.
            stepped = not distributed.any_rank(clips.numel() == 0)
            if stepped:
                tick = time.perf_counter()
                clips = to_float(clips).to(cfg.device)
                # The global batch's subsets, this rank's rows; subsets are drawn one row at a time, so
                # the first rows are what a draw for fewer clips (some unreadable) would give.
                indices = batch_subsets(k, len(batches[b - first]), cfg.seed, epoch, b, t)[pos][: clips.shape[0]]
                indices = indices.to(cfg.device)
                set_learning_rate(optimizer, g.lr * decay_factor(epoch * steps_per_epoch + b, steps_per_epoch, g))
                generated = trained(take_frames(clips, indices), indices)
                terms = criterion.terms(generated, clips)
                total = criterion.combine(terms)
                if not torch.isfinite(total):
                    raise UserError(_diverged(step, f"loss {total.item()}", g.lr, out))
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                optimizer_step(optimizer, _diverged(step, "the update overflowed float32", g.lr, out))
                step += 1
                seconds += time.perf_counter() - tick
                for name, value in {"loss": total, **terms}.items():
                    window[name] = window.get(name, 0.0) + float(value.detach())
                window_steps, window_clips = window_steps + 1, window_clips + clips.shape[0]
                bar.set_postfix(loss=f"{float(total.detach()):.4g}")
            bar.update(1)
            end_of_epoch = b == steps_per_epoch - 1
            if window_steps and (step % g.log_every == 0 or end_of_epoch):
                names = list(window)  # losses averaged over ranks, clips summed
                sums = distributed.all_reduce_sum([window[name] for name in names] + [window_clips])
                window, window_clips = {name: v / world.size for name, v in zip(names, sums, strict=False)}, sums[-1]
                state.history.append({"step": step, "epoch_progress": round(epoch + (b + 1) / steps_per_epoch, 4),
                                      **{name: v / window_steps for name, v in window.items()},
                                      "clips_per_s": window_clips / max(1e-9, time.perf_counter() - window_start),
                                      "seconds": seconds})
                window, window_steps, window_clips, window_start = {}, 0, 0, time.perf_counter()
            if world.is_main and stepped and step % g.sample_every == 0:
                _write_samples(out, step, generator, samples)
            if end_of_epoch or (stepped and step % g.checkpoint_every == 0):
                check_finite(generator, _diverged(step - 1, "non-finite weights after it", g.lr, out))
            if end_of_epoch or (stepped and step % g.checkpoint_every == 0):
                skipped.update(distributed.merged(skipped))  # every rank's unreadable clips
            if end_of_epoch:
                state = TrainState(epoch + 1, state.history, {"batch": 0, "step": step, "seconds": seconds,
                                                              "skipped": dict(sorted(skipped.items())), **run})
                if world.is_main:
                    _checkpoint(out, generator, optimizer, state, log)
                    save_generator(out, generator, cfg, **meta,
                                   metrics=_metrics(state.history, step, seconds, epoch + 1, skipped))
            elif stepped and step % g.checkpoint_every == 0:
                state = TrainState(epoch, state.history, {"batch": b + 1, "step": step, "seconds": seconds,
                                                          "skipped": dict(sorted(skipped.items())), **run})
                if world.is_main:
                    _checkpoint(out, generator, optimizer, state, log)
    bar.close()
    metrics = _metrics(state.history, step, seconds, g.epochs, skipped)
    if world.is_main:
        _write_samples(out, step, generator, samples)
        save_generator(out, generator, cfg, **meta, metrics=metrics)
    distributed.barrier()  # when any rank returns, the generator folder is complete
    return {"out": str(out), "k": k, "loss": loss, **metrics}


def _check_same_run(out: Path, extra: dict[str, Any], run: dict[str, Any]) -> None:
    """With slot indices the generator has the same weights for every k, so only the checkpoint can tell a
    k=1 run from a k=4 one: resuming it with another k (or loss) would silently mix the two."""
    for key, value in run.items():
        saved = extra.get(key, value)  # checkpoints written before this check do not say
        if saved != value:
            option = "--frames" if key == "k" else "--loss"
            raise UserError(f"--resume: {out} holds a generator run for {key}={saved}, not {key}={value}; resume it "
                            f"with {option} {saved} or choose another --out")


def _diverged(step: int, why: str, lr: float, out: Path) -> str:
    return (f"generator training diverged at step {step + 1} ({why}); lower generator.lr (now {lr}); "
            f"the last checkpoint in {out} is intact")


def check_schedule(cfg: Config) -> None:
    """Refuse a schedule that cannot train (a bad lr, batch, epoch count or decay), before anything is written."""
    g = cfg.generator
    check_learning_rate(g.lr, "--lr")
    for name in ("batch_size", "sample_every", "checkpoint_every", "log_every"):
        if getattr(g, name) < 1:
            raise UserError(f"generator.{name}: expected a positive integer, got {getattr(g, name)}")
    if g.epochs < 1:
        raise UserError(f"--epochs: expected at least 1 generator epoch, got {g.epochs}")
    if not 0 <= g.decay_fraction <= 1:
        raise UserError(f"--decay-fraction: expected 0..1 (the share of the steps whose learning rate falls), "
                        f"got {g.decay_fraction}")


def _checkpoint(out: Path, generator: torch.nn.Module, optimizer: torch.optim.Optimizer, state: TrainState,
                log: MetricsLog) -> None:
    log.write(state.history)
    save_train_state(out, generator, optimizer, None, state)


def _metrics(history: list[dict[str, Any]], steps: int, seconds: float, epochs: int,
             skipped: dict[str, str]) -> dict[str, Any]:
    """First logged loss, mean loss over the last epoch's rows, steps, epochs, training seconds, unreadable clips."""
    last_epoch = [row["loss"] for row in history if row["epoch_progress"] > epochs - 1]
    return {"loss_first": history[0]["loss"] if history else None,
            "loss_last_epoch": float(np.mean(last_epoch)) if last_epoch else None,
            "steps": steps, "epochs": epochs, "train_seconds": round(seconds, 2), "skipped_clips": len(skipped)}


def _sample_batch(data: ClipDataset, k: int, cfg: Config) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A fixed batch of clips spread over the dataset and fixed subsets, so strips compare across steps."""
    # Spread over the dataset, nudged by 3·i so that class-interleaved layouts show different classes.
    ids = sorted({(i * len(data) // SAMPLE_CLIPS + 3 * i) % len(data) for i in range(min(SAMPLE_CLIPS, len(data)))})
    clips = to_float(clips_only([data[i] for i in ids])).to(cfg.device)  # unreadable clips drop out
    if clips.numel() == 0:
        return None
    indices = training_subsets(k, clips.shape[0], np.random.default_rng([cfg.seed, 3]), cfg.data.num_frames)
    return clips, indices.to(cfg.device)


@torch.no_grad()
def _write_samples(out: Path, step: int, generator: torch.nn.Module,
                   samples: tuple[torch.Tensor, torch.Tensor] | None) -> None:
    if samples is None:  # every sample clip was unreadable
        return
    clips, indices = samples
    given = take_frames(clips, indices)
    image = strip_image(given, indices, generator(given, indices), clips)
    atomic_write_bytes(out / "samples" / f"step_{step:06d}.png", png_bytes(image))
