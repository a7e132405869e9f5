"""The adapter: every method of the stochmem Backend contract, mapped onto 'your engine'.

Here the engine is ``numpy.random.Generator`` for randomness and the reference for the network, which is enough
to show the shape of an adapter and to pass the statistical and end-to-end tiers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bitarray import bitarray

from stochmem.backend_api import Capabilities, Model
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.network import Layer
from stochmem.reference_backend import ReferenceBackend
from stochmem.rng import Draw


def generator(draw: Draw) -> np.random.Generator:
    """An independent NumPy generator per draw address (not the specified words: statistical only)."""
    return np.random.default_rng([draw.seed & 0xFFFFFFFF, draw.seed >> 32, int(draw.site), draw.step,
                                  draw.layer, draw.aux])


class ExampleBackend:
    name = "example"
    version = "0.1.0"
    capabilities = Capabilities(exact=False)

    def __init__(self) -> None:
        self._reference = ReferenceBackend()

    def philox(self, counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]:
        raise NotImplementedError("the example backend does not implement the specified generator")

    def normals(self, draw: Draw, count: int) -> list[float]:
        return generator(draw).standard_normal(count).tolist()

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
        bits = generator(draw).random((p.size, bit_length)) < p[:, None]
        return [bitarray(row.tolist()) for row in bits]

    def coincidence_counts(self, row_probabilities: Sequence[float], column_probabilities: Sequence[float],
                           bit_length: int, row_draw: Draw, column_draw: Draw) -> list[list[int]]:
        rows = np.array([s.tolist() for s in self.encode(row_probabilities, bit_length, row_draw)], dtype=np.int64)
        columns = np.array([s.tolist() for s in self.encode(column_probabilities, bit_length, column_draw)],
                           dtype=np.int64)
        return (columns.reshape(len(column_probabilities), bit_length)
                @ rows.reshape(len(row_probabilities), bit_length).T).tolist()

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        return self._reference.update_layer(layer, inputs, deltas, eta, config, seed, step, index)

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        return self._reference.program(levels, pulses, synapses, params, noise, bit_length)

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        return self._reference.reset(g_plus, g_minus, synapses, params, noise)

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return self._reference.create_model(config, seed)
