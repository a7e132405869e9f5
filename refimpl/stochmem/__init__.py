"""stochmem: the executable specification of stochastic deep learning on memristive crossbars.

The reference path (:mod:`stochmem.philox`, :mod:`stochmem.rng`, :mod:`stochmem.streams`, :mod:`stochmem.device`,
:mod:`stochmem.network`, :mod:`stochmem.training`, :mod:`stochmem.data`) is pure Python plus bitarray and follows
``specs/`` clause by clause.
"""

__version__ = "0.1.0"
SPEC_VERSION = "1.0.0"
