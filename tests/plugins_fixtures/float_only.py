"""A plugin with a backend that implements the float kind alone, and one whose load fails."""

from stochmem import hookimpl
from stochmem.backend_api import Capabilities
from stochmem.reference_backend import ReferenceBackend


class FloatOnly(ReferenceBackend):
    name = "float-only"
    capabilities = Capabilities(kinds=frozenset({"float"}))


def load_fails() -> ReferenceBackend:
    raise RuntimeError("the accelerator's driver is not installed")


@hookimpl
def stochmem_register_backends(registry):
    registry.add("float-only", FloatOnly, version="0", capabilities=FloatOnly.capabilities)
    registry.add("fails-to-load", load_fails, version="0", capabilities=Capabilities())
