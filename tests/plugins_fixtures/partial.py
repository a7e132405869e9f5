"""Backends that implement part of the specification, for the certification report's tests: the NumPy backend
claiming the streams group alone (exact), and the randomness group alone as a statistical implementation."""

from __future__ import annotations

from stochmem import hookimpl
from stochmem.backend_api import BackendRegistry, Capabilities
from stochmem_numpy.backend import NumpyBackend


class StreamsOnly(NumpyBackend):
    name = "streams-only"
    capabilities = Capabilities(kinds=frozenset(), groups=frozenset({"streams"}))


class RandomnessStatistical(NumpyBackend):
    name = "randomness-statistical"
    capabilities = Capabilities(kinds=frozenset(), exact=False, groups=frozenset({"randomness"}))


@hookimpl
def stochmem_register_backends(registry: BackendRegistry) -> None:
    for backend in (StreamsOnly, RandomnessStatistical):
        registry.add(backend.name, backend, version="0", capabilities=backend.capabilities)
