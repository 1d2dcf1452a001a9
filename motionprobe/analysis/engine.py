"""The analysis engine: every (clip, candidate) through generator and model once, in large batches.

For a shard of clips the engine evaluates, per clip:
- the original clip (all T frames); its prediction is the agreement target of every other row;
- per k, the uniform subset and every candidate of the selector pool, replicated to T frames (no generator);
- per k with a generator, the uniform subset and every pool candidate, generated;
- per k with a pixel generator, the uniform subset, generated;
- per temporal probe (motionprobe/probes.py's table), the clip, or the clip read at a multiple of its stride,
  with its frames reordered (one row per draw of a random probe).
Each of these kinds of input is made by analysis/inputs.py; the engine batches, scores and stores them.
Pairs (clip, candidate) of one generator are flattened and cut into batches of `batch_size`, so a
batch mixes clips and candidates and the generator and the model always run full batches. Each
pair's kept frames are gathered alone from the uint8 clip: a candidate's score can depend only on
its own frames. Every row keeps the model's m most probable classes; per (clip, source, k) the pool's
summed class probabilities are kept beside the rows, so bag-of-candidates selectors need no second pass.

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

from ..data.base import read_at
from ..errors import ConfigError, UserError
from ..generator.replicate import Replicate
from ..io import atomic_write_json, read_json
from ..probes import PROBE as PROBE_BY_NAME
from ..selection import Subset, check_k, uniform_subset
from .inputs import Generator, HeldReads, Inputs, ReadBatch, Reader, no_reads, original_inputs, probe_inputs, subset_inputs
from .table import (
    GENERATOR,
    PIXEL_GENERATOR,
    REPLICATE,
    TABLE_DIR,
    TOP,
    CandidateRows,
    PoolSums,
    Shard,
    read_shard,
    shard_path,
    write_shard,
)

Model = Callable[[torch.Tensor], torch.Tensor]
"""(B, 3, T, H, W) float in [0, 1] → logits (B, num_classes)."""

MAX_SHARD_ROWS = 1 << 20  # keeps one shard's table (and its memory) bounded with `all` candidates


@dataclass(frozen=True)
class Plan:
    """What the engine evaluates; its fingerprint ties every shard to the run that made it."""

    num_frames: int
    ks: tuple[int, ...]
    pools: dict[int, tuple[Subset, ...]]  # the generated selector pool per k
    replicate_pools: dict[int, tuple[Subset, ...]]  # the replicated selector pool per k (every k)
    generator_ks: tuple[int, ...]
    pixel_ks: tuple[int, ...]
    num_clips: int
    shard_clips: int
    probes: tuple[tuple[str, int], ...] = ()  # (probe name, draws)
    identity: dict[str, Any] = field(default_factory=dict)  # model, generators, dataset, seed: what results depend on

    @classmethod
    def build(cls, *, num_frames: int, ks: Sequence[int], pools: dict[int, Sequence[Subset]],
              generator_ks: Sequence[int] = (), pixel_ks: Sequence[int] = (), num_clips: int, shard_size: int,
              probes: Sequence[tuple[str, int]] = (), identity: dict[str, Any] | None = None,
              replicate_pools: dict[int, Sequence[Subset]] | None = None) -> Plan:
        """`pools` per k are the generated candidates (and, without `replicate_pools`, the replicated ones)."""
        for k in ks:
            check_k(k, num_frames)
        ks = tuple(sorted(set(int(k) for k in ks)))
        for k in list(generator_ks) + list(pixel_ks):
            if k not in ks:
                raise ConfigError("analysis.ks", f"a generator is given for k={k}, which is not among the k's analysed "
                                                 f"({','.join(map(str, ks))})")
        replicate_pools = pools if replicate_pools is None else replicate_pools
        for which in (pools, replicate_pools):
            if set(which) != set(ks):
                raise ValueError(f"pools for k's {sorted(which)}, expected one per k of {ks}")
        pools, replicate_pools = (_sorted_pools(p, num_frames) for p in (pools, replicate_pools))
        args = dict(num_frames=num_frames, ks=ks, pools=pools, replicate_pools=replicate_pools,
                    generator_ks=tuple(sorted(set(generator_ks))),
                    pixel_ks=tuple(sorted(set(pixel_ks))), num_clips=num_clips,
                    probes=tuple((str(n), int(d)) for n, d in probes), identity=dict(identity or {}))
        sized = cls(shard_clips=1, **args)
        return cls(shard_clips=max(1, min(int(shard_size), MAX_SHARD_ROWS // sized.inputs_per_clip())), **args)

    def pool_inputs(self, k: int, replicated: bool = False) -> tuple[list[Subset], np.ndarray]:
        """Subsets evaluated for k (the generated or replicated pool plus the uniform subset) and which are in
        the pool."""
        pool = set(self.replicate_pools[k] if replicated else self.pools[k])
        subsets = sorted(pool | {uniform_subset(k, self.num_frames)})
        return subsets, np.array([s in pool for s in subsets], dtype=bool)

    def inputs_per_clip(self) -> int:
        return (1 + sum(len(self.pool_inputs(k, replicated=True)[0]) for k in self.ks)
                + sum(len(self.pool_inputs(k)[0]) for k in self.generator_ks) + len(self.pixel_ks)
                + sum(draws for _, draws in self.probes))

    @property
    def probe_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.probes)

    @property
    def num_shards(self) -> int:
        return (self.num_clips + self.shard_clips - 1) // self.shard_clips

    def shard_range(self, index: int) -> range:
        return range(index * self.shard_clips, min(self.num_clips, (index + 1) * self.shard_clips))

    def to_dict(self) -> dict[str, Any]:
        return {"num_frames": self.num_frames, "ks": list(self.ks),
                "pools": {str(k): [list(s) for s in pool] for k, pool in self.pools.items()},
                "replicate_pools": {str(k): [list(s) for s in pool] for k, pool in self.replicate_pools.items()},
                "generator_ks": list(self.generator_ks), "pixel_ks": list(self.pixel_ks), "num_clips": self.num_clips,
                "shard_clips": self.shard_clips, "probes": [list(p) for p in self.probes], "identity": self.identity,
                # what each probe shows, so that a changed severity or stride is a changed plan
                **({"probe_specs": {n: PROBE_BY_NAME[n].spec() for n, _ in self.probes}} if self.probes else {})}

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:32]


def _sorted_pools(pools: dict[int, Sequence[Subset]], num_frames: int) -> dict[int, tuple[Subset, ...]]:
    out = {int(k): tuple(sorted(tuple(int(i) for i in s) for s in pools[k])) for k in sorted(pools)}
    for k, pool in out.items():
        if not pool or any(len(s) != k or len(set(s)) != k or not all(0 <= i < num_frames for i in s) for s in pool):
            raise ValueError(f"pool for k={k}: expected non-empty distinct {k}-subsets of 0..{num_frames - 1}")
    return out


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
class _Scores:
    """The table's model columns for a batch of inputs, and the class probabilities (for the pool sums)."""

    pred: np.ndarray
    max_prob: np.ndarray
    true_prob: np.ndarray
    agree_prob: np.ndarray
    top_class: np.ndarray
    top_prob: np.ndarray
    probs: torch.Tensor


