"""Registration: one hook implementation, found through the ``stochmem.backends`` entry point."""

from stochmem import hookimpl
from stochmem.backend_api import BackendRegistry
from stochmem_example import __version__
from stochmem_example.backend import ExampleBackend


@hookimpl
def stochmem_register_backends(registry: BackendRegistry) -> None:
    registry.add("example", ExampleBackend, version=__version__, capabilities=ExampleBackend.capabilities,
                 description="example adapter: NumPy's generator for streams, the reference for the rest")
