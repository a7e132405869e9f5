"""Deliberately broken backends: the conformance suite must catch every one, naming the clause.

Loaded as a plugin with ``STOCHMEM_PLUGINS=tests.broken_backends``. Each is the reference with one bug, and
claims only statistical conformance, so the statistical tier alone has to find the bug.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bitarray import bitarray

from stochmem import device, hookimpl
from stochmem.backend_api import BackendRegistry, Capabilities
from stochmem.config import DeviceParams, NetworkConfig
from stochmem.network import Layer
from stochmem.reference_backend import ReferenceBackend
from stochmem.rng import Draw, normal


class Broken(ReferenceBackend):
    capabilities = Capabilities(exact=False)


class BiasedAnd(Broken):
    """One spurious coincidence whenever there is room for it."""

    name = "broken-biased-and"

    def coincidence_counts(self, row_probabilities: Sequence[float], column_probabilities: Sequence[float],
                           bit_length: int, row_draw: Draw, column_draw: Draw) -> list[list[int]]:
        counts = super().coincidence_counts(row_probabilities, column_probabilities, bit_length, row_draw,
                                            column_draw)
        return [[min(c + 1, bit_length) for c in row] for row in counts]


class OffByOneBitLength(Broken):
    name = "broken-bit-length"

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        return super().encode(probabilities, bit_length + 1, draw)


class WrongUpdateSign(Broken):
    name = "broken-update-sign"

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        return super().update_layer(layer, inputs, [-d for d in deltas], eta, config, seed, step, index)


class NoProgrammingNoise(Broken):
    name = "broken-no-noise"

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        return super().program(levels, pulses, synapses, dataclasses.replace(params, sigma=0.0), noise, bit_length)


class DecreasingDevice(Broken):
    """Forgets to floor the noisy increment at 0, so a large negative noise lowers the device."""

    name = "broken-decreasing"

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        out = []
        for g, n, m in zip(levels, pulses, synapses):
            if n <= 0:
                out.append(g)
                continue
            increment = n + params.sigma * normal(noise, m) if params.sigma else float(n)
            out.append(device.clip_level(g + increment, params))
        return out


class WrongReset(Broken):
    """Re-programs the difference onto G+ whatever its sign."""

    name = "broken-reset"

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        pairs = [device.reset_pair(abs(gp - gm), 0.0, params, noise, m) for gp, gm, m in zip(g_plus, g_minus,
                                                                                               synapses)]
        return [p[0] for p in pairs], [p[1] for p in pairs]


BROKEN = {
    "broken-biased-and": (BiasedAnd, "[SPEC 1.4]"),
    "broken-bit-length": (OffByOneBitLength, "[SPEC 1.1]"),
    "broken-update-sign": (WrongUpdateSign, "[SPEC 3.8]"),
    "broken-no-noise": (NoProgrammingNoise, "[SPEC 4.3]"),
    "broken-decreasing": (DecreasingDevice, "[SPEC 4.4]"),
    "broken-reset": (WrongReset, "[SPEC 4.5]"),
}


@hookimpl
def stochmem_register_backends(registry: BackendRegistry) -> None:
    for name, (cls, _clause) in BROKEN.items():
        assert cls.name == name
        registry.add(name, cls, version="0", capabilities=cls.capabilities, description=cls.__doc__ or "")
