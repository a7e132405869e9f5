# mypy: disable-error-code="assignment"
# (numba kernels mix Python ints with NumPy scalars on purpose: the compiled types are what matter)
"""Compiled kernels of one crossbar: the dense passes, the coincidence update fused with device programming, and
the periodic reset ([SPEC 1.4, 3.3, 3.6-3.8, 4.3-4.5]); the streams they read are made by
:mod:`stochmem_numba.streams`.

Every kernel computes what the reference function named in its docstring computes, word for word. All are serial
but the reset: at batch size 1 a step's kernels take microseconds each, less than waking a second thread costs, and
a serial kernel compiles in a fraction of the time of a parallel one. The reset, every ``reset_every`` images, does
a millisecond of work and spreads its rows over the threads (:mod:`stochmem_numba.threads`).

A crossbar's weights are stored row-major (``w[j, i]``, one row per output) or, where the kernels say so with
``column_major``, transposed (``wt[i, j]``, one row per input): the first crossbar of a network is kept that way
(:class:`~stochmem_numba.model.NumbaModel`), because its input, an MNIST digit, is mostly zeros, and a pass over
the nonzero inputs alone then reads whole rows (:func:`matvec_by_inputs`) instead of gathering a few weights from
every row. The device levels stay row-major in both cases: the reset draws their normals row by row ([SPEC 4.5]).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np
from numba import prange

from stochmem_numba.jit import njit
from stochmem_numba.normals import fill_normals, normal_buffers, normals_of_blocks
from stochmem_numba.philox import philox, popcount64

PROGRAM_NOISE = np.uint64(7)
RESET_NOISE = np.uint64(8)


@njit(inline="always")
def column_coincidences(rows: np.ndarray, columns: np.ndarray, j: int, counts: np.ndarray) -> None:
    """[SPEC 1.4, eq. 4] counts[s] = popcount(row_s AND column_j) over the packed words of the streams, for every
    row s: a branch-free loop that vectorises (one word per stream, the common BL <= 64, has its own loop)."""
    if rows.shape[1] == 1:
        column = columns[j, 0]
        for s in range(rows.shape[0]):
            counts[s] = popcount64(rows[s, 0] & column)
        return
    for s in range(rows.shape[0]):
        n = 0
        for w in range(rows.shape[1]):
            n += popcount64(rows[s, w] & columns[j, w])
        counts[s] = n


@njit(inline="always")
def store(weights: np.ndarray, j: int, i: int, value: float, column_major: bool) -> None:
    """w[j, i] = value, in either layout of the weights (``wt[i, j]`` when ``column_major``)."""
    if column_major:
        weights[i, j] = value
    else:
        weights[j, i] = value


@njit()
def update_stochastic(weights: np.ndarray, rows: np.ndarray, live_rows: np.ndarray, columns: np.ndarray,
                      live_columns: np.ndarray, step_sizes: np.ndarray, column_major: bool) -> None:
    """[SPEC 3.8] w[j, i] -= sign(delta_j) dw_min n_ji, n_ji = popcount(row_i AND column_j); ``rows[s]`` is the
    stream of row ``live_rows[s]`` (:func:`stochmem_numba.streams.gather_rows`); with ``column_major`` the
    weights are stored as ``wt[i, j]``."""
    counts = np.empty(live_rows.size, dtype=np.int64)
    for t in range(live_columns.size):
        j = live_columns[t]
        size = step_sizes[j]
        column_coincidences(rows, columns, j, counts)
        for s in range(live_rows.size):
            if counts[s]:
                i = live_rows[s]
                current = weights[i, j] if column_major else weights[j, i]
                store(weights, j, i, current - size * counts[s], column_major)


@njit()
def update_memristive(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, rows: np.ndarray,
                      live_rows: np.ndarray, columns: np.ndarray, live_columns: np.ndarray, falling: np.ndarray,
                      sigma: float, pulse_mode: bool, bit_length: int, top: float, dw_min: float,
                      k0: np.uint64, k1: np.uint64, step: np.uint64, layer: np.uint64, column_major: bool) -> None:
    """[SPEC 3.8, 4.3, 4.4] Count coincidences and program the device in the update's direction.

    The twin of :func:`stochmem.network.update_layer` with :func:`stochmem.device.program`; ``rows`` and
    ``column_major`` (of the weights; the levels are row-major) as in :func:`update_stochastic`. First every
    synapse that fires (a nonzero count) is listed, column by column, without a branch: whether a live pair fires
    is a coin toss that the branch predictor lost (the list of the first crossbar took 7.4 us a step, against 4.3
    us written this way); then the noise of all of them is drawn in one batch (:func:`event_increments`: one long
    vectorised loop instead of a short one per column); then they are programmed.
    """
    width = g_plus.shape[1]  # synapse m = j * width + i ([SPEC 4.3]), whatever the weights' layout
    capacity = live_rows.size * live_columns.size
    event_columns = np.empty(capacity, dtype=np.int64)
    event_rows = np.empty(capacity, dtype=np.int64)
    event_counts = np.empty(capacity, dtype=np.int64)
    event_synapses = np.empty(capacity, dtype=np.int64)
    coincident = np.empty(live_rows.size, dtype=np.int64)
    events = 0
    for t in range(live_columns.size):
        j = live_columns[t]
        column_coincidences(rows, columns, j, coincident)
        for s in range(live_rows.size):  # every pair written, only those that fire kept (see the docstring)
            event_columns[events], event_rows[events], event_counts[events] = j, live_rows[s], coincident[s]
            event_synapses[events] = j * width + live_rows[s]
            events += coincident[s] != 0
    increments = event_increments(event_synapses[:events], event_counts[:events], sigma, pulse_mode, bit_length,
                                  k0, k1, step, layer)
    for e in range(events):
        j, i = event_columns[e], event_rows[e]
        increment = max(increments[e], 0.0)
        if falling[j]:
            g_minus[j, i] = min(max(g_minus[j, i] + increment, 0.0), top)
        else:
            g_plus[j, i] = min(max(g_plus[j, i] + increment, 0.0), top)
        store(weights, j, i, dw_min * (g_plus[j, i] - g_minus[j, i]), column_major)


@njit()
def event_increments(synapses: np.ndarray, counts: np.ndarray, sigma: float, pulse_mode: bool, bit_length: int,
                     k0: np.uint64, k1: np.uint64, step: np.uint64, layer: np.uint64) -> np.ndarray:
    """[SPEC 4.3] Each programming event's increment before the floor at 0: n + sigma normal(m) for n coincidences
    at synapse m (one draw per event), or in pulse mode the sum over k < n of (1 + sigma normal(m BL + k)), summed
    in the reference's order; normals of (PROGRAM_NOISE, step, layer), all drawn in one batch (:func:`normals_at`).
    """
    out = np.empty(synapses.size)
    if sigma == 0.0:
        for e in range(synapses.size):
            out[e] = counts[e]
        return out
    if not pulse_mode:
        normals_at(synapses, k0, k1, step, layer, PROGRAM_NOISE, out)
        for e in range(synapses.size):
            out[e] = counts[e] + sigma * out[e]
        return out
    pulses = 0
    for e in range(counts.size):
        pulses += counts[e]
    indices = np.empty(pulses, dtype=np.int64)
    t = 0
    for e in range(synapses.size):
        for k in range(counts[e]):
            indices[t] = synapses[e] * bit_length + k
            t += 1
    noise = np.empty(indices.size)
    normals_at(indices, k0, k1, step, layer, PROGRAM_NOISE, noise)
    t = 0
    for e in range(synapses.size):
        increment = 0.0
        for _ in range(counts[e]):
            increment += 1.0 + sigma * noise[t]
            t += 1
        out[e] = increment
    return out


@njit()
def normals_at(indices: np.ndarray, k0: np.uint64, k1: np.uint64, step: np.uint64, c2: np.uint64, site: np.uint64,
               out: np.ndarray) -> None:
    """[SPEC 2.5] out[e] = normal indices[e] of the draw (key, step, c2, site): the Philox blocks of their pairs in
    one loop, the pairs' normals in the vectorised :func:`normals_of_blocks`, then a pick of the cosine or the
    sine."""
    u0, u1 = np.empty(indices.size, dtype=np.uint64), np.empty(indices.size, dtype=np.uint64)
    for e in range(indices.size):
        r = philox(np.uint64(indices[e] >> 1), step, c2, site, k0, k1)
        u0[e], u1[e] = r[0], r[1]
    pairs = np.empty(2 * indices.size)
    normals_of_blocks(u0, u1, pairs)
    for e in range(indices.size):
        out[e] = pairs[2 * e + (indices[e] & 1)]


RESET_ROWS_PER_TASK = 16  # rows of a crossbar one thread resets with one set of scratch buffers


@njit(parallel=True)
def reset(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, sigma: float, reset_level: float,
          top: float, dw_min: float, k0: np.uint64, k1: np.uint64, step: np.uint64, layer: np.uint64,
          column_major: bool) -> None:
    """[SPEC 4.5] The twin of :func:`stochmem.device.reset_pair` for every synapse of a crossbar, rows spread
    over the threads in tasks of ``RESET_ROWS_PER_TASK``: ``sigma`` is the write's noise (0 for a verified
    write), pairs whose larger level is below ``reset_level`` are spared. Each row first draws the normals of its
    synapses (:func:`fill_normals`, into scratch allocated once per task: per row it cost 8 % of the reset), then
    programs; with ``column_major`` (weights stored as ``wt[i, j]``) a task's new weights go to a tile first and
    then to the crossbar a whole input row at a time (16 adjacent weights: written one by one, column by column,
    they doubled the reset's time)."""
    rows, width = g_plus.shape
    for task in prange((rows + RESET_ROWS_PER_TASK - 1) // RESET_ROWS_PER_TASK):
        eps = np.zeros(width)
        u0, u1, pairs = normal_buffers(width)
        first, last = task * RESET_ROWS_PER_TASK, min(rows, (task + 1) * RESET_ROWS_PER_TASK)
        tile = np.empty((last - first if column_major else 0, width))  # new weights, when stored transposed
        for j in range(first, last):
            if sigma != 0.0:
                fill_normals(np.int64(j * width), step, layer, RESET_NOISE, k0, k1, eps, u0, u1, pairs)
            target = tile[j - first] if column_major else weights[j]
            reset_row(target, g_plus[j], g_minus[j], eps, sigma, reset_level, top, dw_min)
        if column_major:
            for i in range(width):
                for j in range(first, last):
                    weights[i, j] = tile[j - first, i]


def serial(kernel: Any, name: str) -> Any:
    """``kernel``'s Python function compiled without ``parallel=True``: its ``prange`` loops run in order, so a
    kernel whose iterations are independent (no reduction across them: the reset) computes the same numbers, and
    it compiles in a fraction of the time (the reset: 0.75 s against 2 s). Cached under ``name``: numba names a
    function's cache files after its qualified name, not its options, so a serial copy under the parallel
    kernel's name would share its cache entries."""
    python = kernel.py_func
    copy = types.FunctionType(python.__code__, python.__globals__, name, python.__defaults__, python.__closure__)
    copy.__qualname__ = name
    copy.__doc__ = f"The serial twin of :func:`{python.__name__}`."
    return njit()(copy)


reset_serial = serial(reset, "reset_serial")  # a cold run's reset while a helper compiles the parallel one


@njit(inline="always")
def reset_row(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, eps: np.ndarray, sigma: float,
              reset_level: float, top: float, dw_min: float) -> None:
    """[SPEC 4.5] One row of :func:`reset`, branch-free (selections), so that it vectorises."""
    for i in range(weights.size):
        d = g_plus[i] - g_minus[i]
        level = min(max(abs(d) + sigma * eps[i], 0.0), top)
        level = 0.0 if d == 0.0 else level
        spared = reset_level > 0.0 and max(g_plus[i], g_minus[i]) < reset_level  # a threshold of 0: every pair
        g_plus[i] = g_plus[i] if spared else (level if d > 0.0 else 0.0)
        g_minus[i] = g_minus[i] if spared else (level if d < 0.0 else 0.0)
        weights[i] = dw_min * (g_plus[i] - g_minus[i])


@njit(inline="always")
def nonzero(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices of the nonzero entries of ``values``, in increasing order, and those entries."""
    live = np.empty(values.size, dtype=np.int64)
    n = 0
    for i in range(values.size):
        if values[i] != 0.0:
            live[n] = i
            n += 1
    entries = np.empty(n)
    for s in range(n):
        entries[s] = values[live[s]]
    return live[:n], entries


SPARSE = 0.5  # below this fraction of nonzero inputs the passes gather the nonzero ones (break-even near 0.7)


@njit(fastmath={"reassoc"})
def matvec(weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """[SPEC 3.3] z_j = sum_i w[j, i] x_i, over the nonzero x_i alone when they are few (MNIST digits are mostly
    0, and so are the decoded short streams of small activations; a 256x785 pass over a digit's ~150 nonzero
    pixels measured 27 us against 39 us dense).

    Compiled rather than BLAS: OpenBLAS's threads spin after each call and fight for the cores. ``reassoc`` lets
    LLVM vectorise the sum; skipping exact zeros and the order of summation change z by rounding only
    ([SPEC 3.3, 6.1]).
    """
    out = np.empty(weights.shape[0])
    live, entries = nonzero(inputs)
    if live.size >= SPARSE * inputs.size:
        for j in range(weights.shape[0]):
            total = 0.0
            for i in range(weights.shape[1]):
                total += weights[j, i] * inputs[i]
            out[j] = total
        return out
    for j in range(weights.shape[0]):
        total = 0.0
        for s in range(live.size):
            total += weights[j, live[s]] * entries[s]
        out[j] = total
    return out


@njit()
def matvec_by_inputs(weights_t: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """[SPEC 3.3] z_j = sum_i wt[i, j] x_i for weights stored column-major (``wt[i, j]``): one contiguous,
    vectorised row of products per nonzero input, each z_j summed in the order of i (a 256x785 pass over a digit's
    ~130 nonzero decoded pixels measured 9 us, against 29 us gathered from row-major weights)."""
    out = np.zeros(weights_t.shape[1])
    for i in range(inputs.size):
        x = inputs[i]
        if x != 0.0:
            for j in range(out.size):
                out[j] += weights_t[i, j] * x
    return out


@njit(fastmath={"reassoc"})
def transposed_matvec(weights: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """[SPEC 3.6] e_i = sum_j w[j, i] delta_j for the non-bias rows i < n_in (zero errors skipped: exact)."""
    out = np.zeros(weights.shape[1] - 1)
    for j in range(weights.shape[0]):
        d = errors[j]
        if d == 0.0:
            continue
        for i in range(weights.shape[1] - 1):
            out[i] += weights[j, i] * d
    return out


@njit()
def update_float(weights: np.ndarray, scaled_deltas: np.ndarray, inputs: np.ndarray, column_major: bool) -> None:
    """[SPEC 3.7] w[j, i] -= (eta delta_j) x_i, over the nonzero x_i alone when they are few (a zero x_i leaves w
    unchanged, up to the sign of a zero weight); with ``column_major`` the weights are stored as ``wt[i, j]`` (and
    every nonzero x_i updates one contiguous row)."""
    live, entries = nonzero(inputs)
    if column_major:
        for s in range(live.size):
            i, x = live[s], entries[s]
            for j in range(scaled_deltas.size):
                weights[i, j] = weights[i, j] - scaled_deltas[j] * x
        return
    if live.size >= SPARSE * inputs.size:
        for j in range(weights.shape[0]):
            scale = scaled_deltas[j]
            for i in range(weights.shape[1]):
                weights[j, i] = weights[j, i] - scale * inputs[i]
        return
    for j in range(weights.shape[0]):
        scale = scaled_deltas[j]
        for s in range(live.size):
            i = live[s]
            weights[j, i] = weights[j, i] - scale * entries[s]
