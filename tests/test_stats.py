"""Bootstrap CIs and paired randomisation tests: hand-checked cases and coverage of a known mean."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid_core.analysis import stats


def test_bootstrap_ci_constant_and_nan() -> None:
    ci = stats.bootstrap_ci(np.array([2.0, 2.0, np.nan, 2.0]))
    assert (ci.value, ci.low, ci.high) == (2.0, 2.0, 2.0)
    assert np.isnan(stats.bootstrap_ci(np.array([np.nan])).value)


def test_bootstrap_ci_covers_known_mean() -> None:
    rng = np.random.default_rng(1)
    hits = 0
    for seed in range(100):
        x = rng.normal(0.5, 0.2, size=200)
        ci = stats.bootstrap_ci(x, n_boot=400, seed=seed)
        assert ci.low <= ci.value <= ci.high
        hits += ci.low <= 0.5 <= ci.high
    assert 88 <= hits <= 100  # nominal 95%


def test_bootstrap_ci_width_matches_normal_theory() -> None:
    x = np.random.default_rng(0).normal(0, 1, size=400)
    ci = stats.bootstrap_ci(x, n_boot=2000)
    assert ci.high - ci.low == pytest.approx(2 * 1.96 * x.std() / np.sqrt(x.size), rel=0.15)


def test_permutation_exact_small_case() -> None:
    # diffs (1, 2): sign patterns give means 1.5, 0.5, -0.5, -1.5 -> 2 of 4 reach |1.5|
    assert stats.paired_permutation_test(np.array([1.0, 2.0]), np.zeros(2)) == 0.5
    # diffs (1, 1, 1): only the two all-same-sign patterns reach |1| -> 2 / 8
    assert stats.paired_permutation_test(np.ones(3), np.zeros(3)) == 0.25


def test_permutation_identical_and_different() -> None:
    a = np.random.default_rng(0).random(50)
    assert stats.paired_permutation_test(a, a.copy()) == 1.0
    b = a + 0.3 + np.random.default_rng(1).normal(0, 0.01, 50)
    p = stats.paired_permutation_test(b, a, n_perm=999)
    assert p == pytest.approx(1 / 1000)  # smallest attainable: (1 + 0) / (1 + n)
    with pytest.raises(ValueError):
        stats.paired_permutation_test(np.ones(2), np.ones(3))


def test_holm_hand_checked() -> None:
    np.testing.assert_allclose(stats.holm(np.array([0.01, 0.04])), [0.02, 0.04])
    np.testing.assert_allclose(stats.holm(np.array([0.04, 0.01, 0.03])), [0.06, 0.03, 0.06])
    out = stats.holm(np.array([np.nan, 0.2]))
    assert np.isnan(out[0]) and out[1] == 0.2


def test_macro_mean_is_mean_of_setting_means() -> None:
    # setting 0: questions 0,1 -> mean 0.5; setting 1: question 1 only -> 1.0; macro 0.75
    v = np.array([[0.0, np.nan], [1.0, 1.0]])
    assert stats.macro_mean(v) == 0.75
    ci = stats.macro_bootstrap(v[:, :, None], n_boot=50)[0]
    assert ci.value == 0.75 and ci.low <= 0.75 <= ci.high


def test_macro_permutation_identical_and_shifted() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((40, 3, 2))
    p_same = stats.macro_permutation_test(a, a.copy(), n_perm=200)
    np.testing.assert_array_equal(p_same, [1.0, 1.0])
    b = a.copy()
    b[..., 0] += 0.2  # metric 0 clearly better, metric 1 identical
    p = stats.macro_permutation_test(b, a, n_perm=200)
    assert p[0] == pytest.approx(1 / 201) and p[1] == 1.0


def test_macro_permutation_matches_plain_test_with_one_setting() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random(12), rng.random(12)
    p_macro = stats.macro_permutation_test(a[:, None, None], b[:, None, None], n_perm=4000, seed=1)[0]
    p_plain = stats.paired_permutation_test(a, b, n_perm=4096)  # 2**12 patterns: exact
    assert p_macro == pytest.approx(p_plain, abs=0.03)


def _reference_permutation(a, b, n_perm, seed):
    """The plain form: per sign pattern, recompute every setting's mean and the mean over settings."""
    d = np.where(np.isnan(a) | np.isnan(b), np.nan, a - b)
    observed = np.abs(stats.macro_means(d))
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, size=(n_perm, d.shape[0])) * 2.0 - 1.0
    flipped = stats._weighted_macro(signs, d, counts_from_weights=False)
    return (1 + np.sum(np.abs(flipped) >= observed - 1e-12, axis=0)) / (1 + n_perm)


def _gappy(seed: int, shape=(30, 5, 3)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.random(shape)
    v[rng.random(shape) < 0.25] = np.nan  # MLQA-R-like: questions missing from settings
    v[:, 4, 2] = np.nan  # a setting empty for one metric
    return v


def test_permutation_shortcut_equals_plain_form() -> None:
    a, b = _gappy(1), _gappy(2)
    np.testing.assert_allclose(
        stats.macro_permutation_test(a, b, n_perm=300, seed=4), _reference_permutation(a, b, 300, 4)
    )


def test_contributions_sum_to_macro_and_bootstrap_shortcut_equals_ratio_form() -> None:
    v = _gappy(3)
    np.testing.assert_allclose(stats.question_contributions(v).sum(axis=0), stats.macro_means(v))
    full = np.random.default_rng(5).random((25, 4, 2))
    counts = np.random.default_rng(6).integers(0, 3, size=(50, 25)).astype(float)
    np.testing.assert_allclose(
        counts @ stats.question_contributions(full) * 1.0,
        stats._weighted_macro(counts, full) * counts.sum(axis=1, keepdims=True) / 25,
    )
    mixed = full.copy()
    mixed[0, 0, 1] = np.nan  # metric 1 takes the ratio form, metric 0 the shortcut
    fast = stats.macro_bootstrap(mixed, n_boot=200, seed=2)
    draws = stats.resample_counts(25, 200, seed=2)
    assert (draws.sum(axis=1) == 25).all()
    ref = stats._weighted_macro(draws, mixed)
    for j in range(2):
        assert fast[j].low == pytest.approx(np.quantile(ref[:, j], 0.025))
        assert fast[j].high == pytest.approx(np.quantile(ref[:, j], 0.975))
