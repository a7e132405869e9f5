"""Registers the NumPy backend through the ``stochmem.backends`` entry point, like any third-party plugin."""

from __future__ import annotations

from stochmem import hookimpl
from stochmem.backend_api import Backend, BackendRegistry, Capabilities
from stochmem_numpy import __version__


def load() -> Backend:
    from stochmem_numpy.backend import NumpyBackend  # imported only when the backend is used

    return NumpyBackend()


@hookimpl
def stochmem_register_backends(registry: BackendRegistry) -> None:
    registry.add("numpy", load, version=__version__, capabilities=Capabilities(exact=True),
                 description="vectorized NumPy: bit-packed streams, vectorized Philox, exact")
