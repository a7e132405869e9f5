"""The power of the conformance suite's statistical tests: the smallest deviation each one detects at its alpha.

    python -m stochmem.conformance.power

prints the table that ``docs/howto/conformance.md`` shows. "Detects" means: a backend off by this much fails the
test at least half the time (a backend off by twice as much fails it almost always). Every figure is computed
from the test's own sample size and alpha (scipy.stats), so the table follows the suite when either changes.
"""

from __future__ import annotations

import math

from stochmem.conformance import test_1_streams as streams
from stochmem.conformance import test_3_model as model
from stochmem.conformance import test_4_device as devices
from stochmem.conformance.stats import FAMILY_ALPHA, detectable_sd_ratio, mean_resolution_of


def probability_resolution(bits: int, p: float, alpha: float) -> float:
    """The smallest |p' - p| a count of ones in ``bits`` bits detects at two-sided ``alpha`` (normal approximation,
    accurate at these sizes): z_(alpha/2) sqrt(p (1 - p) / bits)."""
    from scipy import stats

    return float(stats.norm.isf(alpha / 2) * math.sqrt(p * (1 - p) / bits))


def mean_resolution(samples: int, sigma: float, alpha: float) -> float:
    """The smallest |mean| of N(mean, sigma) noise detected from ``samples`` draws at two-sided ``alpha``."""
    from scipy import stats

    return float(stats.norm.isf(alpha / 2) * sigma / math.sqrt(samples))


def rows() -> list[tuple[str, str, str, str]]:
    """(test, sample, alpha, smallest deviation detected)."""
    out = []
    bits = streams.LONG_STREAMS * streams.LONG_BITS
    alpha = FAMILY_ALPHA / len(streams.LONG_PROBABILITIES)
    for p in streams.LONG_PROBABILITIES:
        delta = probability_resolution(bits, p, alpha)
        out.append((f"`test_spec_1_2_long_streams_resolve_the_probability[{p}]`", f"{bits:,} bits", f"{alpha:.2g}",
                    f"p off by {delta:.5f} ({100 * delta / p:.2f} % of p)"))
    noise_alpha = FAMILY_ALPHA / (3 * len(devices.NOISE_CASES))
    lo, hi = detectable_sd_ratio(devices.NOISE_SAMPLES, noise_alpha)
    out.append(("`test_spec_4_3_programming_noise_mean_and_spread` (each case)",
                f"{devices.NOISE_SAMPLES:,} events", f"{noise_alpha:.2g}",
                f"sigma off by {100 * (1 - lo):.1f} % (too small) or {100 * (hi - 1):.1f} % (too large); a mean of "
                f"{mean_resolution(devices.NOISE_SAMPLES, 1.0, noise_alpha):.4f} sigma"))
    reset_alpha = FAMILY_ALPHA / 2
    lo, hi = detectable_sd_ratio(devices.NOISE_SAMPLES, reset_alpha)
    out.append(("`test_spec_4_5_reset_noise_mean_and_spread`", f"{devices.NOISE_SAMPLES:,} resets",
                f"{reset_alpha:.2g}", f"sigma off by {100 * (1 - lo):.1f} % or {100 * (hi - 1):.1f} %; a mean of "
                f"{mean_resolution(devices.NOISE_SAMPLES, 1.0, reset_alpha):.4f} sigma"))
    out += gradient_rows()
    return out


def gradient_rows() -> list[tuple[str, str, str, str]]:
    """The relative error in E[update] that the train_step gradient test resolves, worst column, per kind."""
    from stochmem.plugins import default_host

    reference = default_host().get("reference")
    alpha = FAMILY_ALPHA / 4
    out = []
    for kind in ("stochastic", "memristive"):
        config, start = model.gradient_start(kind)
        expected = model.float_gradient_step(reference, start, 2)
        slots = model.GRADIENT_STEPS * config.bit_length
        worst = max(mean_resolution_of(slots, variance, alpha) / mean
                    for mean, variance in model.column_slot_moments(config, expected))
        out.append((f"`test_spec_3_8_train_step_moves_weights_by_the_float_gradient_in_expectation[{kind}]`",
                    f"{model.GRADIENT_STEPS:,} steps x BL {config.bit_length}", f"{alpha:.2g}",
                    f"E[update] off by {100 * worst:.1f} % (worst of 4 columns)"))
    return out


def table() -> str:
    lines = ["| test | sample | alpha | detects |", "| --- | --- | --- | --- |"]
    lines += [f"| {test} | {sample} | {alpha} | {detects} |" for test, sample, alpha, detects in rows()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
