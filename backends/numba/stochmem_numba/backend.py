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
from stochmem_numba.model import CompiledStreams, NumbaModel, update_crossbar
from stochmem_numpy.backend import NumpyBackend


class NumbaBackend(NumpyBackend):
    """Exact: the same words, bits and counts as the reference; floats equal up to rounding."""

    name = "numba"
    version = __version__
    capabilities = Capabilities(exact=True)

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        """[SPEC 3.7, 3.8, 4.3] Through the compiled update kernels (the ones training uses)."""
        weights = np.array(layer.weights, dtype=np.float64)
        g_plus = np.array(layer.g_plus, dtype=np.float64) if layer.g_plus is not None else None
        g_minus = np.array(layer.g_minus, dtype=np.float64) if layer.g_minus is not None else None
        streams = None if config.kind == "float" else CompiledStreams(seed, step, config.bit_length)
        update_crossbar(weights, g_plus, g_minus, config, index, np.asarray(inputs, dtype=np.float64),
                        np.asarray(deltas, dtype=np.float64), eta, streams)
        if g_plus is None or g_minus is None:
            return Layer(weights.tolist())
        return Layer(weights.tolist(), g_plus.tolist(), g_minus.tolist())

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return NumbaModel(config, seed)
