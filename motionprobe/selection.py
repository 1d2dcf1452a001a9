"""Candidate frame subsets and the selectors that choose among them (pure functions).

A *candidate* is a set of k kept frames of a T-frame clip, written as the sorted tuple of their indices
(or, in tables, as a bit mask: bit i set = frame i kept). The analysis evaluates each candidate once
and stores its scores in a `ScoreTable`; a selector then picks one candidate per clip from that table.

Selectors are motion-invariant by construction: a candidate's score comes only from the model's output
on the clip generated from that candidate's own frames, and the choice is an argmax whose ties are
broken by the candidate's frame indices (lexicographically smallest first), never by its position in
the table. Shuffling the rows never changes a selection.

>>> uniform_subset(1), uniform_subset(4)
((8,), (2, 6, 10, 14))
>>> [num_subsets(k) for k in (1, 2, 4, 8)]
[16, 120, 1820, 12870]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .errors import ConfigError, UserError

Subset = tuple[int, ...]
DEFAULT_FRAMES = 16
DEFAULT_POOL = 48  # the paper's number of sampled candidates
REPLICATE_POOL = 16  # replicated candidates per k: every single frame at k = 1, a sample beyond


# -- candidate subsets -----------------------------------------------------------------------------

def check_k(k: int, num_frames: int = DEFAULT_FRAMES) -> None:
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= num_frames:
        raise ConfigError("analysis.ks", f"k must be an integer in 1..{num_frames}, got {k!r}")
    if num_frames > 62:
        raise UserError(f"num_frames: at most 62 frames per clip are supported (bit masks), got {num_frames}")


def num_subsets(k: int, num_frames: int = DEFAULT_FRAMES) -> int:
    """C(T, k): how many ways to keep k of T frames."""
    return math.comb(num_frames, k)


def uniform_subset(k: int, num_frames: int = DEFAULT_FRAMES) -> Subset:
    """The evenly spaced subset: the centre frame of each of k equal segments of the clip.

    Frame i of the subset is floor((i + 1/2) · T / k). For T = 16: k=1 → (8,) (the paper's middle
    frame), k=2 → (4, 12), k=4 → (2, 6, 10, 14), k=8 → (1, 3, 5, ..., 15), k=16 → all frames.
    """
    check_k(k, num_frames)
    return tuple(((2 * i + 1) * num_frames) // (2 * k) for i in range(k))


def all_subsets(k: int, num_frames: int = DEFAULT_FRAMES) -> list[Subset]:
    """Every k-subset of range(T), in lexicographic order."""
    check_k(k, num_frames)
    return list(combinations(range(num_frames), k))


def unrank_subset(rank: int, k: int, num_frames: int = DEFAULT_FRAMES) -> Subset:
    """The `rank`-th k-subset in lexicographic order (rank 0 is (0, 1, ..., k-1)).

    >>> unrank_subset(0, 2, 4), unrank_subset(5, 2, 4)
    ((0, 1), (2, 3))
    """
    if not 0 <= rank < num_subsets(k, num_frames):
        raise ValueError(f"rank {rank} out of range for C({num_frames}, {k})")
    out, first = [], 0
    for remaining in range(k, 0, -1):
        # Skip whole blocks of subsets that start with `first` until the rank falls inside one.
        while True:
            block = math.comb(num_frames - first - 1, remaining - 1)
            if rank < block:
                break
            rank -= block
            first += 1
        out.append(first)
        first += 1
    return tuple(out)


def random_subsets(k: int, n: int, num_frames: int, rng: np.random.Generator) -> list[Subset]:
    """`n` distinct k-subsets drawn uniformly without replacement, in lexicographic order.

    Capped at C(T, k): asking for at least as many as exist returns all of them. Drawing distinct
    ranks (not rejection sampling) keeps the cost independent of how close n is to C(T, k).
    """
    check_k(k, num_frames)
    if n < 1:
        raise ConfigError("analysis.candidates", f"expected a positive number of subsets or 'all', got {n}")
    total = num_subsets(k, num_frames)
    if n >= total:
        return all_subsets(k, num_frames)
    ranks = np.sort(rng.choice(total, size=n, replace=False))
    return [unrank_subset(int(r), k, num_frames) for r in ranks]


def candidates(k: int, n_or_all: int | str = DEFAULT_POOL, num_frames: int = DEFAULT_FRAMES, seed: int = 0) -> list[Subset]:
    """The selector pool for k: `n_or_all` seeded random subsets, or every subset for "all".

    The draw depends only on (seed, k, n, T), so the 48-candidate pool of a run with `all` candidates
    is the same 48 subsets a 48-candidate run evaluates.
    """
    if n_or_all == "all":
        return all_subsets(k, num_frames)
    if isinstance(n_or_all, str):
        if not n_or_all.isdigit():
            raise ConfigError("analysis.candidates", f"expected a positive number of subsets or 'all', got {n_or_all!r}")
        n_or_all = int(n_or_all)
    return random_subsets(k, int(n_or_all), num_frames, np.random.default_rng([seed, k, num_frames]))


# -- subsets as bit masks --------------------------------------------------------------------------

def subset_mask(subset: Sequence[int]) -> int:
    """Bit mask of a subset: bit i set when frame i is kept. (2, 5) → 0b100100 = 36."""
    mask = 0
    for i in subset:
        mask |= 1 << int(i)
    return mask


def mask_subset(mask: int, num_frames: int = DEFAULT_FRAMES) -> Subset:
    return tuple(i for i in range(num_frames) if (int(mask) >> i) & 1)


def lexicographic_key(masks: np.ndarray, num_frames: int) -> np.ndarray:
    """An int64 key that is *larger* for subsets whose sorted indices come first lexicographically.

    Frame i maps to bit T-1-i. Among subsets of the same size, the first index where two subsets
    differ is kept by the lexicographically smaller one only, and every lower index agrees, so it has
    the larger key. Example (T=4): (0, 3) → 0b1001 = 9 beats (1, 2) → 0b0110 = 6.
    """
    masks = np.asarray(masks, dtype=np.int64)
    key = np.zeros_like(masks)
    for i in range(num_frames):
        key |= ((masks >> i) & 1) << (num_frames - 1 - i)
    return key


# -- the score table and the selectors ---------------------------------------------------------

@dataclass(frozen=True)
class ScoreTable:
    """One row per (clip, candidate): what a selector may look at, and the truth to score it.

    `clip` identifies the clip (any integer), `mask` the candidate's frames, `pred`/`max_prob` the
    model's output on the clip generated from those frames (and, optionally, `top_class`/`top_prob`
    (rows, m): its m most probable classes), `label` the class to score against and `true_prob` its
    probability. Only the truth columns are never read by a label-free selector.
    """

    clip: np.ndarray
    mask: np.ndarray
    pred: np.ndarray
    max_prob: np.ndarray
    true_prob: np.ndarray
    label: np.ndarray
    num_frames: int = DEFAULT_FRAMES
    top_class: np.ndarray | None = None
    top_prob: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.clip)
        for name in ("mask", "pred", "max_prob", "true_prob", "label", "top_class", "top_prob"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ValueError(f"ScoreTable: column {name} has {len(column)} rows, clip has {n}")

    @classmethod
    def from_rows(cls, clip: Sequence[int], subsets: Sequence[Sequence[int]], pred: Sequence[int],
                  max_prob: Sequence[float], true_prob: Sequence[float], label: Sequence[int],
                  num_frames: int = DEFAULT_FRAMES, top_class: Sequence[Sequence[int]] | None = None,
                  top_prob: Sequence[Sequence[float]] | None = None) -> ScoreTable:
        """Build a table from Python lists, subsets given as index tuples (handy for hand-made tables)."""
        return cls(np.asarray(clip, dtype=np.int64), np.array([subset_mask(s) for s in subsets], dtype=np.int64),
                   np.asarray(pred, dtype=np.int64), np.asarray(max_prob, dtype=np.float64),
                   np.asarray(true_prob, dtype=np.float64), np.asarray(label, dtype=np.int64), num_frames,
                   None if top_class is None else np.asarray(top_class, dtype=np.int64),
                   None if top_prob is None else np.asarray(top_prob, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.clip)

    @property
    def correct(self) -> np.ndarray:
        return self.pred == self.label

    def take(self, rows: np.ndarray) -> ScoreTable:
        """The sub-table of the given rows (boolean mask or indices)."""
        return ScoreTable(self.clip[rows], self.mask[rows], self.pred[rows], self.max_prob[rows],
                          self.true_prob[rows], self.label[rows], self.num_frames,
                          None if self.top_class is None else self.top_class[rows],
                          None if self.top_prob is None else self.top_prob[rows])


@dataclass(frozen=True)
class Selection:
    """One chosen candidate per clip: `clip` ascending, `row` into the table given, the class `pred` the
    method predicts (a bag-of-candidates method may predict another class than its row's) and `correct`."""

    clip: np.ndarray
    row: np.ndarray
    correct: np.ndarray
    pred: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean()) if len(self.correct) else float("nan")

    def subsets(self, table: ScoreTable) -> list[Subset]:
        return [mask_subset(m, table.num_frames) for m in table.mask[self.row]]


