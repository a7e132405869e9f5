"""The numba backend behind the :class:`stochmem.backend_api.Backend` contract.

Primitives that the conformance suite calls one at a time (encode, counts, program, reset of a list of
synapses) are the NumPy backend's: they are exact and their speed does not matter. Training and inference run
on the compiled kernels (:class:`~stochmem_numba.model.NumbaModel`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stochmem.backend_api import Capabilities, Model
from stochmem.config import NetworkConfig
from stochmem.network import Layer
from stochmem_numba import __version__
from stochmem_numba.model import CompiledStreams, NumbaModel
from stochmem_numpy.backend import NumpyBackend


class NumbaBackend(NumpyBackend):
    """Exact: the same words, bits and counts as the reference; floats equal up to rounding."""

    name = "numba"
    version = __version__
    capabilities = Capabilities(exact=True)

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        """[SPEC 3.7, 3.8, 4.3] Through the compiled update kernel (the one training uses)."""
        model = NumbaModel.__new__(NumbaModel)
        model.config, model.seed = config, seed
        model.weights = [np.zeros((1, 1))] * index + [np.array(layer.weights, dtype=np.float64)]
        if config.kind == "memristive":
            model.g_plus = [np.zeros((1, 1))] * index + [np.array(layer.g_plus, dtype=np.float64)]
            model.g_minus = [np.zeros((1, 1))] * index + [np.array(layer.g_minus, dtype=np.float64)]
        streams = None if config.kind == "float" else CompiledStreams(seed, step, config.bit_length)
        model._update_compiled(index, np.asarray(inputs, dtype=np.float64), np.asarray(deltas, dtype=np.float64),
                               eta, streams)
        return model.export_layers()[index]

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return NumbaModel(config, seed)
