"""Registers the numba backend; without numba installed it is listed as unavailable, with the extra to install."""

from __future__ import annotations

import importlib.util

from stochmem import hookimpl
from stochmem.backend_api import Backend, BackendRegistry, Capabilities
from stochmem_numba import __version__

DESCRIPTION = "compiled CPU kernels (numba): fused update and programming, exact"


def load() -> Backend:
    from stochmem_numba.backend import NumbaBackend  # imports numba: only when the backend is used

    return NumbaBackend()


@hookimpl
def stochmem_register_backends(registry: BackendRegistry) -> None:
    if importlib.util.find_spec("numba") is None:
        registry.add_unavailable("numba", 'numba is not installed: pip install "stochmem[numba]"', DESCRIPTION)
        return
    registry.add("numba", load, version=__version__, capabilities=Capabilities(exact=True), description=DESCRIPTION)
