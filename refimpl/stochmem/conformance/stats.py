"""Exact binomial bounds for statistical tests (no normal approximation where N is small).

Shared by the conformance suite and the project's own tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: The family-wise false-alarm rate every statistical test module splits over its checks.
FAMILY_ALPHA = 1e-9


def _log_pmf(k: int, n: int, p: float) -> float:
    if p == 0.0:
        return 0.0 if k == 0 else -math.inf
    if p == 1.0:
        return 0.0 if k == n else -math.inf
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def binomial_interval(n: int, p: float, alpha: float) -> tuple[int, int]:
    """The smallest [lo, hi] with P(X < lo) <= alpha/2 and P(X > hi) <= alpha/2 for X ~ Binomial(n, p).

    Computed from the exact pmf (in log space), so it is valid for any n and p.
    """
    pmf = [math.exp(_log_pmf(k, n, p)) for k in range(n + 1)]
    lower_tail, lo = 0.0, 0
    while lo < n and lower_tail + pmf[lo] <= alpha / 2:
        lower_tail += pmf[lo]
        lo += 1
    upper_tail, hi = 0.0, n
    while hi > 0 and upper_tail + pmf[hi] <= alpha / 2:
        upper_tail += pmf[hi]
        hi -= 1
    return lo, hi


def assert_binomial(count: int, n: int, p: float, alpha: float, what: str) -> None:
    """Fail, naming ``what``, if ``count`` is outside the exact two-sided (1 - alpha) binomial interval."""
    lo, hi = binomial_interval(n, p, alpha)
    assert lo <= count <= hi, (f"{what}: count {count} of {n} outside the exact binomial interval "
                               f"[{lo}, {hi}] for p = {p} at alpha = {alpha:.2g}")


def binomial_gof_pvalue(counts: Sequence[int], n: int, p: float) -> float:
    """Chi-square goodness of fit of ``counts`` to Binomial(n, p) (the whole shape: mean *and* spread).

    Outcomes are pooled from both tails inward until every bin expects at least 5 counts, as the chi-square
    approximation needs; returns the p-value (scipy.stats.chisquare).
    """
    from scipy import stats

    expected_pmf = stats.binom.pmf(range(n + 1), n, p)
    observed = [0] * (n + 1)
    for count in counts:
        observed[count] += 1
    total = len(counts)
    bins_observed: list[float] = []
    bins_expected: list[float] = []
    pending_observed, pending_expected = 0.0, 0.0
    for k in range(n + 1):
        pending_observed += observed[k]
        pending_expected += total * expected_pmf[k]
        if pending_expected >= 5:
            bins_observed.append(pending_observed)
            bins_expected.append(pending_expected)
            pending_observed, pending_expected = 0.0, 0.0
    if bins_expected:
        bins_observed[-1] += pending_observed
        bins_expected[-1] += pending_expected
    if len(bins_expected) < 2:
        return 1.0  # a single bin: nothing to test (p near 0 or 1 with few streams)
    scale = sum(bins_observed) / sum(bins_expected)  # removes float rounding of the pmf's sum
    return float(stats.chisquare(bins_observed, [e * scale for e in bins_expected]).pvalue)


def assert_binomial_distribution(counts: Sequence[int], n: int, p: float, alpha: float, what: str) -> None:
    """Fail, naming ``what``, if the counts do not follow Binomial(n, p) at level ``alpha`` (chi-square)."""
    pvalue = binomial_gof_pvalue(counts, n, p)
    mean = sum(counts) / len(counts)
    variance = sum((c - mean) ** 2 for c in counts) / max(1, len(counts) - 1)
    assert pvalue > alpha, (f"{what}: the counts of {len(counts)} streams do not follow Binomial({n}, {p:.6g}) "
                            f"(chi-square p = {pvalue:.3g} <= alpha = {alpha:.2g}); their mean is {mean:.4g} "
                            f"(expected {n * p:.4g}), their variance {variance:.4g} (expected {n * p * (1 - p):.4g})")


def assert_standard_deviation(sample: Sequence[float], sigma: float, alpha: float, what: str) -> None:
    """Fail, naming ``what``, if a normal sample's spread is not ``sigma`` at level ``alpha``.

    Exact test for normal data: (m - 1) s^2 / sigma^2 ~ chi-square(m - 1), two-sided.
    """
    from scipy import stats

    m = len(sample)
    mean = sum(sample) / m
    statistic = sum((x - mean) ** 2 for x in sample) / sigma**2
    lo, hi = stats.chi2.ppf(alpha / 2, m - 1), stats.chi2.isf(alpha / 2, m - 1)
    sd = math.sqrt(statistic / (m - 1)) * sigma
    assert lo <= statistic <= hi, (f"{what}: standard deviation {sd:.5g}, expected {sigma:.5g} "
                                   f"(ratio {sd / sigma:.4f} outside [{math.sqrt(lo / (m - 1)):.4f}, "
                                   f"{math.sqrt(hi / (m - 1)):.4f}] at alpha = {alpha:.2g}, {m} samples)")


def detectable_sd_ratio(m: int, alpha: float) -> tuple[float, float]:
    """The interval of sd/sigma that :func:`assert_standard_deviation` accepts with ``m`` samples. A true ratio at
    either end is caught about half the time, and the farther outside, the surer (the power table in
    ``docs/howto/conformance.md`` quotes these)."""
    from scipy import stats

    lo, hi = stats.chi2.ppf(alpha / 2, m - 1), stats.chi2.isf(alpha / 2, m - 1)
    return math.sqrt(lo / (m - 1)), math.sqrt(hi / (m - 1))


def assert_mean(total: float, samples: int, mean: float, variance: float, alpha: float, what: str) -> None:
    """Fail, naming ``what``, if ``total`` (a sum of ``samples`` independent draws of known ``mean`` and
    ``variance``) is outside the two-sided (1 - alpha) normal interval. For sums of thousands of bounded
    draws, where the central limit theorem holds to far better than the test's resolution."""
    from scipy import stats

    z = float(stats.norm.isf(alpha / 2))
    half_width = z * math.sqrt(samples * variance)
    expected = samples * mean
    assert abs(total - expected) <= half_width, (
        f"{what}: mean {total / samples:.6g} per draw over {samples} draws, expected {mean:.6g} "
        f"(|difference| > {half_width / samples:.3g} = {z:.2f} standard errors, alpha = {alpha:.2g})")


def mean_resolution_of(samples: int, variance: float, alpha: float) -> float:
    """The smallest shift of the mean that :func:`assert_mean` detects (half the time) with these draws."""
    from scipy import stats

    return float(stats.norm.isf(alpha / 2)) * math.sqrt(variance / samples)
