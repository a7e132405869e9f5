"""The numba backend behind the :class:`stochmem.backend_api.Backend` contract.

Primitives that the conformance suite calls one at a time (encode, counts, program, reset of a list of
synapses) are the NumPy backend's: they are exact and their speed does not matter. Training and inference run
on the compiled kernels (:class:`~stochmem_numba.model.NumbaModel`).
"""

from __future__ import annotations

from stochmem.backend_api import Capabilities, Model
from stochmem.config import NetworkConfig
from stochmem_numba import __version__
from stochmem_numba.model import NumbaModel, update_crossbar
from stochmem_numba.threads import configure
from stochmem_numpy.backend import NumpyBackend
from stochmem_numpy.kernels import F64


class NumbaBackend(NumpyBackend):
    """Exact: the same words, bits and counts as the reference; floats equal up to rounding."""

    name = "numba"
    version = __version__
    capabilities = Capabilities(exact=True)

    def __init__(self) -> None:
        self.threads = configure()  # before any kernel runs: see stochmem_numba.threads

    def _update_crossbar(self, weights: F64, g_plus: F64 | None, g_minus: F64 | None, inputs: F64, deltas: F64,
                         eta: float, config: NetworkConfig, seed: int, step: int, index: int) -> None:
        """[SPEC 3.7, 3.8, 4.3] Through the compiled update kernels (the ones training uses)."""
        update_crossbar(weights, g_plus, g_minus, inputs, deltas, eta, config, seed, step, index)

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        return NumbaModel(config, seed)
