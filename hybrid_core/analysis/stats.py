"""Confidence intervals and paired significance tests over queries.

Two levels:

- plain arrays (one value per query): :func:`bootstrap_ci` (percentile bootstrap of the mean) and
  :func:`paired_permutation_test` (paired randomisation / sign-flip test, two-sided);
- macro averages over settings (LAReQA reports the mean over queries within a setting, then the mean
  over settings): :func:`macro_bootstrap` and :func:`macro_permutation_test` resample or sign-flip
  whole *questions* (all translations and settings of one question together), because the settings
  share questions and are not independent.

The test is the paired randomisation test of Fisher (1935) as recommended for IR by Smucker, Allan &
Carterette (CIKM 2007): under the null the two systems are exchangeable for each question, so the sign
of each question's difference is flipped at random; the p-value is ``(1 + #|T*| >= |T|) / (1 + n)``
(Phipson & Smyth 2010), never zero. Confidence intervals are percentile bootstrap intervals.

Families of comparisons are corrected with Holm (1979) or Benjamini & Hochberg (1995) (:func:`adjust`).
:func:`paired_macro_difference` gives, for one comparison, the mean paired difference with its
bootstrap CI and standard error, the p-value, a standardised effect size (Cohen's d_z over questions)
and the minimum detectable effect (:func:`mde`): at power 1 - beta and two-sided level alpha' (Holm's
first threshold alpha / m for a family of m), a true difference is detected when it exceeds
``(z_{1-alpha'/2} + z_{1-beta}) * SE`` (about 2.8 SE at alpha' = .05 and 80% power).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

#: Resamples / sign flips used by default: enough for a 95% CI and p-values down to 1e-3.
N_BOOT = 1000
N_PERM = 2000
LEVEL = 0.95

TEST_NAME = "paired randomisation (sign-flip) test over questions, two-sided"


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile confidence interval."""

    value: float
    low: float
    high: float


def bootstrap_ci(values: np.ndarray, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0) -> Interval:
    """Mean of ``values`` (NaNs dropped) with a percentile bootstrap CI.

    Example: ``bootstrap_ci(np.ones(5))`` -> Interval(1.0, 1.0, 1.0).
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return Interval(np.nan, np.nan, np.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(x.mean()), float(lo), float(hi))


def paired_permutation_test(a: np.ndarray, b: np.ndarray, n_perm: int = N_PERM, seed: int = 0) -> float:
    """Two-sided p-value of the paired randomisation test that ``mean(a - b) == 0``.

    Pairs with a NaN on either side are dropped. Identical arrays give p = 1. The exact test is
    used when ``2**n <= n_perm`` (all sign patterns enumerated), else ``n_perm`` random flips.
    Example: a = [1, 2], b = [0, 0] -> sign patterns give means 1.5, 0.5, -0.5, -1.5; two of four
    reach |1.5| -> p = 0.5.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired test needs equal shapes, got {a.shape} and {b.shape}")
    d = a - b
    d = d[~np.isnan(d)]
    if d.size == 0 or not np.any(d):
        return 1.0
    observed = abs(d.mean())
    if 2**d.size <= n_perm:
        signs = 1 - 2 * ((np.arange(2**d.size)[:, None] >> np.arange(d.size)) & 1)
        stats = np.abs(signs @ d / d.size)
        return float(np.mean(stats >= observed - 1e-12))
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_perm, d.size))
    stats = np.abs(signs @ d / d.size)
    return float((1 + np.sum(stats >= observed - 1e-12)) / (1 + n_perm))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs kept as NaN). Example: [0.01, 0.04] -> [0.02, 0.04]."""
    return _adjusted(p_values, lambda p, m: np.maximum.accumulate(p * (m - np.arange(m))))


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values (q-values), NaNs kept; equals scipy's
    ``false_discovery_control(p, method="bh")``. Example: [0.01, 0.04, 0.03] -> [0.03, 0.04, 0.04].
    """
    return _adjusted(p_values, lambda p, m: np.minimum.accumulate((p * m / np.arange(1, m + 1))[::-1])[::-1])


