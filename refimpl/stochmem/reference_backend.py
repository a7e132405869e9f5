"""The reference as a backend named ``reference``: the specification executed, exact by definition."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from bitarray import bitarray

from stochmem import __version__, device, network
from stochmem.backend_api import BackendRegistry, Capabilities, Model
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.hookspecs import hookimpl
from stochmem.network import Layer, StepResult
from stochmem.philox import philox4x32
from stochmem.rng import Draw, normals
from stochmem.streams import encode_many


class ReferenceModel:
    """A :class:`stochmem.network.Network` behind the :class:`~stochmem.backend_api.Model` contract."""

    def __init__(self, config: NetworkConfig, seed: int) -> None:
        self.net = network.init_network(config, seed)

    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        return network.train_step(self.net, list(image), label, step, eta)

    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        return network.predict(self.net, list(image), image_index, repeat, bit_length)

    def export_layers(self) -> list[Layer]:
        return copy.deepcopy(self.net.layers)

    def load_layers(self, layers: list[Layer]) -> None:
        self.net.layers = copy.deepcopy(layers)


class ReferenceBackend:
    """Every primitive is the reference function of the clause it implements."""

    name = "reference"
    version = __version__
    capabilities = Capabilities(exact=True)

    def philox(self, counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]:
        return philox4x32(counter, key)

    def normals(self, draw: Draw, count: int) -> list[float]:
        return normals(draw, count)

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        return encode_many(list(probabilities), bit_length, draw)

    def coincidence_counts(self, row_probabilities: Sequence[float], column_probabilities: Sequence[float],
                           bit_length: int, row_draw: Draw, column_draw: Draw) -> list[list[int]]:
        rows = encode_many(list(row_probabilities), bit_length, row_draw)
        columns = encode_many(list(column_probabilities), bit_length, column_draw)
        return network.coincidence_counts(rows, columns)

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        updated = copy.deepcopy(layer)
        network.update_layer(updated, list(inputs), list(deltas), eta, config, seed, step, index)
        return updated

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        return [device.program(g, n, params, noise, m, bit_length) for g, n, m in zip(levels, pulses, synapses)]

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        pairs = [device.reset_pair(gp, gm, params, noise, m) for gp, gm, m in zip(g_plus, g_minus, synapses)]
        return [pair[0] for pair in pairs], [pair[1] for pair in pairs]

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return ReferenceModel(config, seed)


@hookimpl
def stochmem_register_backends(registry: BackendRegistry) -> None:
    registry.add("reference", ReferenceBackend, version=__version__, capabilities=ReferenceBackend.capabilities,
                 description="the executable specification: pure Python + bitarray, slow, exact by definition")
