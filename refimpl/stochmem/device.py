"""The memristive synapse: a pair of unidirectional devices per weight (the paper's Section III, Fig. 2).

[SPEC 4.2] A device's state is its *level coordinate* g in [0, levels - 1]; its conductance is
G = Gmin + g B. A synapse holds (g+, g-) and carries the weight w = dw_min (g+ - g-). Programming only ever adds
to g (the devices are unidirectional); the periodic reset sets both to 0 and re-programs the difference onto one.
Working in level units keeps a noiseless device exactly on the grid (integers are exact in binary64).
"""

from __future__ import annotations

import math

from stochmem.config import DeviceParams
from stochmem.rng import Draw, normal


def clip_level(g: float, params: DeviceParams) -> float:
    """[SPEC 4.4] Clip a level coordinate to the device's range [0, levels - 1] (Gmin .. Gmax)."""
    return min(max(g, 0.0), float(params.top_level))


def conductance(g: float, params: DeviceParams) -> float:
    """[SPEC 4.2] The conductance of a device at level coordinate g: Gmin + g B (normalised, Gmax = 1)."""
    return params.g_min + g * params.spacing


def weight(g_plus: float, g_minus: float, params: DeviceParams) -> float:
    """[SPEC 4.2] The weight of a synapse: w = dw_min (g+ - g-), i.e. w_max (G+ - G-)/Gmax."""
    return params.dw_min * (g_plus - g_minus)


def weight_row(g_plus: list[float], g_minus: list[float], params: DeviceParams) -> list[float]:
    """[SPEC 4.2] The weights of a row of synapses, dw_min (g+ - g-) each."""
    dw_min = params.dw_min
    return [dw_min * (gp - gm) for gp, gm in zip(g_plus, g_minus)]


def program_increment(pulses: int, params: DeviceParams, noise: Draw, synapse: int, bit_length: int) -> float:
    """[SPEC 4.3] The level increment of one programming event of ``pulses`` coincident pulses (Fig. 2, right).

    Event mode (default): ``n + (sigma/B) * eps`` with one normal ``eps = normal(noise, synapse)`` per event.
    Pulse mode: ``sum_k (1 + (sigma/B) * eps_k)`` over the n pulses, ``eps_k = normal(noise, synapse*BL + k)``.
    Either way the increment is floored at 0: a unidirectional device never loses conductance when programmed.
    """
    if pulses <= 0:
        return 0.0
    if params.sigma == 0.0:
        return float(pulses)
    if params.noise_mode == "event":
        increment = pulses + params.sigma * normal(noise, synapse)
    else:
        base = synapse * bit_length
        increment = sum(1.0 + params.sigma * normal(noise, base + k) for k in range(pulses))
    return max(increment, 0.0)


def program(g: float, pulses: int, params: DeviceParams, noise: Draw, synapse: int, bit_length: int) -> float:
    """[SPEC 4.3, 4.4, eq. 4] The level coordinate after a programming event: g + increment, clipped at Gmax."""
    return clip_level(g + program_increment(pulses, params, noise, synapse, bit_length), params)


def program_target(levels_to_add: float, params: DeviceParams, noise: Draw, synapse: int,
                   sigma: float | None = None) -> float:
    """[SPEC 4.5, 4.6] Program a device from Gmin to ``levels_to_add`` levels, with one event's noise of
    ``sigma`` levels (default ``params.sigma``; 0 for a verified write), clipped.

    Used by the reset and the initial programming; ``levels_to_add`` > 0.
    """
    sigma = params.sigma if sigma is None else sigma
    noisy = levels_to_add + sigma * normal(noise, synapse) if sigma else levels_to_add
    return clip_level(noisy, params)


def reset_pair(g_plus: float, g_minus: float, params: DeviceParams, noise: Draw, synapse: int
               ) -> tuple[float, float]:
    """[SPEC 4.5] Reset both devices to Gmin and re-program the difference onto one of them.

    With d = g+ - g-: d > 0 programs G+ to d, d < 0 programs G- to abs(d), d = 0 leaves both at Gmin (no event).
    The write carries one event's noise, or none when ``reset_write`` is verified; with sigma = 0 or a verified
    write the weight is preserved exactly. A pair whose larger level coordinate is below ``reset_threshold``
    times the top level is not reset (left as it is); the default threshold 0 resets every pair.
    """
    if params.reset_threshold > 0.0 and max(g_plus, g_minus) < params.reset_level:
        return g_plus, g_minus
    difference = g_plus - g_minus
    if difference > 0.0:
        return program_target(difference, params, noise, synapse, params.reset_sigma), 0.0
    if difference < 0.0:
        return 0.0, program_target(-difference, params, noise, synapse, params.reset_sigma)
    return 0.0, 0.0


def initial_pair(w: float, params: DeviceParams, noise: Draw, synapse: int) -> tuple[float, float]:
    """[SPEC 4.6] Program a fresh pair (both at Gmin) to the weight ``w``, rounded to whole levels.

    k = min(floor(abs(w)/dw_min + 1/2), levels - 1) levels go onto G+ for w > 0 or G- for w < 0, with one event's
    noise; k = 0 programs nothing.
    """
    k = min(math.floor(abs(w) / params.dw_min + 0.5), params.top_level)
    if k == 0:
        return 0.0, 0.0
    g = program_target(float(k), params, noise, synapse)
    return (g, 0.0) if w > 0 else (0.0, g)
