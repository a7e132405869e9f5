"""The specification's operations on NumPy arrays: streams, crossbar passes, the coincidence update, devices.

Each function is the vectorized twin of the reference function named in its docstring and computes the same
values: the same words, bits and counts, and floats equal up to rounding ([SPEC 6.1]).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from stochmem.config import DeviceParams
from stochmem.rng import Draw, Site
from stochmem_numpy.philox import draw_normals, draw_normals_at, draw_row_words, draw_rows_batch, draw_words

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
TWO_POW_32 = 4294967296.0
FULL = np.uint64(1 << 32)


def thresholds(probabilities: F64) -> NDArray[np.uint64]:
    """[SPEC 1.2] floor(clip(p, 0, 1) * 2**32) as unsigned 64-bit integers (2**32 itself must fit)."""
    p = np.asarray(probabilities, dtype=np.float64)
    if np.isnan(p).any():
        raise ValueError("cannot encode NaN as a Bernoulli stream")
    return (np.clip(p, 0.0, 1.0) * TWO_POW_32).astype(np.uint64)


def encode_bits(probabilities: F64, bit_length: int, draw: Draw) -> NDArray[np.bool_]:
    """[SPEC 1.2, 1.3] Stream bits, shape (K, BL): bit (i, n) = word(i*BL + n) < threshold(p_i).

    Words are drawn only for values strictly between 0 and 1 (the others give constant streams).
    """
    level = thresholds(probabilities)
    bits = np.repeat((level == FULL)[:, None], bit_length, axis=1)
    active = np.flatnonzero((level > 0) & (level < FULL))
    if active.size:
        if active.size == level.size:
            words = draw_words(draw, level.size * bit_length).reshape(level.size, bit_length)
        else:
            words = draw_row_words(draw, active, bit_length)
        bits[active] = words < level[active, None]
    return bits


def pack(bits: NDArray[np.bool_]) -> NDArray[np.uint64]:
    """Bit streams packed little-endian into unsigned 64-bit words, shape (K, ceil(BL/64))."""
    k, length = bits.shape
    n_words = (length + 63) // 64
    padded = np.zeros((k, n_words * 64), dtype=np.bool_)
    padded[:, :length] = bits
    return np.packbits(padded, axis=1, bitorder="little").view(np.uint64)


def and_counts(rows: NDArray[np.uint64], columns: NDArray[np.uint64]) -> NDArray[np.int64]:
    """[SPEC 1.4, eq. 4] counts[j, i] = popcount(row_i AND column_j) of packed streams."""
    both = np.bitwise_and(columns[:, None, :], rows[None, :, :])
    counts: NDArray[np.int64] = np.bitwise_count(both).sum(axis=2, dtype=np.int64)
    return counts


def coincidence_counts(row_p: F64, column_p: F64, bit_length: int, row_draw: Draw, column_draw: Draw
                       ) -> NDArray[np.int64]:
    """[SPEC 3.8] Coincidence counts of the update's row and column streams."""
    return counts_from_bits(encode_bits(row_p, bit_length, row_draw), encode_bits(column_p, bit_length, column_draw))


def counts_from_bits(row_bits: NDArray[np.bool_], column_bits: NDArray[np.bool_]) -> NDArray[np.int64]:
    """[SPEC 1.4, 3.8] counts[j, i] = popcount(row_i AND column_j), computed only for streams that pulse at all."""
    counts = np.zeros((column_bits.shape[0], row_bits.shape[0]), dtype=np.int64)
    live_rows = np.flatnonzero(row_bits.any(axis=1))
    live_columns = np.flatnonzero(column_bits.any(axis=1))
    if live_rows.size and live_columns.size:
        counts[np.ix_(live_columns, live_rows)] = and_counts(pack(row_bits[live_rows]),
                                                             pack(column_bits[live_columns]))
    return counts


class PrefetchedStreams:
    """The words of several stream sites of one (seed, step), drawn in a single Philox call up front.

    A stream's words do not depend on the value it will carry, so a training step can draw all of its streams'
    words before the forward pass ([SPEC 2.2]: words are addressed, not consumed). ``rows`` names the values
    that may need words; every other value of that site must be 0 or 1 (constant streams).
    """

    def __init__(self, seed: int, step: int, bit_length: int,
                 requests: dict[tuple[Site, int], tuple[Draw, I64]]) -> None:
        self.bit_length = bit_length
        words = draw_rows_batch(seed, step, [(draw, rows, bit_length) for draw, rows in requests.values()])
        self._words = {key: (rows, w) for (key, (_draw, rows)), w in zip(requests.items(), words)}

    def bits(self, site: Site, layer: int, probabilities: F64) -> NDArray[np.bool_]:
        """[SPEC 1.2, 1.3] The streams of ``probabilities`` at (site, layer), shape (K, BL)."""
        rows, words = self._words[(site, layer)]
        level = thresholds(probabilities)
        bits = np.repeat((level == FULL)[:, None], self.bit_length, axis=1)
        bits[rows] = words < level[rows, None]
        return bits

    def decoded(self, site: Site, layer: int, probabilities: F64) -> F64:
        """[SPEC 1.1] popcount/BL of the streams of ``probabilities`` at (site, layer)."""
        result: F64 = self.bits(site, layer, probabilities).sum(axis=1) / self.bit_length
        return result