def _argmax_per_clip(table: ScoreTable, *scores: np.ndarray) -> Selection:
    """Per clip, the row with the largest scores (compared in the given order), ties to the lexicographically
    first subset. Sorting on values only (never on row position) makes the result order-invariant."""
    if len(table) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Selection(empty, empty, np.zeros(0, dtype=bool), empty)
    tie = lexicographic_key(table.mask, table.num_frames)
    # np.lexsort sorts by the last key first: clip ascending, then each score descending, then the tie key.
    keys = [-tie] + [-np.asarray(s, dtype=np.float64) for s in reversed(scores)] + [table.clip]
    order = np.lexsort(keys)
    clips = table.clip[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = clips[1:] != clips[:-1]
    rows = order[first]
    return Selection(table.clip[rows], rows, table.correct[rows], table.pred[rows])


def select_max_response(table: ScoreTable) -> Selection:
    """The paper's selector: keep the candidate whose generated clip the model is most confident about,
    s(X) = max_c p_c(G(X)), argmax over the clip's candidates."""
    return _argmax_per_clip(table, table.max_prob)


def select_oracle(table: ScoreTable) -> Selection:
    """Right when any candidate is right. Reports the right candidate with the largest true-class
    probability; when none is right, the candidate with the largest true-class probability."""
    return _argmax_per_clip(table, table.correct.astype(np.float64), table.true_prob)


def select_uniform(table: ScoreTable, subset: Sequence[int]) -> Selection:
    """The fixed subset (e.g. `uniform_subset(k)`); every clip must have a row for it."""
    mask = subset_mask(subset)
    rows = np.flatnonzero(table.mask == mask)
    sel = _argmax_per_clip(table.take(rows))
    if len(sel.clip) != len(np.unique(table.clip)):
        raise ValueError(f"select_uniform: some clips have no row for subset {tuple(subset)}")
    return Selection(sel.clip, rows[sel.row], sel.correct, sel.pred)


def _pool_means(table: ScoreTable, clips: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Each row's clip's mean class probabilities over its pool, (rows, classes)."""
    where = {int(c): i for i, c in enumerate(clips)}
    missing = set(np.unique(table.clip).tolist()) - set(where)
    if missing:
        raise ValueError(f"no pool means for clips {sorted(missing)[:5]}")
    return means[np.array([where[int(c)] for c in table.clip], dtype=np.int64)]


def _relabelled(sel: Selection, table: ScoreTable, pred: np.ndarray) -> Selection:
    return Selection(sel.clip, sel.row, pred == table.label[sel.row], pred)


def select_mean_response(table: ScoreTable, clips: np.ndarray, means: np.ndarray) -> Selection:
    """Bag of candidates: the class with the largest mean probability over the clip's pool (`means[i]`
    for clip `clips[i]`). The row reported is the candidate most confident in that class (its frames are
    what the pictures show), ties to the lexicographically first subset.

    >>> t = ScoreTable.from_rows([0, 0, 0], [(1,), (2,), (3,)], [1, 0, 1], [0.8, 0.9, 0.8], [0, 0, 0],
    ...                          [1, 1, 1], top_class=[[1, 0], [0, 1], [1, 0]], top_prob=[[.8, .2], [.9, .1], [.8, .2]])
    >>> means = np.array([[0.433, 0.567]])  # the pool's mean of each class
    >>> select_max_response(t).pred.tolist(), select_mean_response(t, np.array([0]), means).pred.tolist()
    ([0], [1])
    """
    per_row = _pool_means(table, clips, means)
    winner = per_row.argmax(axis=1)  # per row: its clip's bag-of-candidates class
    support = np.where(table.top_class == winner[:, None], table.top_prob, 0.0).max(axis=1)
    sel = _argmax_per_clip(table, support)
    return _relabelled(sel, table, winner[sel.row])


def select_contrast(table: ScoreTable, clips: np.ndarray, means: np.ndarray) -> Selection:
    """Max response against the clip's own prior: each candidate votes for the class it predicts with
    p_c(candidate) / mean over the pool of p_c, and the clip keeps the strongest vote.

    A label-free correction against a catch-all class: when most candidates of a clip lack the
    evidence (a flash seen in 2 frames of 16) and the model calls them all one default class, that
    class's ratio stays near 1 while the rare candidate that shows the evidence scores high on its class.
    Only each candidate's own prediction votes: a class the model gives a thousandth of a percent is
    not evidence, however unusual its ratio. The ratio is at most the pool size (every candidate is in
    its own mean); ties go to the larger probability, then to the lexicographically first subset.

    >>> t = ScoreTable.from_rows([0, 0, 0], [(1,), (2,), (3,)], [0, 0, 1], [0.8, 0.8, 0.6], [0, 0, 0], [1, 1, 1],
    ...                          top_class=[[0, 1], [0, 1], [1, 0]], top_prob=[[.8, .2], [.8, .2], [.6, .4]])
    >>> means = np.array([[0.667, 0.333]])
    >>> select_max_response(t).pred.tolist(), select_contrast(t, np.array([0]), means).pred.tolist()
    ([0], [1])
    """
    per_row = _pool_means(table, clips, means)
    prior = per_row[np.arange(len(table)), table.pred]
    return _argmax_per_clip(table, table.max_prob / np.maximum(prior, 1e-12), table.max_prob)


def select_random(table: ScoreTable, seed: int = 0, clip_key: np.ndarray | None = None) -> Selection:
    """A seeded pseudo-random candidate per clip: argmax of a hash of (seed, clip key, subset).

    The hash depends on the candidate's identity, not its row, so the choice is order-invariant and
    the same whether clips are analysed together or shard by shard. `clip_key` (one int per row)
    defaults to `table.clip`.
    """
    key = table.clip if clip_key is None else np.asarray(clip_key)
    h = _mix64(_mix64(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) ^ key.astype(np.uint64)) ^ table.mask.astype(np.uint64))
    score = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return _argmax_per_clip(table, score)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a fast, well-mixed 64-bit hash (wrapping uint64 arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))

