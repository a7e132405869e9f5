# mypy: disable-error-code="assignment"
"""A whole training step (and a whole inference) in one compiled call ([SPEC 3.3-3.9]); the reset ([SPEC 4.5]) in a
call of its own.

At batch size 1 the work of a step is small, so calling a kernel per layer and per pass from Python cost more
than the kernels (a profile of the per-layer version: ~230 us of ~380 us per stochastic step outside the kernels).
Here the forward pass, the backward pass and every crossbar's update run in one serial call; the per-crossbar
kernels of :mod:`stochmem_numba.kernels` and the streams of :mod:`stochmem_numba.streams` do the work.

Compile time shapes this module as much as run time does (a cold first step is mostly compilation):

- each kind has its own entry point (``train_step_float``, ``..._stochastic``, ``..._memristive``), so a run
  compiles its own kind's update and not the others';
- the functions that only orchestrate are ``inline="always"``: numba links every callee's machine code into its
  caller and optimises and generates code for the whole again, so each level of calls between an entry point and
  the kernels repeated that work for everything below it.

The periodic reset is :func:`reset_all`, which the model calls after the step every ``reset_every`` images: its
kernel is the one parallel kernel (a millisecond of work), and a cached serial function may not call a parallel one
(it crashes when loaded from the cache: numba issues #4807, #8578).

Layers are passed as tuples of 2-D arrays: ``weights[0]`` column-major, of shape (n_in + 1, n_out) (see
:mod:`stochmem_numba.kernels`: the first crossbar's input is mostly zeros), the others row-major, of shape
(n_out, n_in + 1); the device levels ``g_plus[l]``, ``g_minus[l]`` are all row-major. Activations and errors live
in flat buffers, layer l's at ``offsets[l]``. ``kind`` is one of the ``KIND_*`` codes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from stochmem.rng import Site
from stochmem_numba.jit import njit
from stochmem_numba.kernels import (
    matvec,
    matvec_by_inputs,
    reset,
    transposed_matvec,
    update_float,
    update_memristive,
    update_stochastic,
)
from stochmem_numba.streams import gather_rows, stream_counts, stream_packed

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
    the stream length, the device's noise, noise mode, top level and reset period, the reset's write noise and
    level threshold ([SPEC 4.5]), and the run's Philox key. One argument instead of fourteen, in the order of the
    contract's ``update_layer``: crossbar, inputs, errors, rule."""

    kind: int
    eta: float
    gain: float
    dw_min: float
    bit_length: int
    sigma: float
    pulse_mode: bool
    top: float
    reset_every: int
    reset_sigma: float
    reset_level: float
    k0: np.uint64
    k1: np.uint64

    @classmethod
    def typed(cls, *fields: Any) -> UpdateRule:
        """The rule of ``fields``, each converted to its field's type, so that a rule has one numba type whatever
        the config's numbers are (an int sigma, a NumPy float eta): the type the compile helper compiles the steps
        for (:func:`stochmem_numba.precompile.kernel_signatures`)."""
        return cls(*(kind(value) for kind, value in zip(FIELD_TYPES, fields, strict=True)))  # type: ignore[arg-type]  # converted by FIELD_TYPES


FIELD_TYPES = (int, float, float, float, int, float, bool, float, int, float, float, np.uint64, np.uint64)
assert len(FIELD_TYPES) == len(UpdateRule._fields)  # in UpdateRule's order


@njit(inline="always")
def copy_into(source: np.ndarray, target: np.ndarray) -> None:
    """target[k] = source[k]."""
    for k in range(source.size):
        target[k] = source[k]


@njit(inline="always")
def offsets_of(counts: np.ndarray) -> np.ndarray:
    """offsets[l] = counts[0] + ... + counts[l - 1]."""
    out = np.zeros(counts.size + 1, dtype=np.int64)
    for k in range(counts.size):
        out[k + 1] = out[k] + counts[k]
    return out


@njit(inline="always")
def first_maximum(values: np.ndarray) -> int:
    """The index of the first largest value (NumPy's argmax; the reference's max over classes)."""
    best = 0
    for k in range(1, values.size):
        if values[k] > values[best]:
            best = k
    return best


