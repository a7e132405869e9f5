# mypy: disable-error-code="attr-defined"
# (numba.core.config sets its attributes at import time: mypy cannot see them)
"""``njit`` for this package: numba's decorator with its machine-code cache in the user's cache folder.

numba caches compiled functions beside their source (``__pycache__``) by default, which writes into the installed
package at run time: a reinstall then leaves stale files that can break the next install, and a read-only install
cannot cache at all. Here the cache lives under ``platformdirs.user_cache_dir("stochmem")/numba/<digest>``, where
``<digest>`` hashes every source file of this package. numba checks a cached function against its own file only,
while a kernel called from another module is compiled into its caller's entry; a folder per digest means that no
edit anywhere in the package can ever load stale code. The folders of the few most recently used versions are kept
(two installs of different versions on one machine do not evict each other); older ones are removed.

``$NUMBA_CACHE_DIR``, when the user set it, wins (numba's own setting). When the cache folder cannot be created,
functions are compiled without a cache rather than written elsewhere.

On a CPU with AVX-512, LLVM still prefers 256-bit vectors (a tuning for CPUs whose clock dropped on wide
instructions); :func:`prefer_full_vector_width` lifts that preference, which made the Philox and Box--Muller loops
1.4-1.6x faster on an Emerald Rapids core. It applies to the numba code compiled in this process after it, and
not at all if numba compiled something before this module was imported, or if ``$NUMBA_CPU_FEATURES`` is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numba
import platformdirs
from numba.core import config

PACKAGE = Path(__file__).resolve().parent
KEEP_OTHER_VERSIONS = 3


def prefer_full_vector_width() -> None:
    """Let LLVM use 512-bit vectors where the CPU has AVX-512 (see the module's docstring)."""
    if config.CPU_FEATURES is not None or config.CPU_NAME is not None:  # the user's $NUMBA_CPU_* settings
        return
    from llvmlite import binding

    features = binding.get_host_cpu_features()
    if features.get("avx512f"):
        config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"


prefer_full_vector_width()  # before the first kernel is declared: numba reads the features when it sets up


def source_digest() -> str:
    """SHA-256 (first 16 hex digits) of every ``.py`` file of this package, in name order."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """The folder that holds one compile cache per source digest."""
    return Path(platformdirs.user_cache_dir("stochmem", appauthor=False)) / "numba"


@cache
def cache_dir() -> Path | None:
    """This version's compile cache (created; older versions' removed), or None if it cannot be created."""
    root = cache_root()
    current = root / source_digest()
    try:
        current.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    with contextlib.suppress(OSError):  # another process may be pruning too
        current.touch()
        others = sorted((entry for entry in root.iterdir() if entry != current and entry.is_dir()),
                        key=lambda entry: entry.stat().st_mtime, reverse=True)
        for entry in others[KEEP_OTHER_VERSIONS:]:
            shutil.rmtree(entry, ignore_errors=True)
    return current


def effective_cache_dir() -> Path | None:
    """The folder numba caches in: ``$NUMBA_CACHE_DIR`` when the user set it, else :func:`cache_dir`."""
    return Path(config.CACHE_DIR) if config.CACHE_DIR else cache_dir()


@contextlib.contextmanager
def _cache_location() -> Iterator[bool]:
    """While numba sets up a function's cache, point it at :func:`cache_dir`; yields whether to cache at all."""
    if config.CACHE_DIR:  # the user's $NUMBA_CACHE_DIR
        yield True
        return
    folder = cache_dir()
    if folder is None:
        yield False
        return
    config.CACHE_DIR = str(folder)
    try:
        yield True
    finally:
        config.CACHE_DIR = ""


def njit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(cache=True, **options)``, cached in the user's cache folder (see the module's docstring).

    numba picks a function's cache folder when the decorator runs, so the folder is set only for that moment.
    """
    def decorate(function: Callable[..., Any]) -> Any:
        with _cache_location() as cached:
            return numba.njit(cache=cached, **options)(function)

    return decorate
