"""stochmem's compiled CPU backend (numba): fused, exact kernels.

Importing this package imports no numba (registering the backend stays cheap); :mod:`stochmem_numba.jit` holds
the compile cache's location, :mod:`stochmem_numba.threads` the thread policy, :mod:`stochmem_numba.precompile`
the helper process that shares a cold first step's compilation.
"""

__version__ = "0.1.0"
