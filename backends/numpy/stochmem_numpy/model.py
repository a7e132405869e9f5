"""A network on NumPy arrays: the vectorized twin of :mod:`stochmem.network` ([SPEC 3])."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from stochmem.config import NetworkConfig
from stochmem.network import Layer, StepResult
from stochmem.rng import Draw, Site
from stochmem_numpy import kernels
from stochmem_numpy.kernels import F64


def update_crossbar(weights: F64, g_plus: F64 | None, g_minus: F64 | None, config: NetworkConfig, seed: int,
                    index: int, inputs: F64, deltas: F64, eta: float, step: int) -> None:
    """[SPEC 3.7, 3.8, 4.3] One crossbar's update, in place; ``inputs`` end with the bias 1.

    The twin of :func:`stochmem.network.update_layer`.
    """
    if config.kind == "float":
        weights -= np.outer(eta * deltas, inputs)
        return
    gain, dw_min = kernels.update_gain(eta, config)
    counts = kernels.coincidence_counts(
        np.minimum(1.0, gain * inputs), np.minimum(1.0, gain * np.abs(deltas)), config.bit_length,
        Draw(seed, Site.UPDATE_ROW, step, index), Draw(seed, Site.UPDATE_COLUMN, step, index))
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
            self.synapses.append(np.arange(n_out * (n_in + 1), dtype=np.int64).reshape(n_out, n_in + 1))
            if config.kind == "memristive":
                g_plus, g_minus = kernels.initial_pairs(
                    weights, config.device, Draw(seed, Site.INIT_DEVICE_NOISE, 0, layer))
                self.g_plus.append(g_plus)
                self.g_minus.append(g_minus)
                weights = config.device.dw_min * (g_plus - g_minus)
            self.weights.append(weights)

    # --- the passes -------------------------------------------------------------------------------------------

    def _inputs(self, values: F64, draw: Draw | None, config: NetworkConfig) -> F64:
        """[SPEC 3.3] What the rows carry: exact values (float) or decoded streams, bias 1 last."""
        carried = values if config.kind == "float" or draw is None else kernels.decoded(values, config.bit_length,
                                                                                         draw)
        return np.append(carried, 1.0)

    def _forward(self, image: F64, site: Site, step: int, aux: int, config: NetworkConfig
                 ) -> tuple[list[F64], F64]:
        """[SPEC 3.3, eq. 1] Activations entering each crossbar (then the softmax output) and the logits."""
        values = [image]
        logits = np.zeros(0)
        last = len(self.weights) - 1
        for index, weights in enumerate(self.weights):
            inputs = self._inputs(values[-1], Draw(self.seed, site, step, index, aux), config)
            pre = weights @ inputs
            if index == last:
                logits = pre
                values.append(kernels.softmax(pre))
            else:
                values.append(kernels.sigmoid(pre))
        return values, logits

    def _backward(self, values: list[F64], label: int, step: int) -> list[F64]:
        """[SPEC 3.6, eq. 2] Errors at the outputs of every crossbar, output layer last."""
        delta = values[-1].copy()
        delta[label] -= 1.0
        deltas = [delta]
        bl = self.config.bit_length
        for index in range(len(self.weights) - 1, 0, -1):
            above = deltas[0]
            if self.config.kind == "float":
                sent = above
            else:
                draw = Draw(self.seed, Site.BACKWARD_STREAM, step, index)
                sent = kernels.signs(above) * kernels.decoded(np.minimum(1.0, np.abs(above)), bl, draw)
            below = values[index]
            errors = self.weights[index][:, :-1].T @ sent
            deltas.insert(0, errors * below * (1.0 - below))
        return deltas

    def _update(self, index: int, inputs: F64, deltas: F64, eta: float, step: int) -> None:
        g_plus = self.g_plus[index] if self.g_plus else None
        g_minus = self.g_minus[index] if self.g_minus else None
        update_crossbar(self.weights[index], g_plus, g_minus, self.config, self.seed, index, inputs, deltas, eta,
                        step)

    def _reset(self, step: int) -> None:
        """[SPEC 4.5] Reset every crossbar."""
        params = self.config.device
        for index in range(len(self.weights)):
            g_plus, g_minus = kernels.reset(self.g_plus[index], self.g_minus[index], self.synapses[index], params,
                                            Draw(self.seed, Site.RESET_NOISE, step, index))
            self.g_plus[index], self.g_minus[index] = g_plus, g_minus
            self.weights[index] = params.dw_min * (g_plus - g_minus)

    # --- the Model contract -----------------------------------------------------------------------------------

    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        """[SPEC 3.5] Forward, backward, update every crossbar, then the periodic reset."""
        values, logits = self._forward(np.asarray(image, dtype=np.float64), Site.FORWARD_STREAM, step, 0,
                                       self.config)
        deltas = self._backward(values, label, step)
        for index in range(len(self.weights)):
            self._update(index, np.append(values[index], 1.0), deltas[index], eta, step)
        if self.config.kind == "memristive" and (step + 1) % self.config.device.reset_every == 0:
            self._reset(step)
        loss = -math.log(max(float(values[-1][label]), 1e-300))
        return StepResult(loss, int(np.argmax(logits)))

    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        """[SPEC 3.9]"""
        config = self.config if bit_length is None else replace(self.config, bit_length=bit_length)
        _, logits = self._forward(np.asarray(image, dtype=np.float64), Site.EVAL_STREAM, image_index, repeat,
                                  config)
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
