"""A user's first run: download MNIST from public mirrors into the data folder, checksums verified.

Never called by the tests against the internet (they serve the files from 127.0.0.1). Each file is written to a
temporary name, verified, then renamed into place, so an interrupted or corrupt download never leaves a file
that looks valid.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from stochmem.data import MNIST_FILES, DataError, sha256_of

DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
TIMEOUT_SECONDS = 30


def fetch_file(name: str, directory: Path, mirrors: list[str], log: Callable[[str], None]) -> Path:
    """Fetch ``name.gz`` into ``directory`` from the first mirror that serves it with the right SHA-256."""
    target = directory / f"{name}.gz"
    expected = MNIST_FILES[name][0]
    if target.is_file() and sha256_of(target) == expected:
        return target
    problems = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{name}.gz"
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        try:
            with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
                shutil.copyfileobj(response, out)
            actual = sha256_of(Path(temporary))
            if actual != expected:
                problems.append(f"{url}: SHA-256 {actual} is not the expected {expected}")
                continue
            os.replace(temporary, target)
            log(f"fetched {url}")
            return target
        except (urllib.error.URLError, OSError, ValueError) as error:
            problems.append(f"{url}: {error}")
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    raise DataError(f"could not fetch {name}.gz: " + "; ".join(problems) + f". Without network, copy the four "
                    f"MNIST .gz files into {directory} (or point --data-dir / STOCHMEM_DATA_DIR at them).")


def fetch_mnist(directory: Path, mirrors: list[str], log: Callable[[str], None] = print) -> None:
    """Fetch all four MNIST files into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        fetch_file(name, directory, mirrors, log)
