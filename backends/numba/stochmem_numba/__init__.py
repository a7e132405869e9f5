"""stochmem's compiled CPU backend (numba): fused, exact kernels."""

__version__ = "0.1.0"
