"""The NumPy backend behind the :class:`stochmem.backend_api.Backend` contract."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bitarray import bitarray

from stochmem.backend_api import Capabilities, Model
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.data import PIXEL_MAX, Dataset
from stochmem.network import Layer
from stochmem.rng import Draw
from stochmem_numpy import __version__, kernels
from stochmem_numpy.kernels import F64
from stochmem_numpy.model import NumpyModel, update_crossbar
from stochmem_numpy.philox import draw_normals_at, philox_blocks


class NumpyBackend:
    """Exact: the same words, bits and counts as the reference; floats equal up to rounding."""

    name = "numpy"
    version = __version__
    capabilities = Capabilities(exact=True)

    def philox(self, counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]:
        block = philox_blocks(np.array([counter[0]], dtype=np.uint64), counter[1], counter[2], counter[3], *key)[0]
        return int(block[0]), int(block[1]), int(block[2]), int(block[3])

    def normals(self, draw: Draw, count: int) -> list[float]:
        return [float(v) for v in draw_normals_at(draw, np.arange(count, dtype=np.int64))]

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        bits = kernels.encode_bits(np.asarray(probabilities, dtype=np.float64), bit_length, draw)
        return [bitarray(row.tolist()) for row in bits]

    def coincidence_counts(self, row_probabilities: Sequence[float], column_probabilities: Sequence[float],
                           bit_length: int, row_draw: Draw, column_draw: Draw) -> list[list[int]]:
        counts = kernels.coincidence_counts(np.asarray(row_probabilities, dtype=np.float64),
                                            np.asarray(column_probabilities, dtype=np.float64),
                                            bit_length, row_draw, column_draw)
        return [[int(n) for n in row] for row in counts]

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        weights = np.array(layer.weights, dtype=np.float64)
        g_plus = np.array(layer.g_plus, dtype=np.float64) if layer.g_plus is not None else None
        g_minus = np.array(layer.g_minus, dtype=np.float64) if layer.g_minus is not None else None
        self._update_crossbar(weights, g_plus, g_minus, np.asarray(inputs, dtype=np.float64),
                              np.asarray(deltas, dtype=np.float64), eta, config, seed, step, index)
        if g_plus is None or g_minus is None:
            return Layer(weights.tolist())
        return Layer(weights.tolist(), g_plus.tolist(), g_minus.tolist())

    def _update_crossbar(self, weights: F64, g_plus: F64 | None, g_minus: F64 | None, inputs: F64, deltas: F64,
                         eta: float, config: NetworkConfig, seed: int, step: int, index: int) -> None:
        """The engine's in-place crossbar update; a subclass swaps in its own kernels here."""
        update_crossbar(weights, g_plus, g_minus, inputs, deltas, eta, config, seed, step, index)

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        out = kernels.program(np.asarray(levels, dtype=np.float64), np.asarray(pulses, dtype=np.int64),
                              np.asarray(synapses, dtype=np.int64), params, noise, bit_length)
        return [float(v) for v in out]

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        new_plus, new_minus = kernels.reset(np.asarray(g_plus, dtype=np.float64), np.asarray(g_minus,
                                            dtype=np.float64), np.asarray(synapses, dtype=np.int64), params, noise)
        return [float(v) for v in new_plus], [float(v) for v in new_minus]

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return NumpyModel(config, seed)

    def corrupt(self, image: Sequence[float], variance: float, seed: int, image_index: int,
                repeat: int = 0) -> Sequence[float]:
        """[SPEC 5.4] Noisy test inputs, vectorized (an optional backend method; see training.evaluate)."""
        return kernels.corrupt(image, variance, seed, image_index, repeat)  # type: ignore[return-value]

    def read_image(self, dataset: Dataset, index: int) -> F64:
        """[SPEC 5.3] Image ``index`` as pixel / 255 in a float64 array: the same floats as
        :meth:`~stochmem.data.Dataset.image` (an optional backend method; see training.train_epoch)."""
        result: F64 = np.frombuffer(dataset.images[index], dtype=np.uint8) / float(PIXEL_MAX)
        return result
