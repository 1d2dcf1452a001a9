"""Bootstrap intervals and AUROC: properties that hold for any correct implementation."""

from __future__ import annotations

import doctest

import numpy as np

from motionprobe.analysis import stats
from motionprobe.analysis.stats import auroc, bootstrap_means, estimate_means


def bernoulli(p, n, seed):
    return (np.random.default_rng(seed).uniform(size=n) < p).astype(float)


def test_doctests():
    assert doctest.testmod(stats).failed == 0


def test_interval_contains_the_point_estimate_and_mean_is_exact():
    for seed in range(30):
        p = [0.1, 0.5, 0.8][seed % 3]
        values = np.stack([bernoulli(p, 60, seed), bernoulli(0.5, 60, seed + 100)])
        for est, row in zip(estimate_means(values, 500, seed), values, strict=True):
            assert est.value == row.mean() and est.n == 60
            assert est.ci[0] <= est.value <= est.ci[1]


def test_interval_narrows_with_more_clips():
    small = estimate_means(bernoulli(0.6, 50, 0)[None], 1000, 0)[0]
    large = estimate_means(bernoulli(0.6, 2000, 0)[None], 1000, 0)[0]
    width = lambda e: e.ci[1] - e.ci[0]  # noqa: E731
    assert width(large) < width(small) / 4  # ~ 1/sqrt(40)
    # The width is close to the normal approximation 2·1.96·sqrt(p(1-p)/n).
    assert abs(width(large) - 2 * 1.96 * np.sqrt(0.24 / 2000)) < 0.01


def test_seeded_determinism():
    values = bernoulli(0.4, 100, 1)[None]
    assert np.array_equal(bootstrap_means(values, 300, 5), bootstrap_means(values, 300, 5))
    assert np.array_equal(bootstrap_means(values, 300, [5, 1, 2]), bootstrap_means(values, 300, [5, 1, 2]))
    assert not np.array_equal(bootstrap_means(values, 300, 5), bootstrap_means(values, 300, 6))


def test_chunking_for_many_clips_keeps_results_exact():
    # Above 2^22 / N resamples per chunk the counts are drawn in several chunks: the means must still be right.
    values = bernoulli(0.3, 50_000, 2)[None]
    boot = bootstrap_means(values, 200, 0)
    assert boot.shape == (200, 1)
    assert abs(boot.mean() - values.mean()) < 0.002 and 0.0005 < boot.std() < 0.004


def test_coverage_is_near_95_percent():
    hits = 0
    trials = 300
    for seed in range(trials):
        est = estimate_means(bernoulli(0.7, 120, seed)[None], 400, seed)[0]
        hits += est.ci[0] <= 0.7 <= est.ci[1]
    assert 0.89 <= hits / trials <= 0.99


def test_paired_difference_is_narrower_than_unpaired_for_correlated_methods():
    rng = np.random.default_rng(0)
    a = (rng.uniform(size=400) < 0.8).astype(float)
    b = a.copy()
    flip = rng.choice(400, 20, replace=False)
    b[flip] = 1 - b[flip]  # b agrees with a on 95% of the clips
    paired = estimate_means((a - b)[None], 1000, 0)[0]
    boot = bootstrap_means(np.stack([a, b]), 1000, 0)
    independent = bootstrap_means(b[None], 1000, 1)[:, 0]
    unpaired_width = np.subtract(*np.quantile(boot[:, 0] - independent, [0.975, 0.025]))
    assert paired.ci[1] - paired.ci[0] < unpaired_width / 2
    assert estimate_means((a - a)[None], 200, 0)[0].ci == (0.0, 0.0)


def test_empty_input_gives_nan_and_zero_n():
    est = estimate_means(np.zeros((1, 0)), 100, 0)[0]
    assert est.n == 0 and np.isnan(est.value) and est.to_dict()["value"] is None


def test_auroc():
    assert auroc(np.array([3, 2, 1, 0.0]), np.array([1, 1, 0, 0], bool)) == 1.0
    assert auroc(np.array([0, 1, 2, 3.0]), np.array([1, 1, 0, 0], bool)) == 0.0
    assert auroc(np.array([1, 1, 1, 1.0]), np.array([1, 1, 0, 0], bool)) == 0.5
    assert auroc(np.array([3, 1, 2, 0.0]), np.array([1, 1, 0, 0], bool)) == 0.75
    assert np.isnan(auroc(np.array([1.0]), np.array([True])))
