"""The motion bound's method is chosen without the test labels, and never loses to the default beyond noise.

Choosing the best of many methods on the clips it is then scored on rewards luck; cross-fitting scores each
half of the clips with the method chosen on the other half. On small test sets that choice is itself noise,
so the guard keeps the default (the paper's `full`) unless a challenger's win on the other half passes an
exact sign test. These tests check each claim on simulated per-clip outcomes with a known answer.
"""

import numpy as np
import pytest

from motionprobe.analysis.choice import Guard, _pick, bootstrap_guarded, folds_of, guarded_choice, sign_test_thresholds
from motionprobe.analysis.stats import bootstrap_means


def _flips(rng, p, n):
    return (rng.random(n) < p).astype(float)


def test_noise_methods_do_not_tighten_the_bound():
    """20 methods that are all right on a clip with probability 0.5, independently: the best of them on all
    clips looks better than 0.5; neither cross-fitted estimate does."""
    rng = np.random.default_rng(0)
    naive, plain, guarded = [], [], []
    for _ in range(300):
        values = (rng.random((20, 100)) < 0.5).astype(float)
        folds = rng.permutation(np.arange(100) % 2)
        naive.append(values.mean(axis=1).max())
        plain.append(guarded_choice(values, folds, Guard(alpha=1.0))[0].mean())
        guarded.append(guarded_choice(values, folds)[0].mean())
    assert np.mean(naive) > 0.55  # the selection bias cross-fitting removes
    assert np.mean(plain) == pytest.approx(0.5, abs=0.01)
    assert np.mean(guarded) == pytest.approx(0.5, abs=0.01)


def test_the_guard_keeps_the_default_against_equal_challengers():
    """A test set of 140 clips (14 a class, 10 classes) and eight challengers as accurate as the default but
    wrong on other clips: plain cross-fitting often reports a bound more than 2 points looser than the
    default's; the guard almost never does, and keeps the default on both halves in ≥ 90% of the draws."""
    rng = np.random.default_rng(1)
    looser = {"plain": 0, "guarded": 0}
    kept = 0
    for _ in range(400):
        values = np.stack([_flips(rng, 0.6, 140) for _ in range(9)])
        folds = rng.permutation(np.arange(140) % 2)
        for name, alpha in (("plain", 1.0), ("guarded", 0.05)):
            fitted, picked = guarded_choice(values, folds, Guard(alpha=alpha))
            looser[name] += fitted.mean() < values[0].mean() - 0.02
            kept += name == "guarded" and picked == [0, 0]
    assert looser["plain"] > 60 and looser["guarded"] < 20  # measured: 94 and 10 of 400
    assert kept >= 360


def test_a_really_better_method_is_chosen_on_both_halves():
    rng = np.random.default_rng(1)
    good = _flips(rng, 0.8, 400)
    values = np.stack([_flips(rng, 0.5, 400), good, _flips(rng, 0.6, 400)])
    for alpha in (1.0, 0.05):
        fitted, chosen = guarded_choice(values, np.arange(400) % 2, Guard(alpha=alpha))
        assert chosen == [1, 1] and np.array_equal(fitted, good)


def test_ties_go_to_the_default_then_to_the_earlier_method():
    values = np.array([[1, 1, 0, 0.0], [0, 0, 1, 1.0]])  # 0.5 and 0.5 on each fold
    assert guarded_choice(values, np.array([0, 1, 0, 1]), Guard(alpha=1.0))[1] == [0, 0]
    values = np.array([[0, 0, 0, 0.0], [1, 1, 1, 1.0], [1, 1, 1, 1.0]])
    assert guarded_choice(values, np.array([0, 1, 0, 1]), Guard(alpha=1.0))[1] == [1, 1]


def test_sign_test_thresholds_are_the_exact_binomial_tail():
    thresholds = sign_test_thresholds(60, 0.05)
    rng = np.random.default_rng(3)
    for n in (1, 7, 20, 60):
        wins = (rng.random((200_000, n)) < 0.5).sum(axis=1)
        assert (wins >= thresholds[n]).mean() <= 0.05 + 0.003  # the test's level holds
        if thresholds[n] - 1 >= 0:
            assert (wins >= thresholds[n] - 1).mean() > 0.05 - 0.003  # and the threshold is the smallest that does
    far = sign_test_thresholds(2400, 0.01)  # beyond the exact range: the normal approximation continues smoothly
    assert abs(int(far[2001]) - int(far[2000])) <= 1 and far[2400] > 1200


