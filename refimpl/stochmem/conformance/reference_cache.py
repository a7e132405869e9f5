"""A disk cache of the reference's end-to-end runs, so each ``stochmem conform`` does not retrain them.

The reference is deterministic ([SPEC 2.2]): the same code, configuration, seed and images give the same
accuracy and weights. A result is stored under a key that hashes all of that, including every source file of the
``stochmem`` package, so an edit of the reference (or of this suite) can never serve a stale result. The files
live in the user's cache folder (``$XDG_CACHE_HOME/stochmem/conformance``, else ``~/.cache/...``), never in the
installed package; a cache that cannot be written is skipped silently (the run is only slower).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def source_digest() -> str:
    """SHA-256 of every .py file of the stochmem package (the reference and this suite), in path order."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_dir() -> Path:
    """``conformance`` beside the MNIST cache in the user's cache folder (:func:`stochmem.data.default_cache_dir`)."""
    from stochmem.data import default_cache_dir

    return default_cache_dir().parent / "conformance"


def cached(key: dict[str, Any], compute: Callable[[], T]) -> T:
    """``compute()``, stored as JSON under a hash of ``key`` and the package's sources, and read back next time."""
    name = hashlib.sha256(json.dumps([key, source_digest()], sort_keys=True).encode()).hexdigest()[:32]
    path = cache_dir() / f"reference-{name}.json"
    with contextlib.suppress(OSError, ValueError):
        stored: T = json.loads(path.read_text())["result"]
        return stored
    result = compute()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump({"key": key, "result": result}, out)
        os.replace(temporary, path)
    return result
