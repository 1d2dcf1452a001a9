"""Candidate subsets and selectors: the math of subsets, and selectors on hand-made tables with known answers."""

from __future__ import annotations

import doctest
import math
from itertools import combinations

import numpy as np
import pytest

from motionprobe import selection
from motionprobe.errors import UserError
from motionprobe.selection import (
    ScoreTable,
    all_subsets,
    candidates,
    lexicographic_key,
    mask_subset,
    num_subsets,
    random_subsets,
    select_contrast,
    select_max_response,
    select_mean_response,
    select_oracle,
    select_random,
    select_uniform,
    subset_mask,
    uniform_subset,
    unrank_subset,
)


def test_doctests():
    assert doctest.testmod(selection).failed == 0


def test_uniform_subset_is_the_documented_centres():
    assert uniform_subset(1) == (8,)  # the paper's middle frame
    assert uniform_subset(2) == (4, 12)
    assert uniform_subset(4) == (2, 6, 10, 14)
    assert uniform_subset(8) == tuple(range(1, 16, 2))
    assert uniform_subset(16) == tuple(range(16))
    assert uniform_subset(3, 8) == (1, 4, 6)  # floor((2i+1)·8/6)
    for k in range(1, 17):
        s = uniform_subset(k)
        assert len(set(s)) == k and list(s) == sorted(s) and 0 <= s[0] and s[-1] < 16


@pytest.mark.parametrize("k,count", [(1, 16), (2, 120), (4, 1820), (8, 12870)])
def test_all_subsets_counts_and_order(k, count):
    subsets = all_subsets(k)
    assert len(subsets) == count == num_subsets(k) == math.comb(16, k)
    assert len(set(subsets)) == count
    assert subsets == sorted(subsets)
    assert all(list(s) == sorted(s) and len(set(s)) == k for s in subsets)


def test_unrank_matches_lexicographic_enumeration():
    for t in (5, 7):
        for k in range(1, t + 1):
            assert [unrank_subset(r, k, t) for r in range(math.comb(t, k))] == list(combinations(range(t), k))
    with pytest.raises(ValueError):
        unrank_subset(16, 1, 16)


def test_random_subsets_distinct_sorted_seeded_and_capped():
    rng = np.random.default_rng(0)
    subsets = random_subsets(4, 48, 16, rng)
    assert len(subsets) == 48 == len(set(subsets))
    assert subsets == sorted(subsets) and all(list(s) == sorted(s) and len(set(s)) == 4 for s in subsets)
    assert random_subsets(4, 48, 16, np.random.default_rng(0)) == subsets
    assert random_subsets(4, 48, 16, np.random.default_rng(1)) != subsets
    assert random_subsets(1, 48, 16, np.random.default_rng(0)) == all_subsets(1)  # capped at C(16, 1)
    assert random_subsets(2, 119, 16, np.random.default_rng(0)) != all_subsets(2)
    assert len(random_subsets(2, 119, 16, np.random.default_rng(0))) == 119


def test_random_subsets_are_uniform_over_all_subsets():
    # Each of the 120 pairs should be drawn by about half of 400 draws of 60 pairs.
    counts = {s: 0 for s in all_subsets(2)}
    for seed in range(400):
        for s in random_subsets(2, 60, 16, np.random.default_rng(seed)):
            counts[s] += 1
    freq = np.array(list(counts.values())) / 400
    assert freq.min() > 0.35 and freq.max() < 0.65


def test_candidates_pool():
    assert candidates(4, "all") == all_subsets(4)
    pool = candidates(4, 48, 16, seed=3)
    assert len(pool) == 48 and set(pool) <= set(all_subsets(4))
    assert candidates(4, "48", 16, seed=3) == pool == candidates(4, 48, 16, seed=3)
    assert candidates(4, 48, 16, seed=4) != pool
    with pytest.raises(UserError, match="analysis.candidates"):
        candidates(4, "many")
    with pytest.raises(UserError, match="analysis.ks: k must be an integer in 1..16"):
        candidates(17, 48)
    with pytest.raises(UserError, match="analysis.ks: k must be an integer in 1..16"):
        uniform_subset(0)


def test_masks_and_lexicographic_key():
    assert subset_mask((2, 5)) == 36 and mask_subset(36) == (2, 5)
    for k in (1, 3, 5):
        subsets = all_subsets(k, 8)
        masks = np.array([subset_mask(s) for s in subsets])
        assert [mask_subset(m, 8) for m in masks] == subsets
        keys = lexicographic_key(masks, 8)
        # all_subsets is in lexicographic order, so keys must strictly decrease along it.
        assert np.all(np.diff(keys) < 0)


# -- selectors on hand-made tables ---------------------------------------------------------------