@dataclass
class _Batcher:
    """Runs inputs through the model in inference mode and turns logits into the table's columns.

    Inputs go in as channels_last_3d (N, T, H, W, C in memory): oneDNN's and cuDNN's 3-D convolutions
    are faster on that layout (measured: docs/experiments/benchmarks-cpu.md). A model that cannot take it
    (e.g. a `.view()` of strided features) gets contiguous inputs from its first failure on; an error that
    has nothing to do with layout fails again there and is raised.
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

    def score(self, clip: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor) -> _Scores:
        logits = self.forward(clip)
        probs = torch.softmax(logits.float(), dim=-1)
        top_prob, top_class = probs.topk(min(TOP, probs.shape[1]), dim=-1)
        labels, targets = labels.view(-1, 1).to(probs.device), targets.view(-1, 1).to(probs.device)
        true_prob = probs.gather(1, labels.clamp(min=0)).squeeze(1).masked_fill(labels.squeeze(1) < 0, float("nan"))
        agree_prob = probs.gather(1, targets).squeeze(1)
        return _Scores(top_class[:, 0].cpu().numpy(), top_prob[:, 0].cpu().numpy(), true_prob.cpu().numpy(),
                       agree_prob.cpu().numpy(), top_class.cpu().numpy(), top_prob.cpu().numpy(), probs)


def evaluate_clips(model: Model, clips: torch.Tensor, labels: Sequence[int], clip_index: Sequence[int], plan: Plan,
                   generators: dict[int, Generator], pixel_generators: dict[int, Generator] | None = None,
                   batch_size: int = 64, device: str | torch.device = "cpu",
                   on_progress: Callable[[int], None] | None = None, seed: int = 0,
                   reads: Reader | None = None) -> tuple[CandidateRows, PoolSums]:
    """The candidate rows of a stack of clips (n, 3, T, H, W) (uint8 or float in [0, 1]), and the pool sums.

    `reads(f)` gives the clips read at f times their stride, for the probes that read the video (`Probe.read`);
    it is asked once per factor, and one factor's reads are held at a time. Without it, those probes skip
    every clip."""
    device = torch.device(device)
    T = plan.num_frames
    if clips.dim() != 5 or clips.shape[1] != 3 or clips.shape[2] != T:
        raise UserError(f"dataset: clips must be shaped (3, {T}, H, W), got {tuple(clips.shape[1:])}")
    n = clips.shape[0]
    scorer = _ShardScorer(_Batcher(model, device), torch.as_tensor(list(labels), dtype=torch.long),
                          np.asarray(clip_index, dtype=np.int64), batch_size, on_progress or (lambda _n: None))
    held = HeldReads(reads or no_reads(n))
    # bf16 autocast on CUDA only, where tensor cores make it faster; why: docs/experiments/benchmarks-cpu.md
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
        scorer.score_originals(original_inputs(clips, device))
        for inputs in _shard_inputs(clips, plan, generators, pixel_generators or {}, scorer.clip_index, seed, held,
                                    device):
            # a probe reading the video runs on the clips that have such a read; the other inputs free the reads
            if inputs.read > 1:
                scorer.score(inputs, np.flatnonzero(held(inputs.read).ok))
            else:
                held.release()
                scorer.score(inputs, np.arange(n))
    return CandidateRows.concat(scorer.parts), PoolSums.concat(scorer.pools)


def _shard_inputs(clips: torch.Tensor, plan: Plan, generators: dict[int, Generator],
                  pixel_generators: dict[int, Generator], clip_index: np.ndarray, seed: int, reads: HeldReads,
                  device: torch.device) -> list[Inputs]:
    """Every kind of input after the originals: the probes on the clip first, then those reading the video
    grouped by factor (one factor's reads held at a time), then per k replication, generator, pixel generator."""
    T = plan.num_frames
    inputs = [probe_inputs(clips, number, name, draws, clip_index, seed, reads, device)
              for number, (name, draws) in sorted(enumerate(plan.probes),
                                                  key=lambda item: PROBE_BY_NAME[item[1][0]].read)]
    for k in plan.ks:
        inputs.append(subset_inputs(clips, REPLICATE, k, Replicate(k, T), *plan.pool_inputs(k, replicated=True),
                                    device))
        if k in plan.generator_ks:
            inputs.append(subset_inputs(clips, GENERATOR, k, _checked(generators, k, "generator"),
                                        *plan.pool_inputs(k), device))
        if k in plan.pixel_ks:
            inputs.append(subset_inputs(clips, PIXEL_GENERATOR, k, _checked(pixel_generators, k, "pixel_generator"),
                                        [uniform_subset(k, T)], np.zeros(1, bool), device))
    return inputs


class _ShardScorer:
    """Scores a shard's inputs in full batches and keeps their table rows and pool sums. Pairs (clip, variant)
    are flattened clip-major and cut into batches, so a batch mixes clips and candidates."""

    def __init__(self, batcher: _Batcher, labels: torch.Tensor, clip_index: np.ndarray, batch_size: int,
                 progress: Callable[[int], None]):
        self.batcher, self.labels, self.clip_index = batcher, labels, clip_index
        self.batch_size, self.progress = batch_size, progress
        self.targets = torch.zeros(len(labels), dtype=torch.long)  # the original clips' predictions
        self.parts: list[CandidateRows] = []
        self.pools: list[PoolSums] = []

    def score_originals(self, original: Inputs) -> None:
        """The original clips first: their predictions are every other row's agreement target."""
        n = len(self.labels)
        for lo in range(0, n, self.batch_size):
            pos = np.arange(lo, min(n, lo + self.batch_size))
            first = self.batcher.score(original.make(pos, None), self.labels[pos],
                                       torch.zeros(len(pos), dtype=torch.long))
            self.targets[pos] = torch.from_numpy(first.pred.astype(np.int64))
            first.agree_prob = first.max_prob
            self.parts.append(self._rows(original, pos, np.zeros(len(pos), dtype=np.int64), first))
            self.progress(len(pos))

    def score(self, inputs: Inputs, wanted: np.ndarray) -> None:
        """Every variant of `inputs` for the clips at `wanted`; the pool's class probabilities summed per clip."""
        m, n = inputs.variants, len(self.labels)
        sums = None
        for lo in range(0, len(wanted) * m, self.batch_size):
            flat = np.arange(lo, min(len(wanted) * m, lo + self.batch_size))
            pos, variant = wanted[flat // m], flat % m
            scored = self.batcher.score(inputs.make(pos, variant), self.labels[pos], self.targets[pos])
            self.parts.append(self._rows(inputs, pos, variant, scored))
            pooled = torch.from_numpy(inputs.in_pool[variant])
            if bool(pooled.any()):
                if sums is None:
                    sums = torch.zeros(n, scored.probs.shape[1], dtype=torch.float64)
                sums.index_add_(0, torch.from_numpy(pos)[pooled], scored.probs.cpu().double()[pooled])
            self.progress(len(flat))
        if sums is not None:
            self.pools.append(PoolSums(self.clip_index, np.full(n, inputs.source), np.full(n, inputs.k),
                                       np.full(n, int(inputs.in_pool.sum())), sums.numpy()))

    def _rows(self, inputs: Inputs, pos: np.ndarray, variant: np.ndarray, scored: _Scores) -> CandidateRows:
        count = len(pos)
        return CandidateRows(clip=self.clip_index[pos], label=self.labels.numpy()[pos],
                             source=np.full(count, inputs.source), k=np.full(count, inputs.k),
                             mask=inputs.masks[variant], in_pool=inputs.in_pool[variant], pred=scored.pred,
                             max_prob=scored.max_prob, true_prob=scored.true_prob, agree_prob=scored.agree_prob,
                             top_class=scored.top_class, top_prob=scored.top_prob,
                             probe=np.full(count, inputs.probe),
                             variant=variant if inputs.probe >= 0 else np.zeros(count))


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
        saved = read_json(plan_file)
        if not isinstance(saved, dict) or saved.get("fingerprint") != plan.fingerprint():
            what = first_difference(saved, json.loads(json.dumps(plan.to_dict(), default=str)))
            raise ConfigError("resume", f"{Path(out)} holds an analysis of different inputs or settings ({what}); "
                                        "resume it with the settings it was started with, or choose another folder")
    else:
        atomic_write_json(plan_file, {"fingerprint": plan.fingerprint(), **plan.to_dict()})
    return table_dir


def first_difference(saved: Any, now: Any, path: str = "") -> str:
    """Where two plans (as in plan.json) first differ, in words: `identity.data.frame_stride: 1, not 2`.

    >>> first_difference({"ks": [1], "identity": {"seed": 0}}, {"ks": [1], "identity": {"seed": 7}})
    'identity.seed: 0, not 7'
    """
    if isinstance(saved, dict) and isinstance(now, dict):
        # A setting before what follows from it (a seed changes the pools and the synthetic clips' ids): hashes last.
        for key in sorted(set(saved) | set(now), key=lambda k: (k in _DERIVED or k.endswith("sha256"), k)):
            if key != "fingerprint" and saved.get(key) != now.get(key):
                return first_difference(saved.get(key), now.get(key), f"{path}{key}.")
        return path[:-1] or "the plan"
    return f"{path[:-1] or 'the plan'}: {_shown(saved)}, not {_shown(now)}"


_DERIVED = ("pools", "replicate_pools", "dataset", "model", "generators", "pixel_generators", "num_clips")


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "…"


def run_engine(model: Model, dataset: Any, out: str | Path, plan: Plan, generators: dict[int, Generator],
               pixel_generators: dict[int, Generator] | None = None, *, batch_size: int = 64,
               device: str | torch.device = "cpu", resume: bool = False, shards: Iterable[int] | None = None,
               progress: bool = True, seed: int = 0) -> Path:
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
            past_end: dict[int, np.ndarray] = {}
            if clips:
                rows, pools = evaluate_clips(model, torch.stack(clips), labels, pos, plan, generators, pixel_generators,
                                             batch_size, device, on_progress=bar.inputs_done, seed=seed,
                                             reads=_dataset_reads(dataset, pos, clips, past_end))
            else:
                rows, pools = CandidateRows.empty(), PoolSums.empty()
            bar.finish_shard(len(span))
            past = [(pos[i], factor) for factor, flags in sorted(past_end.items()) for i in np.flatnonzero(flags)]
            write_shard(table_dir, Shard(index, np.asarray(pos, dtype=np.int64), ids, np.asarray(labels, np.int32), rows,
                                         fingerprint, skipped, pools, np.asarray(past, np.int64).reshape(-1, 2)))
    finally:
        bar.close()
    return table_dir


def _dataset_reads(dataset: Any, positions: list[int], clips: list[torch.Tensor],
                   past_end: dict[int, np.ndarray]) -> Reader:
    """The shard's clips read at a multiple of their stride (`data.base.read_at`); a clip the dataset cannot read
    so (no such read, the `skip` policy, an unreadable video) is left out of those probes. Which reads ran past
    their video's end is recorded in `past_end` (factor → flags), for results.json to count."""
    def reader(factor: int) -> ReadBatch:
        reads = []
        for i in positions:
            try:
                reads.append(read_at(dataset, i, factor))
            except Exception:  # as in load_items: one bad video must not end the analysis; it is left out here
                reads.append(None)
        ok = np.array([r is not None for r in reads], dtype=bool)
        past_end[factor] = np.array([r is not None and bool(r.past_end) for r in reads], dtype=bool)
        stacked = torch.stack([r.clip if r is not None else c for r, c in zip(reads, clips, strict=True)]) \
            if ok.any() else None
        return ReadBatch(stacked, ok, past_end[factor])

    return reader


def _complete(path: Path, fingerprint: str) -> bool:
    try:
        shard = read_shard(path)
    except UserError:
        return False  # unreadable (should not happen with atomic writes): recompute it
    if shard.fingerprint != fingerprint:
        raise ConfigError("resume", f"{path} was made by a different analysis; choose another folder")
    return True


class _ClipProgress:
    """A bar over clips that moves within a clip as its inputs are evaluated: one clip's pool can take minutes
    (all 12,870 subsets at k = 8), so the count is fractional (`0.4/2 clips`), never stuck at 0."""

    def __init__(self, total: int, inputs_per_clip: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="clip", disable=not enabled, dynamic_ncols=True, desc="analyze",
                        bar_format="{l_bar}{bar}| {n:.1f}/{total} clips [{elapsed}<{remaining}]")
        self.per_clip, self.shard_start, self.inputs = inputs_per_clip, 0, 0

    def inputs_done(self, count: int) -> None:
        self.inputs += count
        self.bar.n = self.shard_start + self.inputs / self.per_clip
        self.bar.refresh()

    def finish_shard(self, clips: int) -> None:
        self.shard_start += clips
        self.inputs = 0
        self.bar.n = self.shard_start
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