@njit(inline="always")
def sigmoid_into(z: np.ndarray, out: np.ndarray) -> None:
    """[SPEC 3.2] The reference's overflow-free sigmoid, branch for branch."""
    for k in range(z.size):
        e = math.exp(-abs(z[k]))
        out[k] = 1.0 / (1.0 + e) if z[k] >= 0.0 else e / (1.0 + e)


@njit(inline="always")
def softmax_into(z: np.ndarray, out: np.ndarray) -> None:
    """[SPEC 3.2] exp(z - max z) over their sum (compensated, as close to the reference's fsum as rounding
    allows)."""
    top = z[first_maximum(z)]
    total, compensation = 0.0, 0.0
    for k in range(z.size):
        out[k] = math.exp(z[k] - top)
        t = total + out[k]
        compensation += (total - t) + out[k] if abs(total) >= abs(out[k]) else (out[k] - t) + total
        total = t
    total += compensation
    for k in range(z.size):
        out[k] = out[k] / total


@njit(inline="always")
def decoded_into(values: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                 c2: np.uint64, site: np.uint64, out: np.ndarray) -> None:
    """[SPEC 1.1] out[i] = popcount / BL of the stream of values[i]."""
    counts = np.empty(values.size, dtype=np.int64)
    stream_counts(values, bit_length, k0, k1, step, c2, site, counts)
    for i in range(values.size):
        out[i] = counts[i] / bit_length


@njit(inline="always")
def forward(weights: tuple[np.ndarray, ...], sizes: np.ndarray, offsets: np.ndarray, image: np.ndarray,
            acts: np.ndarray, streamed: bool, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
            aux: int, site: np.uint64) -> np.ndarray:
    """[SPEC 3.3, eq. 1] Fill ``acts`` with the input and every layer's output (softmax last; layer l's at
    ``offsets[l] = offsets_of(sizes)[l]``); return the logits. ``weights[0]`` is column-major (the module's
    docstring).

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
        pre = matvec_by_inputs(weights[0], carried) if layer == 0 else matvec(weights[layer], carried)
        out = acts[offsets[layer + 1] : offsets[layer + 2]]
        if layer == last:
            copy_into(pre, logits)
            softmax_into(pre, out)
        else:
            sigmoid_into(pre, out)
    return logits


@njit(inline="always")
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


@njit(inline="always")
def update_streams(inputs: np.ndarray, deltas: np.ndarray, rule: UpdateRule, step: np.uint64, layer: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """[SPEC 3.8] The update's packed row streams (live rows only, gathered), live rows, packed column streams and
    live columns: rows carry min(1, C x_i), columns min(1, C |delta_j|)."""
    n_words = (rule.bit_length + 63) // 64
    probabilities = np.empty(inputs.size)
    for i in range(inputs.size):
        probabilities[i] = min(1.0, rule.gain * inputs[i])
    rows = np.empty((inputs.size, n_words), dtype=np.uint64)
    live_rows = stream_packed(probabilities, rule.bit_length, rule.k0, rule.k1, step, np.uint64(layer), UPDATE_ROW,
                              rows)
    probabilities = np.empty(deltas.size)
    for j in range(deltas.size):
        probabilities[j] = min(1.0, rule.gain * abs(deltas[j]))
    columns = np.empty((deltas.size, n_words), dtype=np.uint64)
    live_columns = stream_packed(probabilities, rule.bit_length, rule.k0, rule.k1, step, np.uint64(layer),
                                 UPDATE_COLUMN, columns)
    return gather_rows(rows, live_rows), live_rows, columns, live_columns


@njit(inline="always")
def float_update(weights: np.ndarray, inputs: np.ndarray, deltas: np.ndarray, rule: UpdateRule,
                 column_major: bool) -> None:
    """[SPEC 3.7] One float crossbar's update in place (``inputs`` end with the bias 1)."""
    scaled = np.empty(deltas.size)
    for j in range(deltas.size):
        scaled[j] = rule.eta * deltas[j]
    update_float(weights, scaled, inputs, column_major)


