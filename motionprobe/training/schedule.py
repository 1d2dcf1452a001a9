"""What both training loops do when: the order of the clips, how a batch splits over processes, the learning rate.

Everything here is a pure function of (seed, epoch, position): a run resumed from any checkpoint
follows the same schedule without carrying a sampler or scheduler state, and N processes under torchrun
together train on exactly the single-process batches.

Worked example, 10 clips, batch size 4, 2 processes: epoch e's order is a permutation p of 0..9; the
batches are p[0:4], p[4:8] (p[8:10] is dropped when `drop_last`), and in each batch process 0 takes
positions 0 and 2, process 1 positions 1 and 3.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from .. import distributed

if TYPE_CHECKING:
    from ..config import GeneratorConfig, TrainConfig

MODEL_STREAM, GENERATOR_STREAM = 4, 1  # independent shuffles for the two loops from one seed


def epoch_order(n: int, seed: int, epoch: int, stream: int = GENERATOR_STREAM) -> np.ndarray:
    """The shuffled clip order of one epoch, a pure function of (seed, stream, epoch)."""
    return np.random.default_rng([seed, stream, epoch]).permutation(n)


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int, *, stream: int, drop_last: bool = False,
                  first: int = 0) -> list[list[int]]:
    """The global batches of one epoch from batch `first` on (a partial last batch dropped when `drop_last`).

    >>> epoch_batches(10, 4, seed=0, epoch=0, stream=4, drop_last=True) == [
    ...     epoch_order(10, 0, 0, 4)[:4].tolist(), epoch_order(10, 0, 0, 4)[4:8].tolist()]
    True
    """
    order = epoch_order(n, seed, epoch, stream)
    stop = n - n % batch_size if drop_last and n > batch_size else n
    return [order[i:i + batch_size].tolist() for i in range(first * batch_size, stop, batch_size)]


def rank_share(batches: list[list[int]], world: distributed.World) -> tuple[list[list[int]], list[list[int]]]:
    """Per batch, the positions this process trains on and the clip indices at them."""
    positions = [distributed.batch_positions(len(batch), world) for batch in batches]
    return positions, [[batch[i] for i in pos] for batch, pos in zip(batches, positions, strict=True)]


def model_lr_factor(position: int, steps_per_epoch: int, t: TrainConfig) -> float:
    """The video model's learning-rate multiplier at batch `position` of the whole run.

    `step`: × `lr_gamma` every `lr_step_epochs` epochs (C3D's recipe). `cosine`: a linear warm-up over
    `warmup_epochs` (at most half the run: a short run still gets its decay), then half a cosine from 1 at
    its first step towards 0 after the last (so no step, not even a one-step run's only one, trains at 0).

    >>> from motionprobe.config import TrainConfig
    >>> t = TrainConfig(epochs=4, schedule="cosine", warmup_epochs=1)
    >>> [round(model_lr_factor(p, 10, t), 3) for p in (0, 9, 10, 25, 39)]
    [0.1, 1.0, 1.0, 0.5, 0.003]
    >>> model_lr_factor(0, 1, TrainConfig(epochs=1, schedule="cosine", warmup_epochs=1))
    1.0
    """
    if t.schedule == "step":
        return t.lr_gamma ** ((position // steps_per_epoch) // t.lr_step_epochs)
    total = model_epochs(t, steps_per_epoch) * steps_per_epoch
    warmup = min(round(t.warmup_epochs * steps_per_epoch), total // 2)
    if position < warmup:
        return (position + 1) / warmup
    progress = (position - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def steps_per_epoch(num_clips: int, batch_size: int) -> int:
    """Optimiser steps in one epoch of `num_clips` (a partial last batch is dropped, as `epoch_batches` does)."""
    return max(1, num_clips // batch_size if num_clips > batch_size else 1)


def model_epochs(t: TrainConfig, steps_per_epoch: int) -> int:
    """The epochs the video model trains: `t.epochs`, or more when that many would take fewer than
    `t.min_steps` steps (a small dataset's epochs are short, and the optimiser needs steps, not passes).

    >>> from motionprobe.config import TrainConfig
    >>> model_epochs(TrainConfig(epochs=12, min_steps=800), 34), model_epochs(TrainConfig(epochs=12), 34)
    (24, 12)
    """
    return max(t.epochs, math.ceil(t.min_steps / max(1, steps_per_epoch)))


def generator_epochs(g: GeneratorConfig, steps_per_epoch: int) -> int:
    """The epochs a generator trains: `g.epochs`, or more when that many would take fewer than `g.min_steps`
    steps. An optimiser needs a number of steps, not of passes: a small dataset's epochs are short.

    >>> from motionprobe.config import GeneratorConfig
    >>> g = GeneratorConfig(epochs=6, min_steps=225)
    >>> generator_epochs(g, 38), generator_epochs(g, 23)  # 600 and 360 clips in batches of 16
    (6, 10)
    """
    return max(g.epochs, math.ceil(g.min_steps / max(1, steps_per_epoch)))


def generator_lr_factor(position: int, steps_per_epoch: int, g: GeneratorConfig) -> float:
    """The generator's learning-rate multiplier at a batch position: 1, then over the last `g.decay_fraction`
    of the steps falling linearly towards 0 (CycleGAN's schedule, per step rather than per epoch)."""
    total = generator_epochs(g, steps_per_epoch) * steps_per_epoch
    decay_steps = round(g.decay_fraction * total)
    start = total - decay_steps
    return 1.0 - max(0, position - start + 1) / (decay_steps + 1)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
