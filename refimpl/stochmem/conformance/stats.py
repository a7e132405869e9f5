"""Exact binomial bounds for statistical tests (no normal approximation where N is small).

Shared by the conformance suite and the project's own tests.
"""

from __future__ import annotations

import math

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
