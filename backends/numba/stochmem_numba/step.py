# mypy: disable-error-code="assignment"
"""A whole training step (and a whole inference) in one compiled call ([SPEC 3.3-3.9, 4.5]).

At batch size 1 the work of a step is small, so calling a kernel per layer and per pass from Python cost more
than the kernels (a profile of the per-layer version: ~230 us of ~380 us per stochastic step outside the kernels).
Here the forward pass, the backward pass, every crossbar's update and the periodic reset run in one call; the
per-crossbar kernels of :mod:`stochmem_numba.kernels` do the work, exactly as before.

Every function that calls a parallel kernel is itself ``parallel=True``: a cached serial caller of a parallel
function crashes when loaded from the cache (numba issues #4807, #8578). These callers have no parallel loop of
their own (their array work is written as loops: an array expression would become a parallel region, whose launch
costs more than the work), so numba's warning that nothing was parallelised is silenced here, for them alone.

Layers are passed as tuples of 2-D arrays (``weights[l]`` of shape (n_out, n_in + 1)); activations and errors
live in flat buffers, layer l's at ``offsets[l]``. ``kind`` is one of the ``KIND_*`` codes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numba.core.errors import NumbaPerformanceWarning

from stochmem.rng import Site
from stochmem_numba.jit import njit
from stochmem_numba.kernels import (
    matvec,
    reset,
    stream_counts,
    stream_packed,
    transposed_matvec,
    update_float,
    update_memristive,
    update_stochastic,
)

T = TypeVar("T")
NOTHING_PARALLELISED = "(?s).*The keyword argument 'parallel=True' was specified but no transformation"


def quietly(kernel: Callable[..., T], *args: Any) -> T:
    """Call ``kernel``, without numba's warning that nothing in it was parallelised (true here, on purpose) if the
    call compiles it. A module-level filter is not enough: imported inside a test, it ends with that test."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=NumbaPerformanceWarning, message=NOTHING_PARALLELISED)
        return kernel(*args)

KIND_FLOAT, KIND_STOCHASTIC, KIND_MEMRISTIVE = 0, 1, 2
KIND_CODES = {"float": KIND_FLOAT, "stochastic": KIND_STOCHASTIC, "memristive": KIND_MEMRISTIVE}
FORWARD_STREAM = np.uint64(int(Site.FORWARD_STREAM))
BACKWARD_STREAM = np.uint64(int(Site.BACKWARD_STREAM))
UPDATE_ROW = np.uint64(int(Site.UPDATE_ROW))
UPDATE_COLUMN = np.uint64(int(Site.UPDATE_COLUMN))
EVAL_STREAM = np.uint64(int(Site.EVAL_STREAM))


class UpdateRule(NamedTuple):
    """What a step's update needs besides the crossbar and its inputs and errors ([SPEC 3.7, 3.8, 4.3-4.5]): the
    kind (a ``KIND_*`` code), the learning rate, the gain C and dw_min of :func:`stochmem.network.update_gain`,
    the stream length, the device's noise, noise mode, top level and reset period, and the run's Philox key. One
    argument instead of twelve, in the order of the contract's ``update_layer``: crossbar, inputs, errors, rule."""

    kind: int
    eta: float
    gain: float
    dw_min: float
    bit_length: int
    sigma: float
    pulse_mode: bool
    top: float
    reset_every: int
    k0: np.uint64
    k1: np.uint64


@njit()
def copy_into(source: np.ndarray, target: np.ndarray) -> None:
    """target[k] = source[k]. A loop, not slice assignment: in a ``parallel=True`` function every array expression
    becomes a parallel region, whose launch costs more than these copies."""
    for k in range(source.size):
        target[k] = source[k]


@njit()
def offsets_of(counts: np.ndarray) -> np.ndarray:
    """offsets[l] = counts[0] + ... + counts[l - 1]."""
    out = np.zeros(counts.size + 1, dtype=np.int64)
    for k in range(counts.size):
        out[k + 1] = out[k] + counts[k]
    return out


@njit()
def first_maximum(values: np.ndarray) -> int:
    """The index of the first largest value (NumPy's argmax; the reference's max over classes)."""
    best = 0
    for k in range(1, values.size):
        if values[k] > values[best]:
            best = k
    return best


@njit()
def sigmoid_into(z: np.ndarray, out: np.ndarray) -> None:
    """[SPEC 3.2] The reference's overflow-free sigmoid, branch for branch."""
    for k in range(z.size):
        e = math.exp(-abs(z[k]))
        out[k] = 1.0 / (1.0 + e) if z[k] >= 0.0 else e / (1.0 + e)


