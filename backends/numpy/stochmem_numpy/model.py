"""A network on NumPy arrays: the vectorized twin of :mod:`stochmem.network` ([SPEC 3]).

Speed comes from drawing every stream word a training step needs in one Philox call before the forward pass
(:class:`~stochmem_numpy.kernels.PrefetchedStreams`), and every programming-noise normal of a crossbar in one
more: a step costs a few dozen NumPy calls instead of hundreds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from stochmem.config import NetworkConfig
from stochmem.network import Layer, StepResult, update_gain
from stochmem.rng import Draw, Site
from stochmem_numpy import kernels
from stochmem_numpy.kernels import F64, PrefetchedStreams


def update_crossbar(weights: F64, g_plus: F64 | None, g_minus: F64 | None, inputs: F64, deltas: F64, eta: float,
                    config: NetworkConfig, seed: int, step: int, index: int,
                    streams: PrefetchedStreams | None = None) -> None:
    """[SPEC 3.7, 3.8, 4.3] One crossbar's update, in place; ``inputs`` end with the bias 1. The arguments
    after the crossbar come in the order of the contract's ``update_layer``.

    The twin of :func:`stochmem.network.update_layer`. ``streams`` holds the step's prefetched words; without
    it the row and column streams are drawn here.
    """
    if config.kind == "float":
        weights -= np.outer(eta * deltas, inputs)
        return
    gain, dw_min = update_gain(eta, config)
    row_p, column_p = np.minimum(1.0, gain * inputs), np.minimum(1.0, gain * np.abs(deltas))
    if streams is None:
        counts = kernels.coincidence_counts(row_p, column_p, config.bit_length,
                                            Draw(seed, Site.UPDATE_ROW, step, index),
                                            Draw(seed, Site.UPDATE_COLUMN, step, index))
    else:
        counts = kernels.counts_from_bits(streams.bits(Site.UPDATE_ROW, index, row_p),
                                          streams.bits(Site.UPDATE_COLUMN, index, column_p))
    if config.kind == "stochastic":
        weights -= (kernels.signs(deltas) * dw_min)[:, None] * counts
        return
    assert g_plus is not None and g_minus is not None
    live = np.flatnonzero(counts.any(axis=1))
    if live.size == 0:
        return
    width = weights.shape[1]
    live_counts = counts[live]
    fire = live_counts > 0
    synapses = live[:, None] * width + np.arange(width)
    increments = np.zeros(live_counts.shape)
    increments[fire] = kernels.program_increments(live_counts[fire], synapses[fire], config.device,
                                                  Draw(seed, Site.PROGRAM_NOISE, step, index), config.bit_length)
    top = float(config.device.top_level)
    falling = deltas[live] > 0.0  # the weight must fall: program G-; otherwise G+
    for rows, row_increments, targets in ((live[falling], increments[falling], g_minus),
                                          (live[~falling], increments[~falling], g_plus)):
        targets[rows] = np.minimum(np.maximum(targets[rows] + row_increments, 0.0), top)
    weights[live] = config.device.dw_min * (g_plus[live] - g_minus[live])


class NumpyModel:
    """Weights ``weights[l]`` of shape (n_out, n_in + 1); for memristive networks level coordinates too."""

    def __init__(self, config: NetworkConfig, seed: int) -> None:
        self.config = config
        self.seed = seed
        self.weights: list[F64] = []
        self.g_plus: list[F64] = []
        self.g_minus: list[F64] = []
        self.synapses: list[NDArray[np.int64]] = []
        for layer, (n_in, n_out) in enumerate(zip(config.sizes[:-1], config.sizes[1:])):
            weights = kernels.init_weights(n_in, n_out, seed, layer)
            self.synapses.append(np.arange(n_out * (n_in + 1), dtype=np.int64))
            if config.kind == "memristive":
                g_plus, g_minus = kernels.initial_pairs(
                    weights, config.device, Draw(seed, Site.INIT_DEVICE_NOISE, 0, layer))
                self.g_plus.append(g_plus)
                self.g_minus.append(g_minus)
                weights = config.device.dw_min * (g_plus - g_minus)
            self.weights.append(weights)

    # --- which words a pass needs ------------------------------------------------------------------------------

    def _plan(self, image: F64, step: int, sites: Sequence[Site], aux: int = 0) -> dict[tuple[Site, int],
                                                                                      tuple[Draw, NDArray[np.int64]]]:
        """The rows of each (site, crossbar) that may need words. Only non-zero pixels do at crossbar 0."""
        sizes = self.config.sizes
        pixels = np.flatnonzero(image > 0.0)
        plan = {}
        for index in range(len(self.weights)):
            for site in sites:
                if site == Site.BACKWARD_STREAM and index == 0:
                    continue  # errors are not sent below the first crossbar
                if site in (Site.BACKWARD_STREAM, Site.UPDATE_COLUMN):
                    rows = np.arange(sizes[index + 1])
                elif index == 0:
                    rows = np.append(pixels, sizes[0]) if site == Site.UPDATE_ROW else pixels
                else:
                    rows = np.arange(sizes[index] + (site == Site.UPDATE_ROW))
                plan[(site, index)] = (Draw(self.seed, site, step, index, aux), rows)
        return plan

    # --- the passes -------------------------------------------------------------------------------------------

    def _matvec(self, weights: F64, inputs: F64) -> F64:
        """[SPEC 3.3] Column sums z_j = sum_i w[j, i] x_i (bias included in ``inputs``)."""
        result: F64 = weights @ inputs
        return result

    def _transposed_matvec(self, weights: F64, errors: F64) -> F64:
        """[SPEC 3.6] Row sums e_i = sum_j w[j, i] delta_j over the non-bias rows."""
        result: F64 = weights[:, :-1].T @ errors
        return result

    def _forward(self, image: F64, streams: PrefetchedStreams | None, site: Site) -> tuple[list[F64], F64]:
        """[SPEC 3.3, eq. 1] Activations entering each crossbar (then the softmax output) and the logits."""
        values = [image]
        logits = np.zeros(0)
        last = len(self.weights) - 1
        for index, weights in enumerate(self.weights):
            carried = values[-1] if streams is None else streams.decoded(site, index, values[-1])
            pre = self._matvec(weights, np.append(carried, 1.0))
            if index == last:
                logits = pre
                values.append(kernels.softmax(pre))
            else:
                values.append(kernels.sigmoid(pre))
        return values, logits

    def _backward(self, values: list[F64], label: int, streams: PrefetchedStreams | None) -> list[F64]:
        """[SPEC 3.6, eq. 2] Errors at the outputs of every crossbar, output layer last."""
        delta = values[-1].copy()
        delta[label] -= 1.0
        deltas = [delta]
        for index in range(len(self.weights) - 1, 0, -1):
            above = deltas[0]
            if streams is None:
                sent = above
            else:
                magnitudes = streams.decoded(Site.BACKWARD_STREAM, index, np.minimum(1.0, np.abs(above)))
                sent = kernels.signs(above) * magnitudes
            below = values[index]
            errors = self._transposed_matvec(self.weights[index], sent)
            deltas.insert(0, errors * below * (1.0 - below))
        return deltas

    def _reset(self, step: int) -> None:
        """[SPEC 4.5] Reset every crossbar."""
        params = self.config.device
        for index, weights in enumerate(self.weights):
            g_plus, g_minus = kernels.reset(self.g_plus[index].reshape(-1), self.g_minus[index].reshape(-1),
                                            self.synapses[index], params,
                                            Draw(self.seed, Site.RESET_NOISE, step, index))
            self.g_plus[index], self.g_minus[index] = g_plus.reshape(weights.shape), g_minus.reshape(weights.shape)
            self.weights[index] = params.dw_min * (self.g_plus[index] - self.g_minus[index])

    # --- the Model contract -----------------------------------------------------------------------------------

    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        """[SPEC 3.5] Forward, backward, update every crossbar, then the periodic reset."""
        config = self.config
        pixels = np.asarray(image, dtype=np.float64)
        streams = None
        if config.kind != "float":
            sites = (Site.FORWARD_STREAM, Site.BACKWARD_STREAM, Site.UPDATE_ROW, Site.UPDATE_COLUMN)
            streams = PrefetchedStreams(self.seed, step, config.bit_length, self._plan(pixels, step, sites))
        values, logits = self._forward(pixels, streams, Site.FORWARD_STREAM)
        deltas = self._backward(values, label, streams)
        for index, weights in enumerate(self.weights):
            update_crossbar(weights, self.g_plus[index] if self.g_plus else None,
                            self.g_minus[index] if self.g_minus else None, np.append(values[index], 1.0),
                            deltas[index], eta, config, self.seed, step, index, streams)
        if config.kind == "memristive" and (step + 1) % config.device.reset_every == 0:
            self._reset(step)
        loss = -math.log(max(float(values[-1][label]), 1e-300))
        return StepResult(loss, int(np.argmax(logits)))

    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        """[SPEC 3.9]"""
        pixels = np.asarray(image, dtype=np.float64)
        streams = None
        if self.config.kind != "float":
            length = bit_length or self.config.bit_length
            plan = self._plan(pixels, image_index, (Site.EVAL_STREAM,), repeat)
            streams = PrefetchedStreams(self.seed, image_index, length, plan)
        _, logits = self._forward(pixels, streams, Site.EVAL_STREAM)
        return int(np.argmax(logits))

    def export_layers(self) -> list[Layer]:
        if self.config.kind != "memristive":
            return [Layer(w.tolist()) for w in self.weights]
        return [Layer(w.tolist(), gp.tolist(), gm.tolist())
                for w, gp, gm in zip(self.weights, self.g_plus, self.g_minus)]

    def load_layers(self, layers: list[Layer]) -> None:
        self.weights = [np.array(layer.weights, dtype=np.float64) for layer in layers]
        if self.config.kind == "memristive":
            self.g_plus = [np.array(layer.g_plus, dtype=np.float64) for layer in layers]
            self.g_minus = [np.array(layer.g_minus, dtype=np.float64) for layer in layers]