def _adjusted(p_values: np.ndarray, step) -> np.ndarray:
    """A step-wise correction: ``step(sorted p, m)`` on the m non-NaN p-values in ascending order, capped at 1;
    NaNs stay NaN and every value returns to its own position."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    out[order] = np.minimum(1.0, step(p[order], ok.size))
    return out


#: Corrections for a family of comparisons, by the name tables state.
CORRECTIONS = {"holm": "Holm (1979)", "bh": "Benjamini-Hochberg (1995)"}


def adjust(p_values: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family: ``"holm"`` (family-wise error) or ``"bh"`` (false discovery rate)."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    raise ValueError(f"unknown correction {method!r}; use one of {sorted(CORRECTIONS)}")


def mde(se: float, m: int = 1, alpha: float = 0.05, power: float = 0.8, df: float = np.inf) -> float:
    """Minimum detectable effect of a two-sided test at level ``alpha / m`` with ``power``, given the SE.

    ``(z_{1 - alpha/(2m)} + z_{power}) * se``; e.g. ``mde(1.0)`` = 1.960 + 0.842 = 2.802. With ``m``
    comparisons under Holm the first (smallest) p-value is tested at ``alpha / m``, the strictest
    threshold, so this is the effect every comparison in the family can detect. For a t-test with ``df``
    degrees of freedom the quantiles are Student's t (the usual approximation of the noncentral t's power).
    """
    if m < 1 or not 0 < alpha < 1 or not 0 < power < 1 or not df > 0:
        raise ValueError(
            f"need m >= 1, 0 < alpha < 1, 0 < power < 1, df > 0; got m={m}, alpha={alpha}, power={power}, df={df}"
        )
    if np.isfinite(df):
        from scipy.stats import t

        return float((t.ppf(1 - alpha / (2 * m), df) + t.ppf(power, df)) * se)
    z = NormalDist().inv_cdf
    return float((z(1 - alpha / (2 * m)) + z(power)) * se)


# --- macro averages over settings, resampling whole questions --------------------------------------


def macro_mean(values: np.ndarray) -> float:
    """Mean over settings of the mean over questions; ``values`` is (questions, settings) with NaN gaps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_setting = np.nanmean(values, axis=0) if values.size else np.array([])
    per_setting = per_setting[~np.isnan(per_setting)]
    return float(per_setting.mean()) if per_setting.size else float("nan")


def _weighted_macro(weights: np.ndarray, values: np.ndarray, counts_from_weights: bool = True) -> np.ndarray:
    """Macro mean for each row of ``weights`` (B, Q) over ``values`` (Q, S, M) -> (B, M).

    With ``counts_from_weights`` a setting's mean divides by the weighted question count (bootstrap);
    otherwise by the plain count (sign flips keep every question, only its sign changes).
    """
    mask = ~np.isnan(values)
    q, s, m = values.shape
    filled = np.where(mask, values, 0.0).reshape(q, s * m)
    num = (weights @ filled).reshape(-1, s, m)
    den_w = weights if counts_from_weights else np.ones((1, q))
    den = (den_w @ mask.reshape(q, s * m).astype(np.float64)).reshape(-1, s, m)
    per_setting = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN metric (e.g. no rank distance)
        return np.nanmean(per_setting, axis=1)


def macro_means(values: np.ndarray) -> np.ndarray:
    """Macro mean of each metric of ``values`` (questions, settings, metrics) -> (metrics,)."""
    values = np.asarray(values, dtype=np.float64)
    return _weighted_macro(np.ones((1, values.shape[0])), values)[0]


