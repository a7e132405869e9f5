"""[SPEC 4] The memristive pair: bounds, unidirectionality, the grid, reset, and the programming noise."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stochmem import device
from stochmem.config import DeviceParams
from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial
from stochmem.rng import Draw, Site

params_strategy = st.builds(
    DeviceParams,
    levels=st.integers(2, 64),
    on_off=st.floats(1.5, 100),
    sigma=st.sampled_from([0.0, 0.1, 0.3, 1.0, 3.0]),
    reset_every=st.integers(1, 20),
    noise_mode=st.sampled_from(["event", "pulse"]),
)


def test_spec_4_1_derived_quantities():
    params = DeviceParams()
    assert params.g_min == pytest.approx(1 / 15)
    assert params.spacing == pytest.approx((1 - 1 / 15) / 31)
    assert params.dw_min == pytest.approx((1 - 1 / 15) / 31)
    assert device.conductance(params.top_level, params) == pytest.approx(params.g_max)


@given(params=params_strategy, seed=st.integers(0, 2**64 - 1),
       events=st.lists(st.integers(0, 12), min_size=1, max_size=40))
def test_spec_4_3_4_4_bounds_and_unidirectional_between_resets(params, seed, events):
    g = 0.0
    for step, pulses in enumerate(events):
        after = device.program(g, pulses, params, Draw(seed, Site.PROGRAM_NOISE, step), step, 12)
        assert 0.0 <= after <= params.top_level, "[SPEC 4.4] level coordinate outside [0, levels-1]"
        assert after >= g, "[SPEC 4.4] a device lost conductance between resets"
        g = after


@given(levels=st.integers(2, 64), seed=st.integers(0, 2**32), gp=st.integers(0, 63), gm=st.integers(0, 63),
       pulses=st.integers(0, 20))
def test_spec_4_2_4_5_noiseless_devices_stay_on_the_grid_and_reset_keeps_the_weight(levels, seed, gp, gm, pulses):
    params = DeviceParams(levels=levels, sigma=0.0)
    gp, gm = float(min(gp, levels - 1)), float(min(gm, levels - 1))
    programmed = device.program(gp, pulses, params, Draw(seed, Site.PROGRAM_NOISE), 0, 20)
    assert programmed == min(gp + pulses, levels - 1) and programmed.is_integer()
    new_plus, new_minus = device.reset_pair(programmed, gm, params, Draw(seed, Site.RESET_NOISE), 0)
    assert device.weight(new_plus, new_minus, params) == device.weight(programmed, gm, params)
    assert min(new_plus, new_minus) == 0.0, "[SPEC 4.5] a reset leaves one device at Gmin"


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0])
def test_spec_4_3_event_noise_has_the_stated_mean_and_spread(sigma):
    """n = 10 pulses (floor at 0 never reached): increment - n has mean 0 and sd sigma (levels, i.e. sigma*B)."""
    params = DeviceParams(sigma=sigma, levels=1000)
    n, samples = 10, 20_000
    errors = [device.program_increment(n, params, Draw(9, Site.PROGRAM_NOISE, 3, 1), m, 10) - n
              for m in range(samples)]
    mean = sum(errors) / samples
    sd = math.sqrt(sum((e - mean) ** 2 for e in errors) / (samples - 1))
    assert abs(mean) < 7 * sigma / math.sqrt(samples), f"[SPEC 4.3] noise mean {mean}"
    assert abs(sd / sigma - 1) < 7 * math.sqrt(1 / (2 * (samples - 1))), f"[SPEC 4.3] noise sd {sd}"
    above = sum(e > 0 for e in errors)
    assert_binomial(above, samples, 0.5, FAMILY_ALPHA, "[SPEC 4.3] noise symmetric about 0")


def test_spec_4_3_pulse_noise_grows_with_the_pulse_count():
    """Pulse mode: the spread of n pulses is sigma sqrt(n)."""
    sigma, n, samples = 0.2, 9, 5_000
    params = DeviceParams(sigma=sigma, noise_mode="pulse", levels=1000)
    errors = [device.program_increment(n, params, Draw(4, Site.PROGRAM_NOISE), m, n) - n for m in range(samples)]
    sd = math.sqrt(sum(e * e for e in errors) / samples)
    assert abs(sd / (sigma * math.sqrt(n)) - 1) < 7 * math.sqrt(1 / (2 * samples))


def test_spec_4_3_increment_is_floored_at_zero():
    params = DeviceParams(sigma=50.0)
    increments = [device.program_increment(1, params, Draw(1, Site.PROGRAM_NOISE), m, 1) for m in range(200)]
    assert min(increments) == 0.0 and max(increments) > 1.0


def test_spec_4_4_saturated_device_stops():
    params = DeviceParams(sigma=0.0)
    assert device.program(31.0, 5, params, Draw(1, Site.PROGRAM_NOISE), 0, 10) == 31.0


def test_spec_4_6_initial_programming_rounds_to_levels():
    params = DeviceParams(sigma=0.0)
    dw = params.dw_min
    noise = Draw(1, Site.INIT_DEVICE_NOISE)
    assert device.initial_pair(2.4 * dw, params, noise, 0) == (2.0, 0.0)
    assert device.initial_pair(-2.6 * dw, params, noise, 0) == (0.0, 3.0)
    assert device.initial_pair(0.4 * dw, params, noise, 0) == (0.0, 0.0)
    assert device.initial_pair(100.0, params, noise, 0) == (31.0, 0.0)
