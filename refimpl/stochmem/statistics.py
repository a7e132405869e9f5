"""Statistics over seeds: every reported accuracy of a setting is a mean with its spread and confidence interval.

Runs that differ only in their seed are independent samples of the same training procedure ([SPEC 2.2]: the seed
fixes every draw). Their accuracies are summarised by the mean, the sample standard deviation (n - 1) and a
Student-t confidence interval of the mean (``scipy.stats.t.interval``): with the 3 to 10 seeds a sweep affords,
the t interval is the honest one (a normal interval would be too narrow by a factor t_{0.975, n-1} / 1.96: 2.2 for
3 seeds). It assumes the seeds' accuracies are roughly normal, which the central limit theorem over 10,000 test
images makes a good approximation.

Two accuracies are summarised per run:

- the *final* accuracy (after the last epoch): the primary figure, chosen by nothing but the schedule;
- the *best-epoch* accuracy (the maximum over epochs): what the paper reports ("maximum test accuracy"), so it is
  the one to compare with the paper's numbers; it is optimistic, because the epoch is picked on the test set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """The mean of ``n`` values, their sample standard deviation and a confidence interval of the mean (the
    spread and the interval are NaN for a single value: one seed says nothing about the spread)."""

    n: int
    mean: float
    std: float
    low: float
    high: float
    confidence: float = CONFIDENCE

    def to_json(self) -> dict[str, Any]:
        return {key: (None if isinstance(value, float) and math.isnan(value) else value)
                for key, value in asdict(self).items()}

    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def describe(self, digits: int = 2) -> str:
        """``97.41 ± 0.12`` (the interval's half-width), or the bare mean for one value."""
        if self.n < 2:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.half_width():.{digits}f}"


def interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The :class:`Interval` of ``values`` (at least one)."""
    import numpy as np
    from scipy import stats

    if not values:
        raise ValueError("no values to summarise")
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if data.size < 2:
        return Interval(1, mean, math.nan, math.nan, math.nan, confidence)
    std = float(data.std(ddof=1))
    if std == 0.0:
        return Interval(int(data.size), mean, 0.0, mean, mean, confidence)
    low, high = stats.t.interval(confidence, data.size - 1, loc=mean, scale=std / math.sqrt(data.size))
    return Interval(int(data.size), mean, std, float(low), float(high), confidence)