def question_contributions(values: np.ndarray) -> np.ndarray:
    """Per-question share of the macro mean when every setting keeps its question count: (Q, M).

    The macro mean is ``(1/S') sum_s (1/n_s) sum_q v_qs`` (``n_s`` questions in setting ``s``, ``S'``
    settings with any question), which is linear in the questions: ``sum_q c_q`` with
    ``c_q = (1/S') sum_s v_qs / n_s``. Flipping a question's sign, or (with no missing cells) drawing it
    ``w`` times, scales its ``c_q``; so resamples become one small matrix product instead of S * M ratios.
    """
    mask = ~np.isnan(values)
    n_s = mask.sum(axis=0)  # (S, M)
    n_settings = (n_s > 0).sum(axis=0)  # (M,)
    share = np.where(mask, values, 0.0) / np.maximum(n_s, 1)[None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return share.sum(axis=1) / np.where(n_settings > 0, n_settings, np.nan)


def resample_counts(n: int, n_boot: int, seed: int = 0) -> np.ndarray:
    """(n_boot, n) how often each of ``n`` items is drawn in each bootstrap resample (rows sum to ``n``)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n)) + n * np.arange(n_boot)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def macro_bootstrap_draws(values: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """(n_boot, metrics) macro means of question-level bootstrap resamples of ``values`` (Q, S, M).

    Each resample draws questions with replacement (all their settings together) and recomputes the
    mean per setting and then over settings, exactly as the point estimate is computed. Metrics with
    no missing cell take the linear shortcut of :func:`question_contributions` (every setting's count
    is then the number of draws, ``Q``); the others the ratio form (:func:`_weighted_macro`).
    """
    values = np.asarray(values, dtype=np.float64)
    q, _, m = values.shape
    counts = resample_counts(q, n_boot, seed)
    boot = np.full((n_boot, m), np.nan)
    complete = ~np.isnan(values).any(axis=(0, 1))
    if complete.any():
        boot[:, complete] = counts @ question_contributions(values[..., complete])
    if (~complete).any():
        boot[:, ~complete] = _weighted_macro(counts, values[..., ~complete])
    return boot


def _percentiles(boot: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    m = boot.shape[1]
    if not boot.shape[0]:
        return np.full(m, np.nan), np.full(m, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(boot, (1 - level) / 2, axis=0), np.nanquantile(boot, (1 + level) / 2, axis=0)


def macro_bootstrap(values: np.ndarray, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0) -> list[Interval]:
    """Macro means of ``values`` (questions, settings, metrics) with question-level bootstrap CIs."""
    values = np.asarray(values, dtype=np.float64)
    point = macro_means(values)
    lo, hi = _percentiles(macro_bootstrap_draws(values, n_boot, seed), level)
    return [Interval(float(point[j]), float(lo[j]), float(hi[j])) for j in range(values.shape[2])]


def macro_permutation_test(a: np.ndarray, b: np.ndarray, n_perm: int = N_PERM, seed: int = 0) -> np.ndarray:
    """Paired randomisation test of macro(a) - macro(b), flipping the sign per question; one p per metric.

    ``a`` and ``b`` are (questions, settings, metrics), aligned; a cell missing on either side is
    dropped on both. Because a setting's mean divides by its fixed question count, flipping signs of
    question differences is exactly swapping the two systems' outputs for that question, and the
    statistic is ``|signs @ c|`` with ``c`` from :func:`question_contributions`.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired test needs equal shapes, got {a.shape} and {b.shape}")
    d = np.where(np.isnan(a) | np.isnan(b), np.nan, a - b)
    c = question_contributions(d)  # (Q, M)
    observed = np.abs(c.sum(axis=0))
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, size=(n_perm, d.shape[0])) * 2.0 - 1.0
    stats = np.abs(signs @ np.nan_to_num(c))
    p = (1 + np.sum(stats >= observed - 1e-12, axis=0)) / (1 + n_perm)
    same = np.nan_to_num(np.abs(d)).sum(axis=(0, 1)) == 0
    p = np.where(same, 1.0, p)
    return np.where(np.isnan(observed), np.nan, p)


# --- one paired comparison: effect, CI, SE, p, effect size, MDE -----------------------------------------


@dataclass(frozen=True)
class PairedResult:
    """macro(a) - macro(b) for one metric, paired over questions."""

    delta: float  # mean paired difference (of macro means)
    low: float  # 95% percentile bootstrap CI of delta (questions resampled)
    high: float
    se: float  # bootstrap standard error of delta
    p: float  # paired randomisation test, two-sided
    d: float  # standardised effect: Cohen's d_z of per-question mean differences
    n_questions: int


def paired_difference_tensor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a - b`` cell by cell, NaN where either side is missing (both sides then drop the cell)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs equal shapes, got {a.shape} and {b.shape}")
    return np.where(np.isnan(a) | np.isnan(b), np.nan, a - b)


