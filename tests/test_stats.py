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


# --- corrections, paired comparison, MDE (study engine) ------------------------------------------


def _holm_reject_reference(p: list[float], alpha: float) -> set[int]:
    """Holm's step-down procedure as written in Holm (1979): reject while p_(k) <= alpha / (m - k)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = set()
    for k, i in enumerate(order):
        if p[i] > alpha / (len(p) - k):
            break
        rejected.add(i)
    return rejected


def test_holm_hand_case_and_step_down_reference() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005*4 = .02, 0.01*3 = .03, 0.03*2 = .06, 0.04*1 = .04 -> running max .02 .03 .06 .06
    assert stats.adjust(np.array(p), "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(3)
    for _ in range(50):
        q = rng.uniform(0, 0.2, size=7).tolist()
        for a in (0.01, 0.05, 0.1):
            adjusted = stats.holm(np.array(q))
            assert {i for i in range(7) if adjusted[i] <= a} == _holm_reject_reference(q, a)


def test_bh_hand_case_and_scipy() -> None:
    from scipy.stats import false_discovery_control

    # sorted .01*3/1 = .03, .03*3/2 = .045, .04*3/3 = .04 -> running min from the top: .03 .04 .04
    assert stats.adjust(np.array([0.01, 0.04, 0.03]), "bh") == pytest.approx([0.03, 0.04, 0.04])
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 40):
        p = rng.uniform(0, 1, size=n) ** 3
        np.testing.assert_allclose(stats.benjamini_hochberg(p), false_discovery_control(p, method="bh"), rtol=1e-12)
    with_nan = stats.benjamini_hochberg(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(with_nan[1]) and with_nan[[0, 2]] == pytest.approx([0.02, 0.02])
    with pytest.raises(ValueError, match="unknown correction"):
        stats.adjust(np.array([0.1]), "bonferroni-ish")


def test_mde_formula() -> None:
    from scipy.stats import norm

    assert stats.mde(1.0) == pytest.approx(1.959964 + 0.841621, abs=1e-5)  # ~2.8 SE at alpha .05
    assert stats.mde(0.01, m=5) == pytest.approx((norm.ppf(1 - 0.05 / 10) + norm.ppf(0.8)) * 0.01, rel=1e-9)
    # at the MDE a two-sided z-test at alpha/m has exactly the requested power
    se, m = 0.004, 6
    crit = norm.ppf(1 - 0.05 / (2 * m))
    shift = stats.mde(se, m=m) / se
    assert norm.sf(crit - shift) + norm.cdf(-crit - shift) == pytest.approx(0.8, abs=1e-3)
    with pytest.raises(ValueError):
        stats.mde(1.0, m=0)


def test_paired_difference_hand_case() -> None:
    # one setting, one metric: differences 0.1, 0.3, 0.2, 0.2 -> delta .2, d_z = .2 / sd(ddof 1) = .2 / .08165
    a = np.array([0.6, 0.8, 0.7, 0.5])[:, None, None]
    b = np.array([0.5, 0.5, 0.5, 0.3])[:, None, None]
    (r,) = stats.paired_macro_difference(a, b, n_boot=4000)
    assert r.delta == pytest.approx(0.2)
    assert r.d == pytest.approx(0.2 / np.std([0.1, 0.3, 0.2, 0.2], ddof=1))
    assert r.low <= r.delta <= r.high and r.n_questions == 4
    # bootstrap SE of a mean: sd(ddof 0) / sqrt(n) = 0.0707 / 2
    assert r.se == pytest.approx(np.std([0.1, 0.3, 0.2, 0.2]) / 2, rel=0.1)
    (same,) = stats.paired_macro_difference(a, a)
    assert (same.delta, same.p, same.d, same.se) == (0.0, 1.0, 0.0, 0.0)


def test_paired_difference_clusters_translations_by_question() -> None:
    """Translations of a question move together: copying each question into 3 settings must not shrink the SE."""
    rng = np.random.default_rng(1)
    a, b = rng.uniform(size=(80, 1, 1)), rng.uniform(size=(80, 1, 1))
    (one,) = stats.paired_macro_difference(a, b, n_boot=2000)
    (three,) = stats.paired_macro_difference(np.repeat(a, 3, axis=1), np.repeat(b, 3, axis=1), n_boot=2000)
    assert three.delta == pytest.approx(one.delta)
    assert three.se == pytest.approx(one.se, rel=1e-9)  # same resampled questions, same draws
    assert three.p == pytest.approx(one.p)
    # with missing cells the ratio form is used; the difference equals the difference of macro means
    a2, b2 = np.repeat(a, 3, axis=1), np.repeat(b, 3, axis=1)
    a2[::7, 1, 0] = np.nan
    (gap,) = stats.paired_macro_difference(a2, b2)
    b2m = b2.copy()
    b2m[np.isnan(a2)] = np.nan
    assert gap.delta == pytest.approx(stats.macro_mean(a2[..., 0]) - stats.macro_mean(b2m[..., 0]))


def test_seed_spread_and_average() -> None:
    x = np.stack([np.full((5, 2, 1), 0.5), np.full((5, 2, 1), 0.7)])
    assert stats.seed_spread(x)[0] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert np.isnan(stats.seed_spread(x[:1])[0])
    x[1, 0, 0, 0] = np.nan
    avg = stats.seed_average(x)
    assert avg[0, 0, 0] == pytest.approx(0.5) and avg[1, 1, 0] == pytest.approx(0.6)


def test_mde_with_t_quantiles() -> None:
    from scipy.stats import nct, t

    assert stats.mde(0.01, m=4, df=5) == pytest.approx((t.ppf(1 - 0.05 / 8, 5) + t.ppf(0.8, 5)) * 0.01, rel=1e-9)
    assert stats.mde(0.01, df=1e9) == pytest.approx(stats.mde(0.01), rel=1e-6)  # t -> normal
    # the approximation's power at its own MDE (exact: noncentral t) is close to 0.8 even at small df
    df, se = 6.0, 1.0
    crit = t.ppf(1 - 0.025, df)
    shift = stats.mde(se, df=df) / se
    assert nct.sf(crit, df, shift) + nct.cdf(-crit, df, shift) == pytest.approx(0.8, abs=0.03)
    with pytest.raises(ValueError):
        stats.mde(1.0, df=0)


def _question_result(delta: float, se: float, n_questions: int = 500) -> stats.PairedResult:
    return stats.PairedResult(delta, delta - 2 * se, delta + 2 * se, se, 0.5, 0.1, n_questions)


def test_seed_aware_is_welch_on_seed_means_without_question_variance() -> None:
    """With no question variance the test is Welch's t-test on the seed means (scipy as the reference)."""
    from scipy.stats import ttest_ind

    a, b = np.array([0.551, 0.545, 0.557]), np.array([0.541, 0.536, 0.540, 0.548])
    r = stats.seed_aware_difference(
        _question_result(a.mean() - b.mean(), 0.0), a.std(ddof=1), a.size, b.std(ddof=1), b.size
    )
    ref = ttest_ind(a, b, equal_var=False)
    assert r.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.df == pytest.approx(ref.df, rel=1e-9)
    ci = ref.confidence_interval(0.95)
    assert (r.low, r.high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r.se_questions == 0.0 and r.se == pytest.approx(r.se_seeds)


def test_seed_aware_hand_case_and_limits() -> None:
    from scipy.stats import norm, t

    # se_q = .003 (500 questions), seed SDs .004 and .005 over 3 seeds each
    r = stats.seed_aware_difference(_question_result(0.01, 0.003), 0.004, 3, 0.005, 3)
    c_q, c_a, c_b = 0.003**2, 0.004**2 / 3, 0.005**2 / 3
    assert r.se == pytest.approx(np.sqrt(c_q + c_a + c_b))
    assert r.df == pytest.approx((c_q + c_a + c_b) ** 2 / (c_q**2 / 499 + c_a**2 / 2 + c_b**2 / 2))
    assert r.se_seeds == pytest.approx(np.sqrt(c_a + c_b))
    assert r.low < 0.01 < r.high and r.high - 0.01 == pytest.approx(0.01 - r.low)
    # seed spread 0: a large-df test on the question SE, close to the normal test
    flat = stats.seed_aware_difference(_question_result(0.01, 0.004), 0.0, 3, 0.0, 3)
    assert flat.df == pytest.approx(499) and flat.p == pytest.approx(2 * t.sf(2.5, 499), rel=1e-9)
    assert flat.p == pytest.approx(2 * norm.sf(2.5), rel=0.05)
    # adding seed variance can only widen the interval and raise p
    assert r.p > stats.seed_aware_difference(_question_result(0.01, 0.003), 0.0, 3, 0.0, 3).p
    assert stats.seed_aware_difference(_question_result(0.0, 0.0), 0.0, 2, 0.0, 2).p == 1.0
    with pytest.raises(ValueError, match="2 seeds"):
        stats.seed_aware_difference(_question_result(0.01, 0.003), 0.004, 1, 0.005, 3)


def test_seed_aware_test_holds_its_level_where_the_question_test_does_not() -> None:
    """Two recipes with the same true mean whose seeds scatter (SD .01 of the macro mean) on 60 questions:
    the question-level test treats one seed draw as the truth and rejects far too often; the seed-aware test
    stays near its 5% level. 300 simulated studies of 3 seeds per arm."""
    rng = np.random.default_rng(7)
    q, k, sims = 60, 3, 300
    reject_q = reject_s = 0
    for i in range(sims):
        difficulty = rng.uniform(0.2, 0.8, size=(q, 2, 1))  # shared question effects, 2 settings
        # each arm: its seeds shift the whole macro mean (SD .01) plus per-cell noise (SD .05)
        sa, sb = (
            difficulty[None] + rng.normal(0, 0.01, size=(k, 1, 1, 1)) + rng.normal(0, 0.05, size=(k, q, 2, 1))
            for _ in range(2)
        )
        (diff,) = stats.paired_macro_difference(
            stats.seed_average(sa), stats.seed_average(sb), n_boot=200, n_perm=200, seed=i
        )
        r = stats.seed_aware_difference(diff, stats.seed_spread(sa)[0], k, stats.seed_spread(sb)[0], k)
        reject_q += diff.p <= 0.05
        reject_s += r.p <= 0.05
    assert reject_q / sims > 0.3
    assert reject_s / sims < 0.09


def test_seed_aware_mde_matches_the_test_and_seeds_needed() -> None:
    # the MDE equals mde() at the SE and df the test itself computes for equal seed SDs
    r = stats.seed_aware_difference(_question_result(0.0, 0.003, 800), 0.005, 3, 0.005, 3)
    assert stats.seed_aware_mde(0.003, 800, 0.005, 3, m=8) == pytest.approx(stats.mde(r.se, m=8, df=r.df), rel=1e-12)
    # more seeds: smaller MDE; the smallest k reaching a target is found, and nothing reaches a target below the
    # question SE's own MDE
    values = [stats.seed_aware_mde(0.001, 800, 0.005, k, m=8) for k in (2, 3, 5, 10, 30)]
    assert values == sorted(values, reverse=True)
    k = stats.seeds_for_mde(0.01, 0.001, 800, 0.005, m=8)
    assert stats.seed_aware_mde(0.001, 800, 0.005, k, m=8) <= 0.01 < stats.seed_aware_mde(0.001, 800, 0.005, k - 1, m=8)
    assert stats.seeds_for_mde(0.01, 0.004, 800, 0.005, m=8) is None  # mde(.004, m=8) > .01 already
    with pytest.raises(ValueError):
        stats.seed_aware_mde(0.001, 800, 0.005, 1)


def test_seed_aware_interval_is_the_t_interval_of_seed_means_without_question_variance() -> None:
    from scipy.stats import t

    seeds = np.array([0.50, 0.52, 0.55])
    per_seed = np.stack([np.full((30, 4, 1), v) for v in seeds])  # every question scores the seed's value
    (iv,) = stats.seed_aware_interval(stats.seed_average(per_seed), stats.seed_spread(per_seed), 3, n_boot=200)
    low, high = t.interval(0.95, 2, loc=seeds.mean(), scale=seeds.std(ddof=1) / np.sqrt(3))
    assert (iv.value, iv.low, iv.high) == pytest.approx((seeds.mean(), low, high), rel=1e-9)
    # one seed: the question-level percentile interval
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(40, 3, 2))
    one = stats.seed_aware_interval(x, np.full(2, np.nan), 1, n_boot=300)
    assert one == stats.macro_bootstrap(x, n_boot=300)
    # seed variance widens the question interval
    wide = stats.seed_aware_interval(x, np.full(2, 0.02), 3, n_boot=300)
    assert all(w.high - w.low > o.high - o.low for w, o in zip(wide, one, strict=True))