@njit(inline="always")
def stochastic_update(weights: np.ndarray, inputs: np.ndarray, deltas: np.ndarray, rule: UpdateRule,
                      step: np.uint64, layer: int, column_major: bool) -> None:
    """[SPEC 3.8] One stochastic crossbar's update in place: steps of dw_min per coincidence."""
    rows, live_rows, columns, live_columns = update_streams(inputs, deltas, rule, step, layer)
    step_sizes = np.empty(deltas.size)
    for j in range(deltas.size):
        step_sizes[j] = (1.0 if deltas[j] >= 0.0 else -1.0) * rule.dw_min
    update_stochastic(weights, rows, live_rows, columns, live_columns, step_sizes, column_major)


@njit(inline="always")
def memristive_update(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, inputs: np.ndarray,
                      deltas: np.ndarray, rule: UpdateRule, step: np.uint64, layer: int, column_major: bool) -> None:
    """[SPEC 3.8, 4.3] One memristive crossbar's update in place: coincidences program the device pairs."""
    rows, live_rows, columns, live_columns = update_streams(inputs, deltas, rule, step, layer)
    falling = np.empty(deltas.size, dtype=np.bool_)
    for j in range(deltas.size):
        falling[j] = deltas[j] > 0.0
    update_memristive(weights, g_plus, g_minus, rows, live_rows, columns, live_columns, falling, rule.sigma,
                      rule.pulse_mode, rule.bit_length, rule.top, rule.dw_min, rule.k0, rule.k1, step,
                      np.uint64(layer), column_major)


def crossbar_update(weights: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray, inputs: np.ndarray,
                    deltas: np.ndarray, rule: UpdateRule, step: np.uint64, layer: int) -> None:
    """[SPEC 3.7, 3.8, 4.3] One crossbar's update in place (``inputs`` end with the bias 1) by the kernel of the
    rule's kind; the twin of :func:`stochmem.network.update_layer`. ``g_plus``/``g_minus`` are read only by the
    memristive kind; all are row-major."""
    if rule.kind == KIND_FLOAT:
        float_update(weights, inputs, deltas, rule, False)
    elif rule.kind == KIND_STOCHASTIC:
        stochastic_update(weights, inputs, deltas, rule, step, layer, False)
    else:
        memristive_update(weights, g_plus, g_minus, inputs, deltas, rule, step, layer, False)


@njit(inline="always")
def passes(weights: tuple[np.ndarray, ...], sizes: np.ndarray, image: np.ndarray, label: int, step: np.uint64,
           rule: UpdateRule) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int]:
    """[SPEC 3.3-3.6] The forward and backward passes of a training step: returns the activations, the errors at
    the crossbars' outputs, their offsets, and the loss and predicted class of the forward pass."""
    streamed = rule.kind != KIND_FLOAT
    act_offsets, offsets = offsets_of(sizes), offsets_of(sizes[1:])
    acts = np.empty(act_offsets[-1])
    errors = np.empty(offsets[-1])
    logits = forward(weights, sizes, act_offsets, image, acts, streamed, rule.bit_length, rule.k0, rule.k1, step, 0,
                     FORWARD_STREAM)
    backward(weights, sizes, act_offsets, offsets, acts, label, errors, streamed, rule.bit_length, rule.k0, rule.k1,
             step)
    probability = acts[act_offsets[sizes.size - 1] + label]
    return acts, errors, act_offsets, offsets, -math.log(max(probability, 1e-300)), first_maximum(logits)


@njit(inline="always")
def layer_inputs(acts: np.ndarray, act_offsets: np.ndarray, layer: int) -> np.ndarray:
    """Crossbar ``layer``'s input activations followed by the bias 1."""
    below = acts[act_offsets[layer] : act_offsets[layer + 1]]
    inputs = np.empty(below.size + 1)
    copy_into(below, inputs[: below.size])
    inputs[below.size] = 1.0
    return inputs