def cohens_dz(d: np.ndarray) -> np.ndarray:
    """Per metric: mean / SD (ddof 1) of per-question differences (mean over a question's settings).

    The paired-samples standardised effect d_z (Cohen 1988); 0 when every difference is 0, NaN with
    fewer than two questions.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_q = np.nanmean(d, axis=1)  # (Q, M)
        out = np.full(d.shape[2], np.nan)
        for j in range(d.shape[2]):
            x = per_q[:, j][~np.isnan(per_q[:, j])]
            if x.size < 2:
                continue
            sd = x.std(ddof=1)
            out[j] = 0.0 if sd == 0 and x.mean() == 0 else (x.mean() / sd if sd > 0 else np.inf * np.sign(x.mean()))
    return out


def paired_macro_difference(
    a: np.ndarray,
    b: np.ndarray,
    n_boot: int = N_BOOT,
    n_perm: int = N_PERM,
    level: float = LEVEL,
    seed: int = 0,
) -> list[PairedResult]:
    """Compare two aligned (questions, settings, metrics) tensors; one :class:`PairedResult` per metric.

    The difference of macro means over the cells both sides have equals the macro mean of the
    cell-wise differences, so the bootstrap resamples questions of the difference tensor (translations
    and settings of a question move together) and its SD is the SE that :func:`mde` needs.
    """
    d = paired_difference_tensor(a, b)
    delta = macro_means(d)
    boot = macro_bootstrap_draws(d, n_boot, seed)
    lo, hi = _percentiles(boot, level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(boot, axis=0, ddof=1) if n_boot > 1 else np.full(d.shape[2], np.nan)
    p = macro_permutation_test(a, b, n_perm=n_perm, seed=seed)
    dz = cohens_dz(d)
    n_q = int((~np.isnan(d)).any(axis=(1, 2)).sum())
    return [
        PairedResult(float(delta[j]), float(lo[j]), float(hi[j]), float(se[j]), float(p[j]), float(dz[j]), n_q)
        for j in range(d.shape[2])
    ]


def seed_spread(per_seed_values: np.ndarray) -> np.ndarray:
    """SD (ddof 1) across seeds of the macro means: ``per_seed_values`` is (seeds, Q, S, M); NaN for 1 seed."""
    x = np.asarray(per_seed_values, dtype=np.float64)
    if x.shape[0] < 2:
        return np.full(x.shape[-1], np.nan)
    return np.stack([macro_means(v) for v in x]).std(axis=0, ddof=1)


def seed_average(per_seed_values: np.ndarray) -> np.ndarray:
    """Cell-wise mean over seeds (NaN only where every seed lacks the cell): tests run on this."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.asarray(per_seed_values, dtype=np.float64), axis=0)


# --- training-seed variance in the test ----------------------------------------------------------------


def satterthwaite(parts: list[tuple[float, float]]) -> tuple[float, float]:
    """Total variance of independent components ``(variance, degrees of freedom)`` and its Welch-Satterthwaite
    degrees of freedom ``(sum v)^2 / sum(v^2 / df)``; a part with df <= 0 adds variance only; inf when no part
    carries any (nothing estimated)."""
    var = sum(v for v, _ in parts)
    denom = sum(v**2 / d for v, d in parts if d > 0)
    return var, (var**2 / denom if denom > 0 else float("inf"))


TEST_NAME_SEEDS = (
    "Welch-Satterthwaite t-test whose variance adds each arm's between-seed variance of its macro mean / seeds "
    "to the question-bootstrap variance of the seed-averaged paired difference"
)


@dataclass(frozen=True)
class SeedAwareResult:
    """macro(a) - macro(b) for one metric, with training seeds and questions as the two sources of variance."""

    delta: float
    low: float  # delta -/+ t_{df, (1+level)/2} * se
    high: float
    se: float  # sqrt(se_questions^2 + se_seeds^2)
    p: float  # two-sided, Student's t with df degrees of freedom
    df: float  # Welch-Satterthwaite degrees of freedom
    se_questions: float  # the paired question-bootstrap SE (of the seed-averaged difference)
    se_seeds: float  # sqrt(sd_a^2 / k_a + sd_b^2 / k_b)


