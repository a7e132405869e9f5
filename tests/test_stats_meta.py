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