# One compiled step per kind, so that a run compiles only its own kind's update ([SPEC 3.5]; with reset_all when
# due, each is the twin of stochmem.network.Network.train_step). Each returns the loss and the predicted class.

@njit()
def train_step_float(weights: tuple[np.ndarray, ...], sizes: np.ndarray, image: np.ndarray, label: int, step: int,
                     rule: UpdateRule) -> tuple[float, int]:
    """[SPEC 3.5, 3.7] A float network's training step."""
    acts, errors, act_offsets, offsets, loss, prediction = passes(weights, sizes, image, label, np.uint64(step), rule)
    for layer in range(sizes.size - 1):
        float_update(weights[layer], layer_inputs(acts, act_offsets, layer),
                     errors[offsets[layer] : offsets[layer + 1]], rule, layer == 0)
    return loss, prediction


@njit()
def train_step_stochastic(weights: tuple[np.ndarray, ...], sizes: np.ndarray, image: np.ndarray, label: int,
                          step: int, rule: UpdateRule) -> tuple[float, int]:
    """[SPEC 3.5, 3.8] A stochastic network's training step."""
    counter = np.uint64(step)
    acts, errors, act_offsets, offsets, loss, prediction = passes(weights, sizes, image, label, counter, rule)
    for layer in range(sizes.size - 1):
        stochastic_update(weights[layer], layer_inputs(acts, act_offsets, layer),
                          errors[offsets[layer] : offsets[layer + 1]], rule, counter, layer, layer == 0)
    return loss, prediction


@njit()
def train_step_memristive(weights: tuple[np.ndarray, ...], g_plus: tuple[np.ndarray, ...],
                          g_minus: tuple[np.ndarray, ...], sizes: np.ndarray, image: np.ndarray, label: int,
                          step: int, rule: UpdateRule) -> tuple[float, int]:
    """[SPEC 3.5, 3.8, 4.3] A memristive network's training step (without the periodic reset: :func:`reset_all`)."""
    counter = np.uint64(step)
    acts, errors, act_offsets, offsets, loss, prediction = passes(weights, sizes, image, label, counter, rule)
    for layer in range(sizes.size - 1):
        memristive_update(weights[layer], g_plus[layer], g_minus[layer], layer_inputs(acts, act_offsets, layer),
                          errors[offsets[layer] : offsets[layer + 1]], rule, counter, layer, layer == 0)
    return loss, prediction


def reset_due(rule: UpdateRule, step: int) -> bool:
    """[SPEC 4.5] Whether the devices are reset after training step ``step`` (every ``reset_every`` images)."""
    return rule.kind == KIND_MEMRISTIVE and (step + 1) % rule.reset_every == 0


def reset_all(weights: Sequence[np.ndarray], g_plus: Sequence[np.ndarray], g_minus: Sequence[np.ndarray], step: int,
              rule: UpdateRule, kernel: Any = reset) -> None:
    """[SPEC 4.5] Reset every crossbar's device pairs after training step ``step`` (each crossbar's rows spread
    over the threads by :func:`stochmem_numba.kernels.reset`, or its ``kernel`` twin); ``weights[0]``
    column-major, as in the steps."""
    for layer, crossbar in enumerate(weights):
        kernel(crossbar, g_plus[layer], g_minus[layer], rule.reset_sigma, rule.reset_level, rule.top, rule.dw_min,
              rule.k0, rule.k1, np.uint64(step), np.uint64(layer), layer == 0)


@njit()
def predict(streamed: bool, weights: tuple[np.ndarray, ...], sizes: np.ndarray, image: np.ndarray,
            image_index: int, repeat: int, bit_length: int, k0: np.uint64, k1: np.uint64) -> int:
    """[SPEC 3.9] The predicted class of test image ``image_index`` in evaluation repeat ``repeat``."""
    offsets = offsets_of(sizes)
    acts = np.empty(offsets[-1])
    logits = forward(weights, sizes, offsets, image, acts, streamed, bit_length, k0, k1, np.uint64(image_index),
                     repeat, EVAL_STREAM)
    return first_maximum(logits)
