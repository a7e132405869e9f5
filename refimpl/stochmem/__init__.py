"""stochmem: the executable specification of stochastic deep learning on memristive crossbars.

The reference path (:mod:`stochmem.philox`, :mod:`stochmem.rng`, :mod:`stochmem.streams`, :mod:`stochmem.device`,
:mod:`stochmem.network`, :mod:`stochmem.training`, :mod:`stochmem.data`) is pure Python plus bitarray and follows
``specs/`` clause by clause. Backends plug in through :mod:`stochmem.hookspecs`; write ``from stochmem import
hookimpl`` in a plugin.
"""

__version__ = "0.1.0"
SPEC_VERSION = "1.2.0"

from stochmem.hookspecs import hookimpl  # noqa: E402  (after the version: plugins import both)

__all__ = ["SPEC_VERSION", "__version__", "hookimpl"]
