"""The statistical checker itself: its false-alarm rate is at most nominal (slow; tox -e slow)."""

from __future__ import annotations

import random

import pytest

from stochmem.conformance.stats import assert_binomial, binomial_interval


@pytest.mark.parametrize(("n", "p"), [(10, 0.3), (100, 0.5), (37, 0.02), (400, 0.9)])
def test_interval_covers_at_least_one_minus_alpha(n, p):
    """Exact coverage from the pmf: P(lo <= X <= hi) >= 1 - alpha."""
    import math

    alpha = 0.01
    lo, hi = binomial_interval(n, p, alpha)
    coverage = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(lo, hi + 1))
    assert coverage >= 1 - alpha


@pytest.mark.slow
@pytest.mark.parametrize(("n", "p"), [(10, 0.3), (100, 0.5), (37, 0.02)])
def test_false_alarm_rate_is_at_most_nominal(n, p):
    """20,000 true Binomial(n, p) samples checked at alpha = 0.01: alarms stay within the binomial bound of
    20,000 x 0.01 (checked itself at alpha = 1e-9), so the checker is not more trigger-happy than it says."""
    rng = random.Random(12345)
    trials, alpha = 20_000, 0.01
    alarms = 0
    for _ in range(trials):
        count = sum(rng.random() < p for _ in range(n))
        try:
            assert_binomial(count, n, p, alpha, "meta")
        except AssertionError:
            alarms += 1
    _, hi = binomial_interval(trials, alpha, 1e-9)
    assert alarms <= hi, f"{alarms} false alarms in {trials} trials at alpha = {alpha}"


def test_binomial_interval_is_tight():
    """The interval is the smallest with tails <= alpha/2: one step inward on either side breaks the guarantee,
    and it never degenerates to (0, n)."""
    import math

    n, p, alpha = 200, 0.4, 1e-3
    lo, hi = binomial_interval(n, p, alpha)
    assert 0 < lo < hi < n
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    assert sum(pmf[:lo]) <= alpha / 2 < sum(pmf[: lo + 1])
    assert sum(pmf[hi + 1:]) <= alpha / 2 < sum(pmf[hi:])


def test_gof_rejects_the_right_mean_with_the_wrong_spread():
    from stochmem.conformance.stats import assert_binomial_distribution

    with pytest.raises(AssertionError, match="do not follow Binomial"):
        assert_binomial_distribution([5] * 2000, 10, 0.5, 1e-9, "no spread")  # mean right, variance 0
    with pytest.raises(AssertionError, match="do not follow Binomial"):
        assert_binomial_distribution([0, 10] * 1000, 10, 0.5, 1e-9, "too much spread")


def test_sd_check_accepts_its_interval_and_rejects_just_outside():
    from stochmem.conformance.stats import assert_standard_deviation, detectable_sd_ratio

    m, alpha = 60_000, 1e-9
    lo, hi = detectable_sd_ratio(m, alpha)
    base = [(-1.0) ** k for k in range(m)]  # mean 0, sd ~1 exactly: rescale to any sd we like
    scale = (sum(x * x for x in base) / (m - 1)) ** -0.5
    for ratio, ok in ((1.0, True), (lo * 1.001, True), (hi * 0.999, True), (lo * 0.99, False), (hi * 1.01, False)):
        sample = [ratio * scale * x for x in base]
        if ok:
            assert_standard_deviation(sample, 1.0, alpha, "inside")
        else:
            with pytest.raises(AssertionError, match="standard deviation"):
                assert_standard_deviation(sample, 1.0, alpha, "outside")
    assert 0.97 < lo < 1 < hi < 1.03, "60,000 samples resolve a few percent of sigma"


@pytest.mark.parametrize(("n", "p"), [(10, 0.3), (100, 0.5), (37, 0.9)])
def test_gof_false_alarm_rate_is_at_most_nominal(n, p):
    """400 samples of 2,000 true Binomial(n, p) counts (numpy's generator, fixed seed) checked at alpha = 0.05:
    the alarms stay within the binomial bound of 400 x 0.05 (itself at alpha = 1e-9)."""
    import numpy as np

    from stochmem.conformance.stats import binomial_gof_pvalue

    rng = np.random.default_rng(2026)
    trials, alpha = 400, 0.05
    alarms = sum(binomial_gof_pvalue(rng.binomial(n, p, 2000).tolist(), n, p) <= alpha for _ in range(trials))
    _, hi = binomial_interval(trials, alpha, 1e-9)
    assert alarms <= hi, f"{alarms} false alarms in {trials} trials at alpha = {alpha}"


def test_the_docs_power_table_is_the_computed_one():
    from stochmem.conformance.power import table

    from .conftest import REPO_ROOT

    assert table() in (REPO_ROOT / "docs" / "howto" / "conformance.md").read_text()


def test_mean_check_accepts_its_interval_and_rejects_just_outside():
    from stochmem.conformance.stats import assert_mean, mean_resolution_of

    samples, mean, variance, alpha = 64_000, 2.0, 3.0, 1e-9
    shift = mean_resolution_of(samples, variance, alpha)
    assert 0.0 < shift < 0.05, "64,000 draws of variance 3 resolve a shift of a few hundredths"
    for offset, ok in ((0.0, True), (0.999 * shift, True), (-0.999 * shift, True), (1.01 * shift, False),
                       (-1.01 * shift, False)):
        total = samples * (mean + offset)
        if ok:
            assert_mean(total, samples, mean, variance, alpha, "inside")
        else:
            with pytest.raises(AssertionError, match="expected 2"):
                assert_mean(total, samples, mean, variance, alpha, "outside")


META_SEEDS = 20


@pytest.mark.slow
def test_statistical_tier_raises_no_false_alarm_under_many_seeds():
    """The statistical tier run against an exact backend (numpy, bit-identical to the reference, so its alarms are
    the reference's) under META_SEEDS run seeds. Each test module splits FAMILY_ALPHA = 1e-9 over its checks, so
    a run's false-alarm rate is below 1e-8 and 20 runs should see none; a test whose true false-alarm rate were a
    few percent (a miscalibrated bound, a sample that is not what its test assumes) shows here."""
    import subprocess
    import sys

    alarms = {}
    for salt in range(1, META_SEEDS + 1):
        result = subprocess.run([sys.executable, "-m", "stochmem.cli", "conform", "numpy", "-m", "statistical",
                                 "-q", "-p", "no:randomly", "--stochmem-seed", str(salt)],
                                capture_output=True, text=True, timeout=900)
        failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
        assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
        assert "passed" in result.stdout.splitlines()[-1], result.stdout[-2000:]
        if failed:
            alarms[salt] = failed
    assert not alarms, f"false alarms of the statistical tier on an exact backend: {alarms}"
