"""The analysis engine: every (clip, candidate) through generator and model once, in large batches.

For a shard of clips the engine evaluates, per clip:
- the original clip (all T frames);
- per k, the uniform subset replicated to T frames (no generator);
- per k with a generator, the uniform subset and every candidate of the selector pool, generated;
- per k with a pixel generator, the uniform subset, generated.
Pairs (clip, candidate) of one generator are flattened and cut into batches of `batch_size`, so a
batch mixes clips and candidates and the generator and the model always run full batches. Each
pair's kept frames are gathered alone from the uint8 clip: a candidate's score can depend only on
its own frames.

Shards are written atomically, one file per shard of clips, and carry the plan's fingerprint, so a
resumed run skips exactly the finished shards and ends with the same table. Memory is bounded by one
shard of clips plus one batch, whatever the number of clips.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.base import to_float
from ..errors import ConfigError, UserError
from ..generator.replicate import Replicate
from ..io import atomic_write_json, read_json
from ..selection import Subset, check_k, subset_mask, uniform_subset
from .table import (
    GENERATOR,
    ORIGINAL,
    PIXEL_GENERATOR,
    REPLICATE,
    TABLE_DIR,
    CandidateRows,
    Shard,
    read_shard,
    shard_path,
    write_shard,
)

Generator = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(frames (B, 3, k, H, W) float in [0, 1], indices (B, k) long) → clip (B, 3, T, H, W) in [0, 1]."""
Model = Callable[[torch.Tensor], torch.Tensor]
"""(B, 3, T, H, W) float in [0, 1] → logits (B, num_classes)."""

MAX_SHARD_ROWS = 1 << 20  # keeps one shard's table (and its memory) bounded with `all` candidates


@dataclass(frozen=True)
class Plan:
    """What the engine evaluates; its fingerprint ties every shard to the run that made it."""

    num_frames: int
    ks: tuple[int, ...]
    pools: dict[int, tuple[Subset, ...]]  # selector pool per k that has a generator
    pixel_ks: tuple[int, ...]
    num_clips: int
    shard_clips: int
    identity: dict[str, Any] = field(default_factory=dict)  # model, generators, dataset, seed: what results depend on

    @classmethod
    def build(cls, *, num_frames: int, ks: Sequence[int], pools: dict[int, Sequence[Subset]], pixel_ks: Sequence[int],
              num_clips: int, shard_size: int, identity: dict[str, Any] | None = None) -> Plan:
        for k in ks:
            check_k(k, num_frames)
        ks = tuple(sorted(set(int(k) for k in ks)))
        for k in list(pools) + list(pixel_ks):
            if k not in ks:
                raise ConfigError("analysis.ks", f"a generator is given for k={k}, which is not among the k's analysed "
                                                 f"({','.join(map(str, ks))})")
        pools = {int(k): tuple(sorted(tuple(int(i) for i in s) for s in pools[k])) for k in sorted(pools)}
        for k, pool in pools.items():
            if not pool or any(len(s) != k or len(set(s)) != k or not all(0 <= i < num_frames for i in s) for s in pool):
                raise ValueError(f"pool for k={k}: expected non-empty distinct {k}-subsets of 0..{num_frames - 1}")
        probe = cls(num_frames, ks, pools, tuple(sorted(set(pixel_ks))), num_clips, 1, dict(identity or {}))
        shard_clips = max(1, min(int(shard_size), MAX_SHARD_ROWS // probe.inputs_per_clip()))
        return cls(num_frames, ks, pools, probe.pixel_ks, num_clips, shard_clips, dict(identity or {}))

    def generator_inputs(self, k: int) -> tuple[list[Subset], np.ndarray]:
        """Subsets the generator evaluates for k (the pool plus the uniform subset) and which are in the pool."""
        pool = set(self.pools[k])
        subsets = sorted(pool | {uniform_subset(k, self.num_frames)})
        return subsets, np.array([s in pool for s in subsets], dtype=bool)

    def inputs_per_clip(self) -> int:
        return 1 + len(self.ks) + sum(len(self.generator_inputs(k)[0]) for k in self.pools) + len(self.pixel_ks)

    @property
    def num_shards(self) -> int:
        return (self.num_clips + self.shard_clips - 1) // self.shard_clips

    def shard_range(self, index: int) -> range:
        return range(index * self.shard_clips, min(self.num_clips, (index + 1) * self.shard_clips))

    def to_dict(self) -> dict[str, Any]:
        return {"num_frames": self.num_frames, "ks": list(self.ks),
                "pools": {str(k): [list(s) for s in pool] for k, pool in self.pools.items()},
                "pixel_ks": list(self.pixel_ks), "num_clips": self.num_clips, "shard_clips": self.shard_clips,
                "identity": self.identity}

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:32]


def fingerprint_object(obj: Any) -> str:
    """A stable identity for a model or generator: the hash of its weights, or its qualified name."""
    if isinstance(obj, nn.Module):
        h = hashlib.sha256()
        for name, tensor in sorted(obj.state_dict().items()):
            h.update(name.encode())
            h.update(str(tuple(tensor.shape)).encode() + str(tensor.dtype).encode())
            h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
                     if tensor.numel() else b"")
        return "weights:" + h.hexdigest()[:32]
    kind = obj if callable(obj) and hasattr(obj, "__qualname__") else type(obj)
    return f"callable:{kind.__module__}.{kind.__qualname__}"


