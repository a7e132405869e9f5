# mypy: disable-error-code="assignment"
# (numba kernels mix Python ints with NumPy scalars on purpose: the compiled types are what matter)
"""Compiled kernels: stream encoding, and the coincidence update and device programming of a whole crossbar
fused into one loop nest ([SPEC 1.2-1.4, 3.8, 4.3-4.5]). ``prange`` spreads output columns over the cores.

Every kernel computes what the reference function named in its docstring computes, word for word.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from stochmem_numba.jit import njit
from stochmem_numba.normals import fill_normals, normal, normal_pair
from stochmem_numba.philox import philox, popcount64

TWO_POW_32 = 4294967296.0
FULL = np.uint64(1 << 32)
PROGRAM_NOISE = np.uint64(7)
RESET_NOISE = np.uint64(8)


@njit(inline="always")
def threshold(p: float) -> np.uint64:
    """[SPEC 1.2] floor(clip(p, 0, 1) * 2**32)."""
    if p <= 0.0:
        return np.uint64(0)
    if p >= 1.0:
        return FULL
    return np.uint64(p * TWO_POW_32)


@njit(inline="always")
def stream_bits(level: np.uint64, first: int, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                c2: np.uint64, site: np.uint64, bits: np.ndarray) -> int:
    """[SPEC 1.2, 1.3] bits[n] = word(first + n) < level for n < BL, each Philox block drawn once; returns the
    popcount. ``level`` is strictly between 0 and 2**32 (constant streams are handled by the callers)."""
    count = 0
    b = philox(np.uint64(first >> 2), step, c2, site, k0, k1)
    for n in range(bit_length):
        index = first + n
        lane = index & 3
        if lane == 0 and n > 0:
            b = philox(np.uint64(index >> 2), step, c2, site, k0, k1)
        w = b[0] if lane == 0 else b[1] if lane == 1 else b[2] if lane == 2 else b[3]
        bits[n] = w < level
        count += bits[n]
    return count


@njit()
def stream_counts(values: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                  c2: np.uint64, site: np.uint64, out: np.ndarray) -> None:
    """[SPEC 1.1-1.3] out[i] = popcount of the stream of values[i] (value i takes words i*BL .. i*BL+BL-1)."""
    bits = np.empty(bit_length, dtype=np.bool_)
    for i in range(values.size):
        level = threshold(values[i])
        if level == 0 or level == FULL:
            out[i] = 0 if level == 0 else bit_length
        else:
            out[i] = stream_bits(level, i * bit_length, bit_length, k0, k1, step, c2, site, bits)


@njit()
def stream_packed(values: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                  c2: np.uint64, site: np.uint64, packed: np.ndarray) -> np.ndarray:
    """[SPEC 1.2, 1.3] Streams packed little-endian into ``packed[i, w]``; returns the indices that pulse."""
    live = np.empty(values.size, dtype=np.int64)
    bits = np.ones(bit_length, dtype=np.bool_)
    n_live = 0
    for i in range(values.size):
        for w in range(packed.shape[1]):
            packed[i, w] = np.uint64(0)
        level = threshold(values[i])
        if level == 0:
            continue
        if level == FULL:
            bits[:] = True
        elif stream_bits(level, i * bit_length, bit_length, k0, k1, step, c2, site, bits) == 0:
            continue
        for n in range(bit_length):
            if bits[n]:
                packed[i, n >> 6] |= np.uint64(1) << np.uint64(n & 63)
        live[n_live] = i
        n_live += 1
    return live[:n_live]


@njit(inline="always")
def coincidences(rows: np.ndarray, i: int, columns: np.ndarray, j: int) -> int:
    """[SPEC 1.4, eq. 4] popcount(row_i AND column_j) over the packed words of two streams."""
    n = 0
    for w in range(rows.shape[1]):
        n += popcount64(rows[i, w] & columns[j, w])
    return n


@njit(parallel=True)
def update_stochastic(weights: np.ndarray, rows: np.ndarray, live_rows: np.ndarray, columns: np.ndarray,
                      live_columns: np.ndarray, step_sizes: np.ndarray) -> None:
    """[SPEC 3.8] w[j, i] -= sign(delta_j) dw_min n_ji, n_ji = popcount(row_i AND column_j)."""
    for t in prange(live_columns.size):
        j = live_columns[t]
        size = step_sizes[j]
        for s in range(live_rows.size):
            i = live_rows[s]
            n = coincidences(rows, i, columns, j)
            if n:
                weights[j, i] = weights[j, i] - size * n


@njit(parallel=True)
def update_memristive(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, rows: np.ndarray,
                      live_rows: np.ndarray, columns: np.ndarray, live_columns: np.ndarray, falling: np.ndarray,
                      sigma: float, pulse_mode: bool, bit_length: int, top: float, dw_min: float,
                      k0: np.uint64, k1: np.uint64, step: np.uint64, layer: np.uint64) -> None:
    """[SPEC 3.8, 4.3, 4.4] Count coincidences and program the device in the update's direction, fused.

    The twin of :func:`stochmem.network.update_layer` with :func:`stochmem.device.program`. Per column: count the
    coincidences of every live row, draw the noise of the synapses that fire in one vectorisable loop
    (:func:`event_normals`), then program them.
    """
    width = weights.shape[1]
    for t in prange(live_columns.size):
        j = live_columns[t]
        firing = np.empty(live_rows.size, dtype=np.int64)
        counts = np.empty(live_rows.size, dtype=np.int64)
        n_firing = 0
        for s in range(live_rows.size):
            n = coincidences(rows, live_rows[s], columns, j)
            if n:
                firing[n_firing], counts[n_firing] = live_rows[s], n
                n_firing += 1
        eps = np.zeros(n_firing)
        if sigma != 0.0 and not pulse_mode:
            event_normals(j * width, firing[:n_firing], k0, k1, step, layer, eps)
        for f in range(n_firing):
            i, n = firing[f], counts[f]
            if pulse_mode and sigma != 0.0:
                m = j * width + i
                increment = 0.0
                for k in range(n):
                    increment += 1.0 + sigma * normal(k0, k1, step, layer, PROGRAM_NOISE, m * bit_length + k)
            else:
                increment = n + sigma * eps[f]
            increment = max(increment, 0.0)
            if falling[j]:
                g_minus[j, i] = min(max(g_minus[j, i] + increment, 0.0), top)
            else:
                g_plus[j, i] = min(max(g_plus[j, i] + increment, 0.0), top)
            weights[j, i] = dw_min * (g_plus[j, i] - g_minus[j, i])


@njit(error_model="numpy")
def event_normals(row_start: int, firing: np.ndarray, k0: np.uint64, k1: np.uint64, step: np.uint64,
                  layer: np.uint64, out: np.ndarray) -> None:
    """[SPEC 4.3] out[f] = normal m of (PROGRAM_NOISE, step, layer), m = row_start + firing[f]: one branch-free
    loop that LLVM vectorises (NumPy's error model: no zero check on the logarithm's division)."""
    for f in range(firing.size):
        m = row_start + firing[f]
        cosine, sine = normal_pair(np.uint64(m >> 1), step, layer, PROGRAM_NOISE, k0, k1)
        out[f] = sine if m & 1 else cosine


@njit(parallel=True)
def reset(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, sigma: float, top: float,
          dw_min: float, k0: np.uint64, k1: np.uint64, step: np.uint64, layer: np.uint64) -> None:
    """[SPEC 4.5] The twin of :func:`stochmem.device.reset_pair` for every synapse of a crossbar.

    Each row first draws the normals of its synapses in one vectorised loop (:func:`fill_normals`), then programs.
    """
    width = weights.shape[1]
    for j in prange(weights.shape[0]):
        eps = np.zeros(width)
        if sigma != 0.0:
            fill_normals(np.int64(j * width), step, layer, RESET_NOISE, k0, k1, eps)
        for i in range(width):
            d = g_plus[j, i] - g_minus[j, i]
            if d == 0.0:
                g_plus[j, i], g_minus[j, i], weights[j, i] = 0.0, 0.0, 0.0
                continue
            level = min(max(abs(d) + sigma * eps[i], 0.0), top)
            if d > 0.0:
                g_plus[j, i], g_minus[j, i] = level, 0.0
            else:
                g_plus[j, i], g_minus[j, i] = 0.0, level
            weights[j, i] = dw_min * (g_plus[j, i] - g_minus[j, i])


@njit(parallel=True, fastmath={"reassoc"})
def matvec(weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """[SPEC 3.3] z_j = sum_i w[j, i] x_i, columns spread over the cores.

    Compiled rather than BLAS: OpenBLAS's threads spin after each call and fight numba's workers for the two
    cores (measured: a 200k-element parallel update took 440 us after a BLAS call, 24 us alone). ``reassoc``
    lets LLVM vectorize the sum; the order of summation changes z by rounding only ([SPEC 3.3, 6.1]).
    """
    out = np.empty(weights.shape[0])
    for j in prange(weights.shape[0]):
        total = 0.0
        for i in range(weights.shape[1]):
            total += weights[j, i] * inputs[i]
        out[j] = total
    return out


@njit(fastmath={"reassoc"})
def transposed_matvec(weights: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """[SPEC 3.6] e_i = sum_j w[j, i] delta_j for the non-bias rows i < n_in."""
    out = np.zeros(weights.shape[1] - 1)
    for j in range(weights.shape[0]):
        d = errors[j]
        for i in range(weights.shape[1] - 1):
            out[i] += weights[j, i] * d
    return out


@njit(parallel=True)
def update_float(weights: np.ndarray, scaled_deltas: np.ndarray, inputs: np.ndarray) -> None:
    """[SPEC 3.7] w[j, i] -= (eta delta_j) x_i."""
    for j in prange(weights.shape[0]):
        scale = scaled_deltas[j]
        for i in range(weights.shape[1]):
            weights[j, i] = weights[j, i] - scale * inputs[i]