def seed_aware_difference(
    question: PairedResult,
    seed_sd_a: float,
    n_seeds_a: int,
    seed_sd_b: float,
    n_seeds_b: int,
    level: float = LEVEL,
) -> SeedAwareResult:
    """A paired question-level comparison widened by the training-seed variance of both arms.

    A difference between two training recipes must hold for new seeds as well as new questions. Each arm's
    seed-to-seed SD of its macro mean (on the same questions, :func:`seed_spread`) measures the first, the
    question bootstrap SE of the seed-averaged difference (:func:`paired_macro_difference`) the second, so
    ``se^2 = se_q^2 + sd_a^2 / k_a + sd_b^2 / k_b`` and the test is Welch's (1947) t with Satterthwaite's
    (1946) degrees of freedom ``se^4 / (se_q^4 / (n_q - 1) + (sd_a^2/k_a)^2 / (k_a - 1) + (sd_b^2/k_b)^2 /
    (k_b - 1))``. With se_q = 0 it is exactly Welch's t-test on the seed means; with the seed SDs at 0 it is a
    z-like test on the question SE. The seed × question interaction enters both terms, so the variance is
    slightly conservative. Needs at least two seeds per arm.
    """
    from scipy.stats import t

    if n_seeds_a < 2 or n_seeds_b < 2:
        raise ValueError(f"the seed-aware test needs >= 2 seeds per arm, got {n_seeds_a} and {n_seeds_b}")
    c_q = question.se**2 if np.isfinite(question.se) else 0.0
    c_a, c_b = seed_sd_a**2 / n_seeds_a, seed_sd_b**2 / n_seeds_b
    var, df = satterthwaite([(c_q, question.n_questions - 1), (c_a, n_seeds_a - 1), (c_b, n_seeds_b - 1)])
    se, df = float(np.sqrt(var)), float(df)
    delta = question.delta
    p = float(2 * t.sf(abs(delta) / se, df)) if se > 0 else float(delta == 0)
    half = float(t.ppf((1 + level) / 2, df) * se)
    return SeedAwareResult(delta, delta - half, delta + half, se, p, df, float(question.se), float(np.sqrt(c_a + c_b)))


def seed_aware_mde(
    se_questions: float,
    n_questions: int,
    seed_sd: float,
    n_seeds: int,
    m: int = 1,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """The MDE of :func:`seed_aware_difference` for two arms of ``n_seeds`` seeds each with seed SD ``seed_sd``:
    ``se^2 = se_q^2 + 2 sd^2 / k`` at its Welch-Satterthwaite degrees of freedom (t quantiles)."""
    if n_seeds < 2:
        raise ValueError(f"the seed-aware test needs >= 2 seeds per arm, got {n_seeds}")
    c = seed_sd**2 / n_seeds
    var, df = satterthwaite([(se_questions**2, n_questions - 1), (c, n_seeds - 1), (c, n_seeds - 1)])
    return mde(float(np.sqrt(var)), m=m, alpha=alpha, power=power, df=df)


def seeds_for_mde(
    target: float, se_questions: float, n_questions: int, seed_sd: float, m: int = 1, max_seeds: int = 200
) -> int | None:
    """The fewest seeds per arm (>= 2) whose :func:`seed_aware_mde` is <= ``target``; None when even
    ``max_seeds`` do not get there (the question SE alone then sets a floor above the target)."""
    for k in range(2, max_seeds + 1):
        if seed_aware_mde(se_questions, n_questions, seed_sd, k, m) <= target:
            return k
    return None


def seed_aware_interval(
    values: np.ndarray, seed_sd: np.ndarray, n_seeds: int, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0
) -> list[Interval]:
    """Macro means of a seed-averaged tensor (questions, settings, metrics) with intervals for the *recipe*: the
    question-bootstrap variance plus the seed variance ``seed_sd^2 / n_seeds``, Student's t at the
    Welch-Satterthwaite degrees of freedom, as in :func:`seed_aware_difference`. With one seed (no seed SD) the
    question-level percentile interval of :func:`macro_bootstrap`."""
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    if n_seeds < 2:
        return macro_bootstrap(values, n_boot=n_boot, level=level, seed=seed)
    point = macro_means(values)
    boot = macro_bootstrap_draws(values, n_boot, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se_q = np.nanstd(boot, axis=0, ddof=1)
    n_q = int((~np.isnan(values)).any(axis=(1, 2)).sum())
    out = []
    for j in range(values.shape[2]):
        var, df = satterthwaite([(se_q[j] ** 2, n_q - 1), (float(seed_sd[j]) ** 2 / n_seeds, n_seeds - 1)])
        half = float(t.ppf((1 + level) / 2, df) * np.sqrt(var)) if np.isfinite(var) else np.nan
        out.append(Interval(float(point[j]), float(point[j]) - half, float(point[j]) + half))
    return out
