"""stochmem's vectorized NumPy backend: bit-packed streams, a vectorized Philox4x32-10, exact by default."""

__version__ = "0.1.0"