def table(rows, num_frames=16):
    """rows: (clip, subset, pred, max_prob, true_prob, label)."""
    clip, subsets, pred, max_prob, true_prob, label = zip(*rows, strict=True)
    return ScoreTable.from_rows(clip, subsets, pred, max_prob, true_prob, label, num_frames)


HAND = table([
    # clip 0 (label 2): max response picks (5,), which is right; oracle also right.
    (0, (1,), 0, 0.30, 0.20, 2),
    (0, (5,), 2, 0.80, 0.80, 2),
    (0, (9,), 1, 0.50, 0.10, 2),
    # clip 1 (label 0): the most confident candidate (3,) is wrong; (12,) is right with lower confidence.
    (1, (3,), 4, 0.90, 0.05, 0),
    (1, (8,), 4, 0.60, 0.10, 0),
    (1, (12,), 0, 0.40, 0.40, 0),
    (1, (14,), 0, 0.45, 0.45, 0),
    # clip 2 (label 1): nothing is right.
    (2, (0,), 3, 0.70, 0.10, 1),
    (2, (8,), 3, 0.70, 0.30, 1),
])


def chosen(sel, tbl):
    return dict(zip(sel.clip.tolist(), sel.subsets(tbl), strict=True)), dict(zip(sel.clip.tolist(), sel.correct.tolist(),
                                                                                  strict=True))


def test_max_response_known_answers():
    subsets, correct = chosen(select_max_response(HAND), HAND)
    # clip 2 ties at 0.70: the lexicographically first subset (0,) wins.
    assert subsets == {0: (5,), 1: (3,), 2: (0,)}
    assert correct == {0: True, 1: False, 2: False}
    assert select_max_response(HAND).accuracy == pytest.approx(1 / 3)


def test_oracle_known_answers():
    subsets, correct = chosen(select_oracle(HAND), HAND)
    # clip 1: two right candidates, the one with the larger true-class probability is reported.
    # clip 2: none right: the candidate with the largest true-class probability.
    assert subsets == {0: (5,), 1: (14,), 2: (8,)}
    assert correct == {0: True, 1: True, 2: False}


def test_uniform_selector_known_answers():
    sub = HAND.take(np.isin(HAND.clip, [1, 2]))
    subsets, correct = chosen(select_uniform(sub, (8,)), sub)
    assert subsets == {1: (8,), 2: (8,)} and correct == {1: False, 2: False}
    with pytest.raises(ValueError, match="no row"):
        select_uniform(HAND, (8,))  # clip 0 has no (8,)


def test_random_selector_seeded_and_uniform():
    n_clips, pool = 4000, [(1,), (4,), (9,), (13,)]
    rows = [(c, s, 0, 0.5, 0.5, 0) for c in range(n_clips) for s in pool]
    tbl = table(rows)
    sel = select_random(tbl, seed=7)
    assert np.array_equal(sel.row, select_random(tbl, seed=7).row)
    assert not np.array_equal(sel.row, select_random(tbl, seed=8).row)
    picks = np.bincount(sel.row % 4, minlength=4) / n_clips
    assert np.all(np.abs(picks - 0.25) < 0.03)


def random_table(rng, n_clips=30, ties=True):
    rows = []
    for c in range(n_clips):
        label = int(rng.integers(5))
        for s in random_subsets(2, int(rng.integers(1, 12)), 16, rng):
            # Coarse scores make many ties, which is where order-invariance can break.
            p = round(float(rng.uniform()), 1) if ties else float(rng.uniform())
            rows.append((c, s, int(rng.integers(5)), p, round(float(rng.uniform()), 1), label))
    return table(rows)


@pytest.mark.parametrize("select", [select_max_response, select_oracle, lambda t: select_random(t, 3)],
                         ids=["max_response", "oracle", "random"])
def test_permuting_candidates_does_not_change_any_outcome(select):
    rng = np.random.default_rng(0)
    tbl = random_table(rng)
    base = select(tbl)
    base_subsets = base.subsets(tbl)
    for _ in range(20):
        perm = rng.permutation(len(tbl))
        shuffled = tbl.take(perm)
        sel = select(shuffled)
        assert np.array_equal(sel.clip, base.clip)
        assert sel.subsets(shuffled) == base_subsets
        assert np.array_equal(sel.correct, base.correct)


def test_a_candidates_score_only_moves_its_own_selection():
    # Raising one candidate's score above all others makes it chosen for its clip, and changes no other clip.
    rng = np.random.default_rng(1)
    tbl = random_table(rng, ties=False)
    base = select_max_response(tbl)
    target = int(np.flatnonzero(tbl.clip == 5)[0])
    bumped = ScoreTable(tbl.clip, tbl.mask, tbl.pred, np.where(np.arange(len(tbl)) == target, 2.0, tbl.max_prob),
                        tbl.true_prob, tbl.label, tbl.num_frames)
    sel = select_max_response(bumped)
    assert sel.row[sel.clip == 5][0] == target
    others = base.clip != 5
    assert np.array_equal(sel.row[others], base.row[others])


