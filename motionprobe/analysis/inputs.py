"""What the engine feeds the model for one shard of clips, one kind of input at a time.

A kind of input (`Inputs`) is the original clips, one k's subsets replicated or generated, or one temporal
probe's reorderings; it knows how to make the float clips of any (clip, variant) pairs, and which table
columns its rows carry (source, k, kept-frame masks, pool membership, probe number). The engine only batches
pairs, scores them and stores the rows: it has no case for any one probe or source.

A probe that reads the video faster (`Probe.read` > 1) takes its frames from a `Reader`, which the caller
gives: the dataset's reads at that multiple of the stride during an analysis, stacked clips in a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..data.base import to_float
from ..errors import UserError
from ..probes import PROBE as PROBE_BY_NAME
from ..selection import Subset, subset_mask
from .table import ORIGINAL, PROBE

Generator = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(frames (B, 3, k, H, W) float in [0, 1], indices (B, k) long) → clip (B, 3, T, H, W) in [0, 1]."""


@dataclass
class ReadBatch:
    """A shard's clips read at one multiple of their stride (the sped-up probes): (n, 3, T, H, W), or None when
    no clip has such a read; which clips have one; which of those ran past their video's end (the short-video
    policy filled the window)."""

    clips: torch.Tensor | None
    ok: np.ndarray
    past_end: np.ndarray


Reader = Callable[[int], ReadBatch]
"""factor → the shard's clips read at that multiple of their stride."""


def no_reads(n: int) -> Reader:
    """A reader with no read at any factor: the probes that read the video skip every clip."""
    return lambda _factor: ReadBatch(None, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))


class HeldReads:
    """The reads of one factor at a time: the inputs of a factor run one after another, so a shard's clips are
    held in memory once at most."""

    def __init__(self, reader: Reader):
        self.reader, self.held = reader, {}

    def __call__(self, factor: int) -> ReadBatch:
        if factor not in self.held:
            self.release()
            self.held[factor] = self.reader(factor)
        return self.held[factor]

    def release(self) -> None:
        self.held.clear()


@dataclass
class Inputs:
    """One kind of input of every clip of a shard: its table columns, and how to make its clips."""

    source: int
    k: int
    masks: np.ndarray    # per variant: the kept frames' bit mask
    in_pool: np.ndarray  # per variant
    make: Callable[[np.ndarray, np.ndarray], torch.Tensor]  # (clip positions, variants) → float clips
    probe: int = -1
    read: int = 1  # the multiple of the stride its frames are read at (a probe's `read`; 1: the shard's clips)

    @property
    def variants(self) -> int:
        return len(self.masks)


def all_frames(num_frames: int) -> int:
    return (1 << num_frames) - 1


def original_inputs(clips: torch.Tensor, device: torch.device) -> Inputs:
    """The clips themselves: their predictions are every other row's agreement target."""
    T = clips.shape[2]
    return Inputs(ORIGINAL, T, np.array([all_frames(T)]), np.zeros(1, bool),
                  lambda pos, _variant: to_float(clips[pos].to(device)))


def subset_inputs(clips: torch.Tensor, source: int, k: int, generate: Generator, subsets: list[Subset],
                  in_pool: np.ndarray, device: torch.device) -> Inputs:
    """One k's subsets turned into clips by `generate` (a generator or replication). Each pair's kept frames are
    gathered alone from the uint8 clips, so a candidate's score can depend only on its own frames."""
    T = clips.shape[2]
    index = torch.tensor(subsets, dtype=torch.long)  # (m, k)

    def make(pos: np.ndarray, cand: np.ndarray) -> torch.Tensor:
        idx = index[cand]  # (b, k)
        # Advanced indexing gathers only each pair's kept frames: (b, k, 3, H, W) → (b, 3, k, H, W).
        kept = clips[torch.from_numpy(pos).view(-1, 1), :, idx].permute(0, 2, 1, 3, 4)
        frames = to_float(kept.to(device))
        clip = generate(frames, idx.to(device))
        expected = (len(pos), 3, T, *frames.shape[-2:])
        if clip.shape != expected:
            raise UserError(f"generator for k={k} returned {tuple(clip.shape)}; expected {expected} "
                            "(trained for another clip size?)")
        return clip

    return Inputs(source, k, np.array([subset_mask(s) for s in subsets], dtype=np.int64), in_pool, make)


def probe_inputs(clips: torch.Tensor, number: int, name: str, draws: int, clip_index: np.ndarray, seed: int,
                 reads: HeldReads, device: torch.device) -> Inputs:
    """A temporal probe's reorderings of the clips (or of their reads at the probe's multiple of the stride),
    one variant per draw."""
    probe = PROBE_BY_NAME[name]
    T = clips.shape[2]

    def make(pos: np.ndarray, variant: np.ndarray) -> torch.Tensor:
        source = clips if probe.read == 1 else reads(probe.read).clips
        order = torch.from_numpy(np.stack([probe.order(T, clip_index[p], v, seed)
                                           for p, v in zip(pos, variant, strict=True)]))
        return to_float(source[torch.from_numpy(pos).view(-1, 1), :, order].permute(0, 2, 1, 3, 4).to(device))

    return Inputs(PROBE, T, np.full(draws, all_frames(T), dtype=np.int64), np.zeros(draws, bool), make,
                  probe=number, read=probe.read)
