"""The candidate table: one row per (clip, evaluated input), stored as one .npz file per shard of clips.

Every number in results.json is derived from these rows, so a new selector needs no model run. Shards
hold plain numpy arrays (no pickles) and are written atomically; a shard file that exists is complete.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io import atomic_stream, atomic_write_bytes, csv_cell
from ..selection import ScoreTable, mask_subset

ORIGINAL, REPLICATE, GENERATOR, PIXEL_GENERATOR, PROBE = 0, 1, 2, 3, 4
SOURCES = ("original", "replicate", "generator", "pixel_generator", "probe")
TABLE_DIR = "table"
TOP = 5  # classes kept per row with their probabilities: what the selectors beyond max response read


@dataclass
class CandidateRows:
    """Columns of the candidate table (see docs/results-schema.md). `top_class`/`top_prob` are (rows, m)."""

    clip: np.ndarray        # int64, the clip's position in the dataset
    label: np.ndarray       # int32, the clip's true class (-1: unlabelled)
    source: np.ndarray      # int8, ORIGINAL | REPLICATE | GENERATOR | PIXEL_GENERATOR | PROBE
    k: np.ndarray           # int16, kept frames (T for original and probes)
    mask: np.ndarray        # int64, bit i = frame i kept
    in_pool: np.ndarray     # bool, row is one of the selector's candidates
    pred: np.ndarray        # int32
    max_prob: np.ndarray    # float32
    true_prob: np.ndarray   # float32, probability of the label (NaN when unlabelled)
    agree_prob: np.ndarray  # float32, probability of the class the original clip is predicted as
    top_class: np.ndarray   # int32 (rows, m), the m most probable classes, most probable first
    top_prob: np.ndarray    # float32 (rows, m)
    probe: np.ndarray       # int8, index into the plan's probes (-1: not a probe)
    variant: np.ndarray     # int16, which draw of a probe (e.g. the permutation of a shuffle)

    DTYPES = {"clip": np.int64, "label": np.int32, "source": np.int8, "k": np.int16, "mask": np.int64,
              "in_pool": np.bool_, "pred": np.int32, "max_prob": np.float32, "true_prob": np.float32,
              "agree_prob": np.float32, "top_class": np.int32, "top_prob": np.float32, "probe": np.int8,
              "variant": np.int16}

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, np.asarray(getattr(self, f.name), dtype=self.DTYPES[f.name]))
        n = len(self.clip)
        if any(len(getattr(self, f.name)) != n for f in fields(self)):
            raise ValueError("CandidateRows: columns of different lengths")

    def __len__(self) -> int:
        return len(self.clip)

    @classmethod
    def empty(cls) -> CandidateRows:
        return cls(**{name: np.zeros((0, 0) if name.startswith("top_") else 0, dtype=dt)
                      for name, dt in cls.DTYPES.items()})

    @classmethod
    def concat(cls, parts: list[CandidateRows]) -> CandidateRows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def where(self, rows: np.ndarray) -> CandidateRows:
        return CandidateRows(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def scores(self, source: int, k: int | None = None, pool_only: bool = False, num_frames: int = 16,
               probe: int | None = None, target: str = "label") -> ScoreTable:
        """The rows of one source (and k, or probe) as a ScoreTable the selectors understand.

        `target`: "label" scores against the labels; "prediction" against the class the original clip is
        predicted as (`labels` must then be that per row, see `with_targets`)."""
        keep = self.source == source
        if k is not None:
            keep &= self.k == k
        if probe is not None:
            keep &= self.probe == probe
        if pool_only:
            keep &= self.in_pool
        r = self.where(keep)
        truth = r.true_prob if target == "label" else r.agree_prob
        return ScoreTable(r.clip, r.mask, r.pred.astype(np.int64), r.max_prob.astype(np.float64),
                          truth.astype(np.float64), r.label.astype(np.int64), num_frames,
                          top_class=r.top_class.astype(np.int64), top_prob=r.top_prob.astype(np.float64))

    def with_targets(self, targets: dict[int, int]) -> CandidateRows:
        """The same rows scored against other targets: `label` becomes targets[clip] (e.g. the prediction
        on the original clip) for every row."""
        relabelled = CandidateRows(**{f.name: getattr(self, f.name) for f in fields(self)})
        relabelled.label = np.array([targets[int(c)] for c in self.clip], dtype=np.int32)
        return relabelled


@dataclass
class PoolSums:
    """Per (clip, source, k): how many pool candidates were evaluated and the sum of their class
    probabilities, (groups, classes). The mean is what bag-of-candidates selectors read; a sum (not a
    table of every candidate's probabilities) keeps a shard small whatever the number of classes."""

    clip: np.ndarray    # int64
    source: np.ndarray  # int8
    k: np.ndarray       # int16
    count: np.ndarray   # int32
    sums: np.ndarray    # float64 (groups, classes)

    @classmethod
    def empty(cls) -> PoolSums:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, np.int16), np.zeros(0, np.int32),
                   np.zeros((0, 0)))

    @classmethod
    def concat(cls, parts: list[PoolSums]) -> PoolSums:
        parts = [p for p in parts if len(p.clip)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, name) for p in parts])
                     for name in ("clip", "source", "k", "count", "sums")))

    def means(self, source: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(clips, mean probabilities (clips, classes)) of one source and k."""
        keep = (self.source == source) & (self.k == k)
        return self.clip[keep], self.sums[keep] / np.maximum(1, self.count[keep])[:, None]


@dataclass
class Shard:
    """One shard of clips: the dataset positions it covers, what was evaluated, what was skipped."""

    index: int
    clip_index: np.ndarray  # int64, evaluated clips in dataset order
    ids: list[str]
    labels: np.ndarray      # int32, per evaluated clip
    rows: CandidateRows
    fingerprint: str
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    pools: PoolSums = field(default_factory=PoolSums.empty)
    # (clip position, factor) of each read at a multiple of the stride that ran past its video's end
    past_end: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))


def shard_path(table_dir: str | Path, index: int) -> Path:
    return Path(table_dir) / f"shard-{index:05d}.npz"


def write_shard(table_dir: str | Path, shard: Shard) -> Path:
    arrays = {f.name: getattr(shard.rows, f.name) for f in fields(shard.rows)}
    arrays.update(
        shard_index=np.asarray(shard.index, dtype=np.int64),
        clip_index=np.asarray(shard.clip_index, dtype=np.int64),
        ids=np.asarray(shard.ids, dtype=np.str_) if shard.ids else np.zeros(0, dtype="<U1"),
        labels=np.asarray(shard.labels, dtype=np.int32),
        fingerprint=np.asarray(shard.fingerprint, dtype=np.str_),
        skipped_ids=np.asarray([s[0] for s in shard.skipped] or [""], dtype=np.str_)[: len(shard.skipped)],
        skipped_reasons=np.asarray([s[1] for s in shard.skipped] or [""], dtype=np.str_)[: len(shard.skipped)],
        **{f"pool_{name}": getattr(shard.pools, name) for name in ("clip", "source", "k", "count", "sums")},
        past_end=np.asarray(shard.past_end, dtype=np.int64).reshape(-1, 2),
    )
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path = shard_path(table_dir, shard.index)
    atomic_write_bytes(path, buf.getvalue())
    return path


def read_shard(path: str | Path) -> Shard:
    """Load a shard; UserError when the file is not a readable shard."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {name: z[name] for name in z.files}
        rows = CandidateRows(**{name: data[name] for name in CandidateRows.DTYPES})
        pools = PoolSums(*(data[f"pool_{name}"] for name in ("clip", "source", "k", "count", "sums")))
        return Shard(index=int(data["shard_index"]), clip_index=data["clip_index"], ids=[str(s) for s in data["ids"]],
                     labels=data["labels"], rows=rows, fingerprint=str(data["fingerprint"]),
                     skipped=list(zip((str(s) for s in data["skipped_ids"]), (str(s) for s in data["skipped_reasons"]),
                                      strict=True)), pools=pools,
                     past_end=data["past_end"] if "past_end" in data else np.zeros((0, 2), np.int64))
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise UserError(f"{path}: not a readable analysis shard ({e})") from None


def iter_shards(table_dir: str | Path, num_shards: int) -> Iterator[Shard]:
    for i in range(num_shards):
        yield read_shard(shard_path(table_dir, i))


def read_past_end(table_dir: str | Path, num_shards: int) -> dict[int, int]:
    """factor → how many clips' reads at that multiple of their stride ran past their video's end (only that
    array of each shard is read)."""
    counts: dict[int, int] = {}
    for i in range(num_shards):
        with np.load(shard_path(table_dir, i), allow_pickle=False) as z:
            past = z["past_end"] if "past_end" in z.files else np.zeros((0, 2), np.int64)
        for factor in past[:, 1].tolist():
            counts[int(factor)] = counts.get(int(factor), 0) + 1
    return counts


def read_table(table_dir: str | Path, num_shards: int) -> tuple[CandidateRows, list[str]]:
    """The whole candidate table in memory (rows, clip ids by dataset position order) — for small runs."""
    shards = list(iter_shards(table_dir, num_shards))
    return CandidateRows.concat([s.rows for s in shards]), [i for s in shards for i in s.ids]


def write_csv_gz(table_dir: str | Path, num_shards: int, path: str | Path, num_frames: int = 16,
                 probes: tuple[str, ...] = ()) -> None:
    """Stream every shard into one gzipped CSV (deterministic bytes: no timestamp in the gzip header)."""
    with atomic_stream(path) as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        out = csv.writer(text, lineterminator="\n")
        out.writerow(["clip_id", "label", "source", "k", "frames", "in_pool", "pred", "max_prob", "true_prob",
                      "agree_prob", "probe", "variant"])
        for shard in iter_shards(table_dir, num_shards):
            id_of = dict(zip(shard.clip_index.tolist(), shard.ids, strict=True))
            r = shard.rows
            frames_of = {m: " ".join(map(str, mask_subset(m, num_frames))) for m in np.unique(r.mask).tolist()}
            for i in range(len(r)):
                probe = probes[r.probe[i]] if r.probe[i] >= 0 else ""
                out.writerow([csv_cell(id_of[int(r.clip[i])]), int(r.label[i]), SOURCES[r.source[i]], int(r.k[i]),
                              frames_of[int(r.mask[i])], int(r.in_pool[i]), int(r.pred[i]),
                              f"{r.max_prob[i]:.6g}", f"{r.true_prob[i]:.6g}", f"{r.agree_prob[i]:.6g}", probe,
                              int(r.variant[i])])
        text.flush()
        text.detach()
