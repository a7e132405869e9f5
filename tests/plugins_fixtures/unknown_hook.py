"""A plugin that implements a hook the host does not define (a typo)."""

from stochmem import hookimpl


@hookimpl
def stochmem_register_backend(registry):  # missing 's': not a stochmem hook
    pass