@njit()
def softmax_into(z: np.ndarray, out: np.ndarray) -> None:
    """[SPEC 3.2] exp(z - max z) over their sum (compensated, as close to the reference's fsum as rounding
    allows)."""
    top = z.max()
    total, compensation = 0.0, 0.0
    for k in range(z.size):
        out[k] = math.exp(z[k] - top)
        t = total + out[k]
        compensation += (total - t) + out[k] if abs(total) >= abs(out[k]) else (out[k] - t) + total
        total = t
    total += compensation
    for k in range(z.size):
        out[k] = out[k] / total


@njit()
def decoded_into(values: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                 c2: np.uint64, site: np.uint64, out: np.ndarray) -> None:
    """[SPEC 1.1] out[i] = popcount / BL of the stream of values[i]."""
    counts = np.empty(values.size, dtype=np.int64)
    stream_counts(values, bit_length, k0, k1, step, c2, site, counts)
    for i in range(values.size):
        out[i] = counts[i] / bit_length


@njit(parallel=True)
def forward(weights: tuple[np.ndarray, ...], sizes: np.ndarray, offsets: np.ndarray, image: np.ndarray,
            acts: np.ndarray, streamed: bool, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
            aux: int, site: np.uint64) -> np.ndarray:
    """[SPEC 3.3, eq. 1] Fill ``acts`` with the input and every layer's output (softmax last; layer l's at
    ``offsets[l] = offsets_of(sizes)[l]``); return the logits.

    With ``streamed`` each crossbar reads its input as pulse streams (site, step, layer | aux << 8).
    """
    copy_into(image, acts[: sizes[0]])
    last = sizes.size - 2
    logits = np.empty(sizes[last + 1])
    for layer in range(last + 1):
        n_in = sizes[layer]
        carried = np.empty(n_in + 1)
        below = acts[offsets[layer] : offsets[layer] + n_in]
        if streamed:
            decoded_into(below, bit_length, k0, k1, step, np.uint64(layer | (aux << 8)), site, carried[:n_in])
        else:
            copy_into(below, carried[:n_in])
        carried[n_in] = 1.0
        pre = matvec(weights[layer], carried)
        out = acts[offsets[layer + 1] : offsets[layer + 2]]
        if layer == last:
            copy_into(pre, logits)
            softmax_into(pre, out)
        else:
            sigmoid_into(pre, out)
    return logits


@njit(parallel=True)
def backward(weights: tuple[np.ndarray, ...], sizes: np.ndarray, act_offsets: np.ndarray, offsets: np.ndarray,
             acts: np.ndarray, label: int, errors: np.ndarray, streamed: bool, bit_length: int, k0: np.uint64,
             k1: np.uint64, step: np.uint64) -> None:
    """[SPEC 3.6, eq. 2] Fill ``errors`` with the error at the outputs of every crossbar (crossbar l's at
    ``offsets[l] = offsets_of(sizes[1:])[l]``; ``acts`` as :func:`forward` left them, at ``act_offsets``); with
    ``streamed`` errors travel down as sign and magnitude streams."""
    last = sizes.size - 2
    top = errors[offsets[last] : offsets[last + 1]]
    copy_into(acts[act_offsets[last + 1] : act_offsets[last + 2]], top)
    top[label] -= 1.0
    for layer in range(last, 0, -1):
        above = errors[offsets[layer] : offsets[layer + 1]]
        sent = np.empty(above.size)
        if streamed:
            for j in range(above.size):
                sent[j] = min(1.0, abs(above[j]))
            decoded_into(sent, bit_length, k0, k1, step, np.uint64(layer), BACKWARD_STREAM, sent)
            for j in range(above.size):
                sent[j] = (1.0 if above[j] >= 0.0 else -1.0) * sent[j]
        else:
            copy_into(above, sent)
        summed = transposed_matvec(weights[layer], sent)
        below = acts[act_offsets[layer] : act_offsets[layer + 1]]
        out = errors[offsets[layer - 1] : offsets[layer]]
        for i in range(out.size):
            out[i] = summed[i] * below[i] * (1.0 - below[i])


