"""The motion bound's method is chosen without the test labels: two-fold cross-fitting over clips.

Choosing the best of many methods on the clips it is then scored on rewards luck; the cross-fitted
choice scores each half of the clips with the method chosen on the other half. These tests check both
halves of that claim on simulated per-clip outcomes with a known answer.
"""

import numpy as np
import pytest

from motionprobe.analysis.stats import bootstrap_crossfit, bootstrap_means, crossfit_choice
from motionprobe.analysis.summary import folds_of


def test_noise_methods_do_not_tighten_the_bound():
    """20 methods that are all right on a clip with probability 0.5, independently: the best of them on all
    clips looks better than 0.5; the cross-fitted estimate does not."""
    rng = np.random.default_rng(0)
    naive, fitted = [], []
    for _ in range(300):
        values = (rng.random((20, 100)) < 0.5).astype(float)
        folds = rng.permutation(np.arange(100) % 2)
        naive.append(values.mean(axis=1).max())
        fitted.append(crossfit_choice(values, folds)[0].mean())
    assert np.mean(naive) > 0.55  # the selection bias the cross-fitting removes
    assert np.mean(fitted) == pytest.approx(0.5, abs=0.01)


def test_a_really_better_method_is_chosen_on_both_halves():
    rng = np.random.default_rng(1)
    good = (rng.random(400) < 0.8).astype(float)
    values = np.stack([(rng.random(400) < 0.5).astype(float), good, (rng.random(400) < 0.6).astype(float)])
    fitted, chosen = crossfit_choice(values, np.arange(400) % 2)
    assert chosen == [1, 1] and np.array_equal(fitted, good)


def test_ties_go_to_the_earlier_method():
    values = np.array([[1, 1, 0, 0.0], [0, 0, 1, 1.0]])  # 0.5 and 0.5 on each fold
    assert crossfit_choice(values, np.array([0, 1, 0, 1]))[1] == [0, 0]


def test_the_bootstrap_repeats_the_choice_and_stays_paired():
    rng = np.random.default_rng(2)
    values = (rng.random((4, 300)) < np.array([[0.5], [0.7], [0.65], [0.4]])).astype(float)
    folds = np.arange(300) % 2
    boot = bootstrap_crossfit(values, folds, 400, [0, 0])
    point = crossfit_choice(values, folds)[0].mean()
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert lo <= point <= hi and hi - lo < 0.15
    # With one method there is nothing to choose: the cross-fitted resamples are that method's resampled means.
    assert np.allclose(bootstrap_crossfit(values[1:2], folds, 400, [0, 0]), bootstrap_means(values[1:2], 400, [0, 0])[:, 0])


def test_folds_split_by_video_and_by_seed():
    ids = [f"v{i // 3}#{i % 3}" for i in range(300)]
    folds = folds_of(ids, seed=0)
    for v in range(100):
        assert len(set(folds[3 * v:3 * v + 3].tolist())) == 1  # a video's clips stay on one side
    assert 0.35 < folds.mean() < 0.65 and not np.array_equal(folds, folds_of(ids, seed=1))