def test_the_bootstrap_repeats_the_choice_and_stays_paired():
    rng = np.random.default_rng(2)
    values = (rng.random((4, 300)) < np.array([[0.5], [0.85], [0.8], [0.4]])).astype(float)
    folds = np.arange(300) % 2
    boot = bootstrap_guarded(values, folds, 400, [0, 0])
    point = guarded_choice(values, folds)[0].mean()
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert lo <= point <= hi and hi - lo < 0.15
    # With one method there is nothing to choose: the resamples are that method's resampled means.
    assert np.allclose(bootstrap_guarded(values[1:2], folds, 400, [0, 0]), bootstrap_means(values[1:2], 400, [0, 0])[:, 0])
    # A resample that draws every clip once is the point estimate.
    weights = np.ones((1, 300))
    assert _pick(weights, values, folds != 0, Guard()).tolist() == [guarded_choice(values, folds)[1][0]]


def test_folds_split_by_video_and_by_seed():
    ids = [f"v{i // 3}#{i % 3}" for i in range(300)]
    folds = folds_of(ids, seed=0)
    for v in range(100):
        assert len(set(folds[3 * v:3 * v + 3].tolist())) == 1  # a video's clips stay on one side
    assert 0.35 < folds.mean() < 0.65 and not np.array_equal(folds, folds_of(ids, seed=1))


def _outcomes(labels, methods, seed=0):
    """Hand-made per-clip outcomes at k = 1: `methods` maps a method to its per-clip correctness (1/0); a wrong
    prediction is the next class."""
    from motionprobe.analysis.outcomes import Outcomes

    labels = np.asarray(labels)
    n = len(labels)
    out = Outcomes(np.arange(n), [f"v{i}#0" for i in range(n)], labels)
    num_classes = labels.max() + 1
    out.pred[("original", None)] = labels.copy()
    out.frames[("original", None)] = np.zeros(n, dtype=np.int64)
    for name, right in methods.items():
        out.pred[(name, 1)] = np.where(np.asarray(right) > 0, labels, (labels + 1) % num_classes)
        out.frames[(name, 1)] = np.full(n, 1 << 8, dtype=np.int64)
    return out


def test_a_class_the_chosen_method_hurts_takes_replication_on_its_own():
    """Three classes of 14 clips. The generator helps the motion class a lot (so `full` is the overall choice)
    but drops the appearance class from 14/14 replicated to 4/14: that class's bound is replication's (0), not
    the paper's 71 points; the other classes keep `full`."""
    from motionprobe.analysis.engine import Plan
    from motionprobe.analysis.summary import summarize

    labels = np.repeat([0, 1, 2], 14)
    appearance_full = np.r_[np.ones(4), np.zeros(10)]
    full = np.r_[appearance_full, np.ones(14), np.r_[np.ones(12), np.zeros(2)]]
    uniform = np.r_[np.ones(14), np.zeros(14), np.r_[np.ones(12), np.zeros(2)]]
    outcomes = _outcomes(labels, {"full": full, "generator": full, "uniform_select": uniform, "uniform": uniform})
    plan = Plan.build(num_frames=16, ks=[1], pools={1: [(i,) for i in range(16)]}, generator_ks=[1],
                      num_clips=len(labels), shard_size=64)
    results = summarize(outcomes, ["still", "moving", "other"], plan, n_boot=200)
    assert results["bound_method"]["1"]["chosen_per_fold"] == ["full", "full"]
    still, moving = results["per_class"]["still"], results["per_class"]["moving"]
    assert still["bound_method"]["1"] == ["uniform", "uniform"] and still["motion_bound"]["1"] == 0.0
    assert still["paper_bound"]["1"] == pytest.approx(10 / 14, abs=1e-6)
    assert moving["bound_method"]["1"] == ["full", "full"] and moving["motion_bound"]["1"] == 0.0
    lo, hi = still["motion_bound_ci"]["1"]
    assert lo <= 0.0 <= hi


def test_replication_can_become_the_fallback_class_and_is_flagged():
    """Replicated frames send every clip of the motion classes to class 0: flagged for `uniform` at k = 1, with
    where its clips came from; `full` sends them nowhere in particular and flags nothing."""
    from motionprobe.analysis.engine import Plan
    from motionprobe.analysis.summary import summarize

    labels = np.repeat([0, 1, 2], 10)
    outcomes = _outcomes(labels, {"full": np.ones(30), "generator": np.ones(30), "uniform_select": np.ones(30),
                                  "uniform": np.ones(30)})
    outcomes.pred[("uniform", 1)] = np.zeros(30, dtype=np.int64)  # everything is class 0
    plan = Plan.build(num_frames=16, ks=[1], pools={1: [(i,) for i in range(16)]}, generator_ks=[1],
                      num_clips=30, shard_size=64)
    results = summarize(outcomes, ["a", "b", "c"], plan, n_boot=100)
    flagged = results["fallback"]["uniform"]["1"]
    assert [f["class"] for f in flagged] == ["a"] and flagged[0]["received"] == 20
    assert flagged[0]["from"] == {"b": 10, "c": 10} and flagged[0]["recall"] == 1.0
    assert "full" not in results["fallback"] and results["per_class"]["a"]["fallback"] == {"uniform": [1]}
