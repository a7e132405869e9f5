"""A minimal third-party stochmem backend."""

__version__ = "0.1.0"
