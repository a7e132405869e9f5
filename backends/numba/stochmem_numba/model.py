"""The network on compiled kernels: NumPy arrays for state and the dense products, numba for the rest."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stochmem.config import NetworkConfig
from stochmem.network import StepResult, update_gain
from stochmem.rng import Site
from stochmem_numba import kernels
from stochmem_numpy import kernels as numpy_kernels
from stochmem_numpy.model import NumpyModel

F64 = np.ndarray


class CompiledStreams:
    """Streams of one (seed, step, aux), encoded by the compiled kernels on demand."""

    def __init__(self, seed: int, step: int, bit_length: int, aux: int = 0) -> None:
        self.k0, self.k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
        self.step = np.uint64(step)
        self.aux = aux
        self.bit_length = bit_length
        self.n_words = (bit_length + 63) // 64

    def c2(self, layer: int) -> np.uint64:
        return np.uint64(layer | (self.aux << 8))

    def decoded(self, site: Site, layer: int, probabilities: F64) -> F64:
        """[SPEC 1.1] popcount/BL of the streams of ``probabilities`` at (site, layer)."""
        counts = np.empty(probabilities.size, dtype=np.int64)
        kernels.stream_counts(probabilities, self.bit_length, self.k0, self.k1, self.step, self.c2(layer),
                              np.uint64(int(site)), counts)
        result: F64 = counts / self.bit_length
        return result

    def packed(self, site: Site, layer: int, probabilities: F64) -> tuple[np.ndarray, np.ndarray]:
        """[SPEC 1.2, 1.3] Packed streams and the indices of those that pulse."""
        packed = np.empty((probabilities.size, self.n_words), dtype=np.uint64)
        live = kernels.stream_packed(probabilities, self.bit_length, self.k0, self.k1, self.step, self.c2(layer),
                                     np.uint64(int(site)), packed)
        return packed, live


def update_crossbar(weights: F64, g_plus: F64 | None, g_minus: F64 | None, config: NetworkConfig, index: int,
                    inputs: F64, deltas: F64, eta: float, streams: CompiledStreams | None) -> None:
    """[SPEC 3.7, 3.8, 4.3] One crossbar's update through the fused kernels, in place (``streams`` is None for
    the float kind)."""
    if streams is None:
        kernels.update_float(weights, eta * deltas, inputs)
        return
    gain, dw_min = update_gain(eta, config)
    rows, live_rows = streams.packed(Site.UPDATE_ROW, index, np.minimum(1.0, gain * inputs))
    columns, live_columns = streams.packed(Site.UPDATE_COLUMN, index, np.minimum(1.0, gain * np.abs(deltas)))
    if config.kind == "stochastic":
        kernels.update_stochastic(weights, rows, live_rows, columns, live_columns,
                                  numpy_kernels.signs(deltas) * dw_min)
        return
    assert g_plus is not None and g_minus is not None
    params = config.device
    kernels.update_memristive(weights, g_plus, g_minus, rows, live_rows, columns, live_columns, deltas > 0.0,
                              params.sigma, params.noise_mode == "pulse", config.bit_length,
                              float(params.top_level), params.dw_min, streams.k0, streams.k1, streams.step,
                              np.uint64(index))


class NumbaModel(NumpyModel):
    """Same state and dense algebra as :class:`~stochmem_numpy.model.NumpyModel`; compiled streams, update
    and reset."""

    def _matvec(self, weights: F64, inputs: F64) -> F64:
        result: F64 = kernels.matvec(weights, inputs)
        return result

    def _transposed_matvec(self, weights: F64, errors: F64) -> F64:
        result: F64 = kernels.transposed_matvec(weights, errors)
        return result

    def _streams(self, step: int, aux: int = 0, bit_length: int | None = None) -> CompiledStreams | None:
        if self.config.kind == "float":
            return None
        return CompiledStreams(self.seed, step, bit_length or self.config.bit_length, aux)

    def _update_compiled(self, index: int, inputs: F64, deltas: F64, eta: float, streams: CompiledStreams | None
                         ) -> None:
        update_crossbar(self.weights[index], self.g_plus[index] if self.g_plus else None,
                        self.g_minus[index] if self.g_minus else None, self.config, index, inputs, deltas, eta,
                        streams)

    def _reset(self, step: int) -> None:
        """[SPEC 4.5]"""
        params = self.config.device
        k0, k1 = np.uint64(self.seed & 0xFFFFFFFF), np.uint64(self.seed >> 32)
        for index, weights in enumerate(self.weights):
            kernels.reset(weights, self.g_plus[index], self.g_minus[index], params.sigma, float(params.top_level),
                          params.dw_min, k0, k1, np.uint64(step), np.uint64(index))

    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        """[SPEC 3.5]"""
        pixels = np.asarray(image, dtype=np.float64)
        streams = self._streams(step)
        values, logits = self._forward(pixels, streams, Site.FORWARD_STREAM)  # type: ignore[arg-type]
        deltas = self._backward(values, label, streams)  # type: ignore[arg-type]
        for index in range(len(self.weights)):
            self._update_compiled(index, np.append(values[index], 1.0), deltas[index], eta, streams)
        if self.config.kind == "memristive" and (step + 1) % self.config.device.reset_every == 0:
            self._reset(step)
        return StepResult(-math.log(max(float(values[-1][label]), 1e-300)), int(np.argmax(logits)))

    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        """[SPEC 3.9]"""
        streams = self._streams(image_index, repeat, bit_length)
        _, logits = self._forward(np.asarray(image, dtype=np.float64), streams, Site.EVAL_STREAM)  # type: ignore[arg-type]
        return int(np.argmax(logits))