def sigmoid(z: F64) -> F64:
    """[SPEC 3.2] Overflow-free sigmoid, the same two branches as the reference."""
    e = np.exp(-np.abs(z))
    result: F64 = np.where(z >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    return result


def softmax(z: F64) -> F64:
    """[SPEC 3.2]"""
    exps = np.exp(z - z.max())
    result: F64 = exps / math.fsum(exps.tolist())
    return result


def signs(values: F64) -> F64:
    """[SPEC 1.5] +1 for v >= 0, -1 otherwise."""
    result: F64 = np.where(values >= 0.0, 1.0, -1.0)
    return result


def init_weights(n_in: int, n_out: int, seed: int, layer: int) -> F64:
    """[SPEC 3.4] The twin of :func:`stochmem.network.init_weights`."""
    radius = 4.0 * math.sqrt(6.0 / (n_in + n_out))
    words = draw_words(Draw(seed, Site.INIT_WEIGHTS, 0, layer), n_out * (n_in + 1)).astype(np.float64)
    result: F64 = (radius * (2.0 * (words / TWO_POW_32) - 1.0)).reshape(n_out, n_in + 1)
    return result


def program_increments(pulses: I64, synapses: I64, params: DeviceParams, noise: Draw, bit_length: int) -> F64:
    """[SPEC 4.3] Level increments of events with ``pulses`` > 0 at ``synapses``, floored at 0."""
    n = pulses.astype(np.float64)
    if params.sigma == 0.0:
        return n
    if params.noise_mode == "event":
        increments = n + params.sigma * draw_normals_at(noise, synapses)
    else:
        k = np.arange(bit_length)
        indices = (synapses[:, None] * bit_length + k).reshape(-1)
        terms = (1.0 + params.sigma * draw_normals_at(noise, indices)).reshape(-1, bit_length)
        increments = np.where(k < pulses[:, None], terms, 0.0).sum(axis=1)
    result: F64 = np.maximum(increments, 0.0)
    return result


def program(levels: F64, pulses: I64, synapses: I64, params: DeviceParams, noise: Draw, bit_length: int) -> F64:
    """[SPEC 4.3, 4.4] Level coordinates after events (``pulses`` may hold zeros: those are untouched)."""
    out = np.array(levels, dtype=np.float64)
    fire = pulses > 0
    if fire.any():
        increments = program_increments(pulses[fire], synapses[fire], params, noise, bit_length)
        out[fire] = np.minimum(np.maximum(out[fire] + increments, 0.0), float(params.top_level))
    return out


def program_target(levels_to_add: F64, synapses: I64, params: DeviceParams, noise: Draw) -> F64:
    """[SPEC 4.6] Program from Gmin to ``levels_to_add`` with one event's noise, clipped."""
    noisy = levels_to_add + params.sigma * draw_normals_at(noise, synapses) if params.sigma else levels_to_add
    result: F64 = np.minimum(np.maximum(noisy, 0.0), float(params.top_level))
    return result


def reset(g_plus: F64, g_minus: F64, synapses: I64, params: DeviceParams, noise: Draw) -> tuple[F64, F64]:
    """[SPEC 4.5] The twin of :func:`stochmem.device.reset_pair`, for whole arrays.

    |d| (+ noise, unless the write is verified) is programmed onto G+ where d > 0 and onto G- where d < 0; d = 0
    leaves both at 0; pairs whose larger device is below ``params.reset_level`` are left as they are.
    """
    difference = g_plus - g_minus
    sigma = params.reset_sigma
    if sigma:
        # Most synapses are programmed: one contiguous run of normals is cheaper than picking indices.
        normals = draw_normals(noise, int(synapses.max()) + 1)[synapses] if synapses.size else np.zeros(0)
        programmed = np.minimum(np.maximum(np.abs(difference) + sigma * normals, 0.0), float(params.top_level))
    else:  # exact, but still clipped to the device's range, as the reference's program_target does
        programmed = np.minimum(np.abs(difference), float(params.top_level))
    new_plus, new_minus = np.where(difference > 0.0, programmed, 0.0), np.where(difference < 0.0, programmed, 0.0)
    if params.reset_threshold > 0.0:
        spared = np.maximum(g_plus, g_minus) < params.reset_level
        new_plus, new_minus = np.where(spared, g_plus, new_plus), np.where(spared, g_minus, new_minus)
    return new_plus, new_minus


def initial_pairs(weights: F64, params: DeviceParams, noise: Draw) -> tuple[F64, F64]:
    """[SPEC 4.6] The twin of :func:`stochmem.device.initial_pair`, synapse m = flat index of ``weights``."""
    flat = weights.reshape(-1)
    k = np.minimum(np.floor(np.abs(flat) / params.dw_min + 0.5), float(params.top_level))
    synapses = np.arange(flat.size, dtype=np.int64)
    programmed = k > 0
    g = np.zeros_like(flat)
    g[programmed] = program_target(k[programmed], synapses[programmed], params, noise)
    g_plus = np.where(flat > 0, g, 0.0).reshape(weights.shape)
    g_minus = np.where(flat < 0, g, 0.0).reshape(weights.shape)
    return g_plus, g_minus


def corrupt(image: Sequence[float], variance: float, seed: int, image_index: int, repeat: int = 0) -> F64:
    """[SPEC 5.4] The twin of :func:`stochmem.data.corrupt`: clip(x + sqrt(variance) eps, 0, 1), vectorized."""
    pixels = np.asarray(image, dtype=np.float64)
    if variance < 0.0:
        raise ValueError(f"noise variance must be >= 0, got {variance}")
    if variance == 0.0:
        return pixels.copy()
    eps = draw_normals(Draw(seed, Site.INPUT_NOISE, image_index, 0, repeat), pixels.size)
    result: F64 = np.minimum(np.maximum(pixels + variance**0.5 * eps, 0.0), 1.0)
    return result
