"""Conformance, chapter 4: the memristive pair."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from stochmem.backend_api import Backend
from stochmem.config import DeviceParams
from stochmem.conformance.plugin import Seeded
from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial, assert_standard_deviation
from stochmem.conformance.vectors_source import cases, draw_of
from stochmem.rng import Draw, Site

pytestmark = pytest.mark.groups("device")
SAMPLES = 4000
#: Noise spread: 60,000 events per case resolve a few percent of sigma (power table: docs/howto/conformance.md).
NOISE_SAMPLES = 60_000
LEVEL_TOLERANCE = 1e-9  # [SPEC 6.1]


@pytest.mark.statistical
@settings(max_examples=30, derandomize=True, deadline=None)
@given(sigma=st.sampled_from([0.0, 0.1, 0.5, 2.0]), mode=st.sampled_from(["event", "pulse"]),
       levels=st.integers(2, 64), seed=st.integers(0, 2**64 - 1),
       pulses=st.lists(st.integers(0, 10), min_size=1, max_size=25))
def test_spec_4_4_bounded_and_never_decreasing(backend: Backend, seeded: Seeded, sigma: float, mode: str, levels: int,
                                               seed: int,
                                               pulses: list[int]) -> None:
    params = DeviceParams(levels=levels, sigma=sigma, noise_mode=mode)  # type: ignore[arg-type]
    g = [0.0] * 8
    for step, n in enumerate(pulses):
        after = backend.program(g, [n] * 8, list(range(8)), params, Draw(seeded(seed), Site.PROGRAM_NOISE, step), 10)
        for before_level, after_level in zip(g, after):
            assert 0.0 <= after_level <= levels - 1, f"[SPEC 4.4] level {after_level} outside [0, {levels - 1}]"
            assert after_level >= before_level, "[SPEC 4.4] a device lost conductance between resets"
        g = after


@pytest.mark.statistical
def test_spec_4_2_noiseless_programming_stays_on_the_grid(backend: Backend, seeded: Seeded) -> None:
    params = DeviceParams(sigma=0.0)
    levels = [0.0, 5.0, 29.0, 31.0, 12.0]
    pulses = [3, 0, 7, 2, 10]
    after = backend.program(levels, pulses, list(range(5)), params, Draw(seeded(1), Site.PROGRAM_NOISE), 10)
    assert after == [3.0, 5.0, 31.0, 31.0, 22.0], "[SPEC 4.2, 4.3, 4.4] sigma=0 adds n levels, clipped at the top"


NOISE_CASES = [(0.1, "event"), (0.5, "event"), (0.3, "pulse")]


@pytest.mark.statistical
@pytest.mark.parametrize(("sigma", "mode"), NOISE_CASES)
def test_spec_4_3_programming_noise_mean_and_spread(backend: Backend, seeded: Seeded, sigma: float, mode: str) -> None:
    """n = 8 pulses from level 0 on a 1000-level device: increment - n has mean 0, sd sigma (x sqrt(n) per pulse)."""
    params = DeviceParams(levels=1000, sigma=sigma, noise_mode=mode)  # type: ignore[arg-type]
    n = 8
    after = backend.program([0.0] * NOISE_SAMPLES, [n] * NOISE_SAMPLES, list(range(NOISE_SAMPLES)), params,
                            Draw(seeded(5), Site.PROGRAM_NOISE, 9, 1), n)
    errors = [a - n for a in after]
    spread = sigma * (math.sqrt(n) if mode == "pulse" else 1.0)
    alpha = FAMILY_ALPHA / (3 * len(NOISE_CASES))
    mean = sum(errors) / NOISE_SAMPLES
    bound = stats.norm.isf(alpha / 2) * spread / math.sqrt(NOISE_SAMPLES)
    assert abs(mean) <= bound, f"[SPEC 4.3] programming noise has mean {mean:.3g} (|mean| must be <= {bound:.3g})"
    assert_standard_deviation(errors, spread, alpha, f"[SPEC 4.3] programming noise (sigma/B = {sigma}, {mode} mode)")
    assert_binomial(sum(e > 0 for e in errors), NOISE_SAMPLES, 0.5, alpha, "[SPEC 4.3] noise symmetric about 0")


@pytest.mark.statistical
def test_spec_4_5_noiseless_reset_preserves_every_weight(backend: Backend, seeded: Seeded) -> None:
    params = DeviceParams(sigma=0.0)
    g_plus = [5.0, 2.0, 4.0, 31.0, 0.0, 17.0]
    g_minus = [2.0, 9.0, 4.0, 0.0, 0.0, 30.0]
    new_plus, new_minus = backend.reset(g_plus, g_minus, list(range(6)), params, Draw(seeded(1), Site.RESET_NOISE))
    for k in range(6):
        assert new_plus[k] - new_minus[k] == g_plus[k] - g_minus[k], f"[SPEC 4.5] reset changed weight {k}"
        assert min(new_plus[k], new_minus[k]) == 0.0, f"[SPEC 4.5] reset left both devices of {k} above Gmin"


@pytest.mark.statistical
def test_spec_4_5_a_verified_reset_preserves_every_weight_despite_noise(backend: Backend, seeded: Seeded) -> None:
    """[SPEC 4.5] reset_write = verified: the difference is written back exactly, whatever sigma."""
    params = DeviceParams(sigma=2.0, reset_write="verified")
    g_plus = [5.0, 2.0, 4.0, 31.0, 0.0, 17.25]
    g_minus = [2.0, 9.0, 4.0, 0.0, 0.0, 30.5]
    new_plus, new_minus = backend.reset(g_plus, g_minus, list(range(6)), params, Draw(seeded(3), Site.RESET_NOISE))
    for k in range(6):
        assert new_plus[k] - new_minus[k] == g_plus[k] - g_minus[k], \
            f"[SPEC 4.5] a verified reset changed weight {k}: ({new_plus[k]}, {new_minus[k]}) from " \
            f"({g_plus[k]}, {g_minus[k]})"
        assert min(new_plus[k], new_minus[k]) == 0.0, f"[SPEC 4.5] reset left both devices of {k} above Gmin"


@pytest.mark.statistical
def test_spec_4_5_a_threshold_resets_only_pairs_near_saturation(backend: Backend, seeded: Seeded) -> None:
    """[SPEC 4.5] reset_threshold = 0.5 of top level 31: pairs whose larger device is below 15.5 keep both
    devices; the others are reset (one device at Gmin)."""
    params = DeviceParams(sigma=0.5, reset_threshold=0.5)
    g_plus = [15.0, 15.5, 3.0, 20.0, 15.4, 31.0]
    g_minus = [14.0, 2.0, 15.49, 20.0, 0.0, 30.0]
    new_plus, new_minus = backend.reset(g_plus, g_minus, list(range(6)), params, Draw(seeded(4), Site.RESET_NOISE))
    for k in range(6):
        if max(g_plus[k], g_minus[k]) < 15.5:
            assert (new_plus[k], new_minus[k]) == (g_plus[k], g_minus[k]), \
                f"[SPEC 4.5] pair {k} ({g_plus[k]}, {g_minus[k]}) is below the threshold 15.5 and must be spared, " \
                f"got ({new_plus[k]}, {new_minus[k]})"
        else:
            assert min(new_plus[k], new_minus[k]) == 0.0, \
                f"[SPEC 4.5] pair {k} ({g_plus[k]}, {g_minus[k]}) reaches the threshold and must be reset, got " \
                f"({new_plus[k]}, {new_minus[k]})"


@pytest.mark.statistical
def test_spec_4_5_reset_noise_mean_and_spread(backend: Backend, seeded: Seeded) -> None:
    sigma = 0.5
    params = DeviceParams(levels=1000, sigma=sigma)
    g_plus = [20.0 if k % 2 else 3.0 for k in range(NOISE_SAMPLES)]
    g_minus = [3.0 if k % 2 else 20.0 for k in range(NOISE_SAMPLES)]
    new_plus, new_minus = backend.reset(g_plus, g_minus, list(range(NOISE_SAMPLES)), params,
                                        Draw(seeded(2), Site.RESET_NOISE, 14))
    errors = []
    for k in range(NOISE_SAMPLES):
        programmed, other = (new_plus[k], new_minus[k]) if k % 2 else (new_minus[k], new_plus[k])
        assert other == 0.0, f"[SPEC 4.5] the device opposite the weight must be at Gmin after a reset ({k})"
        errors.append(programmed - 17.0)
    alpha = FAMILY_ALPHA / 2
    mean = sum(errors) / NOISE_SAMPLES
    bound = stats.norm.isf(alpha / 2) * sigma / math.sqrt(NOISE_SAMPLES)
    assert abs(mean) <= bound, f"[SPEC 4.5] reset programming error has mean {mean:.3g} (must be <= {bound:.3g})"
    assert_standard_deviation(errors, sigma, alpha, "[SPEC 4.5] reset programming error")


@pytest.mark.exact
def test_spec_4_device_vectors(backend: Backend) -> None:
    for case in cases("device.json", "ProgramTest"):
        after = backend.program([case["g"]], [case["pulses"]], [case["synapse"]], DeviceParams(**case["device"]),
                                draw_of(case["noise"]), case["bitLength"])
        assert after[0] == pytest.approx(case["after"], abs=LEVEL_TOLERANCE), f"[SPEC 4.3] tcId {case['tcId']}"
    for case in cases("device.json", "ResetTest"):
        plus, minus = backend.reset([case["gPlus"]], [case["gMinus"]], [case["synapse"]],
                                    DeviceParams(**case["device"]), draw_of(case["noise"]))
        assert (plus[0], minus[0]) == pytest.approx((case["gPlusAfter"], case["gMinusAfter"]), abs=LEVEL_TOLERANCE), \
            f"[SPEC 4.5] tcId {case['tcId']}"
