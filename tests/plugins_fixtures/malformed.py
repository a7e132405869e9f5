"""A plugin that registers backends the host must reject or report."""

from stochmem import hookimpl
from stochmem.backend_api import Capabilities


class HalfBackend:
    name = "half"
    version = "0"
    capabilities = Capabilities()  # but none of the methods


@hookimpl
def stochmem_register_backends(registry):
    registry.add("half", HalfBackend, version="0", capabilities=Capabilities())
    registry.add_unavailable("gpu", 'needs CUDA: pip install "stochmem-gpu[cuda]"')
    registry.add("bad name!", HalfBackend, version="0", capabilities=Capabilities())