# -- bag-of-candidates selectors: mean response and contrast ---------------------------------------

def probability_table(probs, clips, subsets, labels):
    """A ScoreTable from full probability rows (candidates × classes), with the top-3 classes kept."""
    probs = np.asarray(probs, dtype=float)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :3]
    top = np.take_along_axis(probs, order, axis=1)
    return ScoreTable.from_rows(clips, subsets, order[:, 0], top[:, 0], probs[np.arange(len(probs)), labels],
                                labels, top_class=order, top_prob=top)


def pool_means(probs, clips):
    clips = np.asarray(clips)
    unique = np.unique(clips)
    return unique, np.stack([np.asarray(probs)[clips == c].mean(axis=0) for c in unique])


# A key-frame clip of class 2: 14 candidates lack the flash and the model calls them class 0 (a catch-all)
# with 0.6; the 2 flash candidates say class 2 with 0.55. Max response and the mean both say class 0; the
# contrast against the clip's own mean finds class 2.
FLASH = [[0.6, 0.3, 0.1]] * 14 + [[0.4, 0.05, 0.55]] * 2
FLASH_TABLE = probability_table(FLASH, [0] * 16, [(t,) for t in range(16)], [2] * 16)


def test_contrast_finds_the_rare_decisive_candidate():
    clips, means = pool_means(FLASH, [0] * 16)
    assert select_max_response(FLASH_TABLE).pred.tolist() == [0]
    assert select_mean_response(FLASH_TABLE, clips, means).pred.tolist() == [0]
    sel = select_contrast(FLASH_TABLE, clips, means)
    assert sel.pred.tolist() == [2] and sel.correct.tolist() == [True] and sel.subsets(FLASH_TABLE) == [(14,)]


def test_mean_response_outvotes_one_confident_outlier():
    # An appearance clip of class 1: one candidate is confidently wrong (class 0, 0.9), the rest say class 1.
    probs = [[0.9, 0.05, 0.05]] + [[0.3, 0.6, 0.1]] * 5
    tbl = probability_table(probs, [0] * 6, [(t,) for t in range(6)], [1] * 6)
    clips, means = pool_means(probs, [0] * 6)
    assert select_max_response(tbl).pred.tolist() == [0]
    sel = select_mean_response(tbl, clips, means)
    assert sel.pred.tolist() == [1] and sel.subsets(tbl) == [(1,)]  # the first of the most confident in class 1


def test_contrast_votes_only_with_predictions_and_is_bounded_by_the_pool_size():
    # Every candidate predicts class 0; class 2 reaches 0.03 in one of them, 4× its pool mean: not a vote.
    probs = [[0.98, 0.01, 0.01]] * 3 + [[0.97, 0.0, 0.03]]
    tbl = probability_table(probs, [0] * 4, [(t,) for t in range(4)], [0] * 4)
    clips, means = pool_means(probs, [0] * 4)
    assert select_contrast(tbl, clips, means).pred.tolist() == [0]
    # A class only one candidate predicts has the largest possible ratio, the pool size: it wins.
    probs = [[0.9, 0.1, 0.0]] * 3 + [[0.2, 0.0, 0.8]]
    tbl = probability_table(probs, [0] * 4, [(t,) for t in range(4)], [2] * 4)
    clips, means = pool_means(probs, [0] * 4)
    sel = select_contrast(tbl, clips, means)
    assert sel.pred.tolist() == [2] and sel.subsets(tbl) == [(3,)]
    assert 0.8 / means[0, 2] == pytest.approx(4.0)


@pytest.mark.parametrize("name", ["mean_response", "contrast"])
def test_bag_selectors_do_not_depend_on_row_order(name):
    rng = np.random.default_rng(3)
    clips = np.repeat(np.arange(12), 8)
    probs = rng.dirichlet(np.ones(5) * 0.5, size=len(clips)).round(2)
    tbl = probability_table(probs, clips, [tuple(sorted(rng.choice(16, 2, replace=False))) for _ in clips],
                            rng.integers(5, size=len(clips)))
    unique, means = pool_means(probs, clips)
    select = select_mean_response if name == "mean_response" else select_contrast
    base = select(tbl, unique, means)
    for _ in range(10):
        perm = rng.permutation(len(tbl))
        shuffled = tbl.take(perm)
        sel = select(shuffled, unique, means)
        assert np.array_equal(sel.pred, base.pred) and sel.subsets(shuffled) == base.subsets(tbl)