@njit(parallel=True)
def crossbar_update(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, inputs: np.ndarray,
                    deltas: np.ndarray, rule: UpdateRule, step: np.uint64, layer: int) -> None:
    """[SPEC 3.7, 3.8, 4.3] One crossbar's update in place (``inputs`` end with the bias 1); the twin of
    :func:`stochmem.network.update_layer`. ``g_plus``/``g_minus`` are read only by the memristive kind."""
    kind, eta, gain, dw_min, bit_length = rule.kind, rule.eta, rule.gain, rule.dw_min, rule.bit_length
    k0, k1 = rule.k0, rule.k1
    if kind == KIND_FLOAT:
        scaled = np.empty(deltas.size)
        for j in range(deltas.size):
            scaled[j] = eta * deltas[j]
        update_float(weights, scaled, inputs)
        return
    n_words = (bit_length + 63) // 64
    probabilities = np.empty(inputs.size)
    for i in range(inputs.size):
        probabilities[i] = min(1.0, gain * inputs[i])
    rows = np.empty((inputs.size, n_words), dtype=np.uint64)
    live_rows = stream_packed(probabilities, bit_length, k0, k1, step, np.uint64(layer), UPDATE_ROW, rows)
    probabilities = np.empty(deltas.size)
    for j in range(deltas.size):
        probabilities[j] = min(1.0, gain * abs(deltas[j]))
    columns = np.empty((deltas.size, n_words), dtype=np.uint64)
    live_columns = stream_packed(probabilities, bit_length, k0, k1, step, np.uint64(layer), UPDATE_COLUMN, columns)
    if kind == KIND_STOCHASTIC:
        step_sizes = np.empty(deltas.size)
        for j in range(deltas.size):
            step_sizes[j] = (1.0 if deltas[j] >= 0.0 else -1.0) * dw_min
        update_stochastic(weights, rows, live_rows, columns, live_columns, step_sizes)
    else:
        falling = np.empty(deltas.size, dtype=np.bool_)
        for j in range(deltas.size):
            falling[j] = deltas[j] > 0.0
        update_memristive(weights, g_plus, g_minus, rows, live_rows, columns, live_columns, falling, rule.sigma,
                          rule.pulse_mode, bit_length, rule.top, dw_min, k0, k1, step, np.uint64(layer))


@njit(parallel=True)
def train_step(weights: tuple[np.ndarray, ...], g_plus: tuple[np.ndarray, ...], g_minus: tuple[np.ndarray, ...],
               sizes: np.ndarray, image: np.ndarray, label: int, step: int, rule: UpdateRule) -> tuple[float, int]:
    """[SPEC 3.5] Forward, backward, every crossbar's update, then the periodic reset ([SPEC 4.5]); returns the
    loss and the predicted class of the forward pass. The twin of :meth:`stochmem.network.Network.train_step`."""
    kind, bit_length, k0, k1 = rule.kind, rule.bit_length, rule.k0, rule.k1
    streamed = kind != KIND_FLOAT
    counter = np.uint64(step)
    act_offsets, offsets = offsets_of(sizes), offsets_of(sizes[1:])
    acts = np.empty(act_offsets[-1])
    errors = np.empty(offsets[-1])
    logits = forward(weights, sizes, act_offsets, image, acts, streamed, bit_length, k0, k1, counter, 0,
                     FORWARD_STREAM)
    backward(weights, sizes, act_offsets, offsets, acts, label, errors, streamed, bit_length, k0, k1, counter)
    for layer in range(sizes.size - 1):
        inputs = np.empty(sizes[layer] + 1)
        copy_into(acts[act_offsets[layer] : act_offsets[layer + 1]], inputs)
        inputs[-1] = 1.0
        crossbar_update(weights[layer], g_plus[layer], g_minus[layer], inputs,
                        errors[offsets[layer] : offsets[layer + 1]], rule, counter, layer)
    if kind == KIND_MEMRISTIVE and (step + 1) % rule.reset_every == 0:
        for layer in range(sizes.size - 1):
            reset(weights[layer], g_plus[layer], g_minus[layer], rule.sigma, rule.top, rule.dw_min, k0, k1, counter,
                  np.uint64(layer))
    probability = acts[act_offsets[sizes.size - 1] + label]
    return -math.log(max(probability, 1e-300)), first_maximum(logits)


@njit(parallel=True)
def predict(streamed: bool, weights: tuple[np.ndarray, ...], sizes: np.ndarray, image: np.ndarray,
            image_index: int, repeat: int, bit_length: int, k0: np.uint64, k1: np.uint64) -> int:
    """[SPEC 3.9] The predicted class of test image ``image_index`` in evaluation repeat ``repeat``."""
    offsets = offsets_of(sizes)
    acts = np.empty(offsets[-1])
    logits = forward(weights, sizes, offsets, image, acts, streamed, bit_length, k0, k1, np.uint64(image_index),
                     repeat, EVAL_STREAM)
    return first_maximum(logits)