# -- evaluating one shard of clips ---------------------------------------------------------------

@dataclass
class _Batcher:
    """Runs inputs through the model in inference mode and turns logits into the table's columns.

    Inputs go in as channels_last_3d (N, T, H, W, C in memory): oneDNN's and cuDNN's 3-D convolutions
    are faster on that layout (on a shared 2-core CPU, medians of 5 alternating rounds, two runs:
    1.06-1.14× for C3D at 112×112×16, 1.18-1.20× for the tiny C3D; `python -m benchmarks.layout`). A
    model that cannot take it (e.g. a `.view()` of strided features) gets contiguous inputs from its
    first failure on; an error that has nothing to do with layout fails again there and is raised.
    """

    model: Model
    device: torch.device
    channels_last: bool = True

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        if self.channels_last and clip.dim() == 5:
            try:
                return self.model(clip.contiguous(memory_format=torch.channels_last_3d))
            except RuntimeError:
                self.channels_last = False
        return self.model(clip)

    def score(self, clip: torch.Tensor, labels: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        logits = self.forward(clip)
        probs = torch.softmax(logits.float(), dim=-1)
        max_prob, pred = probs.max(dim=-1)
        true_prob = probs.gather(1, labels.view(-1, 1).to(probs.device)).squeeze(1)
        return pred.cpu().numpy(), max_prob.cpu().numpy(), true_prob.cpu().numpy()


def evaluate_clips(model: Model, clips: torch.Tensor, labels: Sequence[int], clip_index: Sequence[int], plan: Plan,
                   generators: dict[int, Generator], pixel_generators: dict[int, Generator] | None = None,
                   batch_size: int = 64, device: str | torch.device = "cpu",
                   on_progress: Callable[[int], None] | None = None) -> CandidateRows:
    """The candidate rows of a stack of clips (n, 3, T, H, W) (uint8 or float in [0, 1])."""
    device = torch.device(device)
    pixel_generators = pixel_generators or {}
    T = plan.num_frames
    if clips.dim() != 5 or clips.shape[1] != 3 or clips.shape[2] != T:
        raise UserError(f"dataset: clips must be shaped (3, {T}, H, W), got {tuple(clips.shape[1:])}")
    labels_t = torch.as_tensor(list(labels), dtype=torch.long)
    clip_index = np.asarray(clip_index, dtype=np.int64)
    n = clips.shape[0]
    batcher = _Batcher(model, device)
    progress = on_progress or (lambda _n: None)
    parts: list[CandidateRows] = []

    def rows(source: int, k: int, clip_pos: np.ndarray, masks: np.ndarray, in_pool: np.ndarray,
             scored: tuple[np.ndarray, np.ndarray, np.ndarray]) -> CandidateRows:
        count = len(clip_pos)
        return CandidateRows(clip=clip_index[clip_pos], label=labels_t.numpy()[clip_pos], source=np.full(count, source),
                             k=np.full(count, k), mask=masks, in_pool=in_pool, pred=scored[0],
                             max_prob=scored[1], true_prob=scored[2])

    # bf16 autocast on CUDA only: ~2× the FLOP/s of fp32 on tensor cores, softmax stays fp32 (score). CPUs
    # without native bf16 run it emulated and far slower, so they keep fp32.
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
        # The original clips: one input per clip.
        for lo in range(0, n, batch_size):
            pos = np.arange(lo, min(n, lo + batch_size))
            scored = batcher.score(to_float(clips[pos].to(device)), labels_t[pos])
            parts.append(rows(ORIGINAL, T, pos, np.full(len(pos), (1 << T) - 1), np.zeros(len(pos), bool), scored))
            progress(len(pos))

        jobs: list[tuple[int, int, Generator, list[Subset], np.ndarray]] = []
        for k in plan.ks:
            jobs.append((REPLICATE, k, Replicate(k, T), [uniform_subset(k, T)], np.zeros(1, bool)))
            if k in plan.pools:
                subsets, in_pool = plan.generator_inputs(k)
                jobs.append((GENERATOR, k, _checked(generators, k, "generator"), subsets, in_pool))
            if k in plan.pixel_ks:
                jobs.append((PIXEL_GENERATOR, k, _checked(pixel_generators, k, "pixel_generator"),
                             [uniform_subset(k, T)], np.zeros(1, bool)))
        for source, k, generate, subsets, in_pool in jobs:
            index = torch.tensor(subsets, dtype=torch.long)  # (m, k)
            masks = np.array([subset_mask(s) for s in subsets], dtype=np.int64)
            m = len(subsets)
            # Flatten (clip, candidate) pairs clip-major and cut them into full batches.
            for lo in range(0, n * m, batch_size):
                flat = np.arange(lo, min(n * m, lo + batch_size))
                pos, cand = flat // m, flat % m
                idx = index[cand]  # (b, k)
                # Advanced indexing gathers only each pair's kept frames: (b, k, 3, H, W) → (b, 3, k, H, W).
                kept = clips[torch.from_numpy(pos).view(-1, 1), :, idx].permute(0, 2, 1, 3, 4)
                frames = to_float(kept.to(device))
                clip = generate(frames, idx.to(device))
                if clip.shape != (len(flat), 3, T, *frames.shape[-2:]):
                    raise UserError(f"generator for k={k} returned {tuple(clip.shape)}; expected "
                                    f"{(len(flat), 3, T, *frames.shape[-2:])} (trained for another clip size?)")
                scored = batcher.score(clip, labels_t[pos])
                parts.append(rows(source, k, pos, masks[cand], in_pool[cand], scored))
                progress(len(flat))
    return CandidateRows.concat(parts)


def _checked(generators: dict[int, Generator], k: int, argument: str) -> Generator:
    if k not in generators:
        raise ConfigError(argument, f"no generator for k={k}")
    gen = generators[k]
    gen_k = getattr(gen, "k", k)
    if int(gen_k) != k:
        raise ConfigError(argument, f"the generator given for k={k} was trained for k={gen_k}")
    return gen


# -- the streaming, resumable run --------------------------------------------------------------

def load_items(dataset: Any, positions: Iterable[int]) -> tuple[list[int], list[str], list[int], list[torch.Tensor],
                                                               list[tuple[str, str]]]:
    """Load dataset items; an item that fails to load is skipped and reported with its reason."""
    pos, ids, labels, clips, skipped = [], [], [], [], []
    for i in positions:
        try:
            item = dataset[i]
        except Exception as e:  # a bad video must not end an hours-long analysis: skip and count it
            ident = dataset.ids[i] if hasattr(dataset, "ids") else str(i)
            skipped.append((ident, f"{type(e).__name__}: {e}".splitlines()[0][:300]))
            continue
        if item.get("clip") is None:  # a ClipDataset reports an unreadable video as a skipped item (data/base.py)
            skipped.append((str(item["id"]), str(item.get("skipped") or "unreadable").splitlines()[0][:300]))
            continue
        pos.append(i)
        ids.append(str(item["id"]))
        labels.append(int(item["label"]))
        clips.append(item["clip"])
    return pos, ids, labels, clips, skipped


def open_table(out: str | Path, plan: Plan, resume: bool) -> Path:
    """Create `out/table/plan.json`, or check that the one there is this plan's (with `resume`)."""
    table_dir = Path(out) / TABLE_DIR
    plan_file = table_dir / "plan.json"
    if plan_file.exists():
        if not resume:
            raise ConfigError("out", f"{Path(out)} already holds an analysis ({plan_file}); pass {{resume}} to "
                                     "continue it or choose another folder", "resume")
        if read_json(plan_file).get("fingerprint") != plan.fingerprint():
            raise ConfigError("resume", f"{Path(out)} holds an analysis of different inputs or settings (model, "
                                        "generators, dataset, k's, candidates or seed changed); choose another folder")
    else:
        atomic_write_json(plan_file, {"fingerprint": plan.fingerprint(), **plan.to_dict()})
    return table_dir


def run_engine(model: Model, dataset: Any, out: str | Path, plan: Plan, generators: dict[int, Generator],
               pixel_generators: dict[int, Generator] | None = None, *, batch_size: int = 64,
               device: str | torch.device = "cpu", resume: bool = False, shards: Iterable[int] | None = None,
               progress: bool = True) -> Path:
    """Evaluate every shard of `plan` into `out/table/` and return that folder.

    With `resume`, shards already on disk (with this plan's fingerprint) are kept and skipped; a
    table made by a different plan is refused rather than mixed in. `shards` restricts the run to
    some shard indices (for splitting one analysis over several processes).
    """
    table_dir = open_table(out, plan, resume)
    fingerprint = plan.fingerprint()
    if isinstance(model, nn.Module):
        model.eval()
    for gen in list(generators.values()) + list((pixel_generators or {}).values()):
        if isinstance(gen, nn.Module):
            gen.eval()

    todo = list(range(plan.num_shards) if shards is None else shards)
    bar = _ClipProgress(sum(len(plan.shard_range(i)) for i in todo), plan.inputs_per_clip(), enabled=progress)
    try:
        for index in todo:
            span = plan.shard_range(index)
            path = shard_path(table_dir, index)
            if resume and path.exists() and _complete(path, fingerprint):
                bar.finish_shard(len(span))
                continue
            pos, ids, labels, clips, skipped = load_items(dataset, span)
            if clips:
                rows = evaluate_clips(model, torch.stack(clips), labels, pos, plan, generators, pixel_generators,
                                      batch_size, device, on_progress=bar.inputs_done)
            else:
                rows = CandidateRows.empty()
            bar.finish_shard(len(span))
            write_shard(table_dir, Shard(index, np.asarray(pos, dtype=np.int64), ids, np.asarray(labels, np.int32), rows,
                                         fingerprint, skipped))
    finally:
        bar.close()
    return table_dir


def _complete(path: Path, fingerprint: str) -> bool:
    try:
        shard = read_shard(path)
    except UserError:
        return False  # unreadable (should not happen with atomic writes): recompute it
    if shard.fingerprint != fingerprint:
        raise ConfigError("resume", f"{path} was made by a different analysis; choose another folder")
    return True


class _ClipProgress:
    """A bar over clips that moves within a shard as its inputs are evaluated (a shard can take minutes)."""

    def __init__(self, total: int, inputs_per_clip: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="clip", disable=not enabled, dynamic_ncols=True, desc="analyze",
                        bar_format="{l_bar}{bar}| {n:.0f}/{total} clips [{elapsed}<{remaining}]")
        self.per_clip, self.shard_start, self.inputs = inputs_per_clip, 0, 0

    def inputs_done(self, count: int) -> None:
        self.inputs += count
        self.bar.n = self.shard_start + self.inputs // self.per_clip
        self.bar.refresh()

    def finish_shard(self, clips: int) -> None:
        self.shard_start += clips
        self.inputs = 0
        self.bar.n = self.shard_start
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
