"""MNIST: the IDX file format, checksums, where the files live, and the noise-corrupted test set.

Everything here is pure Python (gzip, struct, hashlib). Files are validated before any byte of them is used:
a wrong checksum, magic number, dimension or length raises :class:`DataError` naming the file and the problem.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from stochmem.rng import Draw, Site, normal

#: [SPEC 5.2] The four MNIST files, each name mapped to the SHA-256 of its .gz and of its uncompressed form.
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000)}
DATA_DIR_ENV = "STOCHMEM_DATA_DIR"
IDX_UBYTE = 0x08
PIXEL_MAX = 255


class DataError(ValueError):
    """A data file is missing, corrupt, truncated or of the wrong shape."""


@dataclass(frozen=True)
class Dataset:
    """Images as raw bytes (``rows * cols`` pixels each) and their labels."""

    images: list[bytes]
    labels: bytes
    rows: int = 28
    cols: int = 28

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels):
            raise DataError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, index: int) -> list[float]:
        """[SPEC 5.3] Image ``index`` normalised to [0, 1]: pixel / 255."""
        return [pixel / PIXEL_MAX for pixel in self.images[index]]

    def label(self, index: int) -> int:
        return self.labels[index]

    def subset(self, start: int, stop: int) -> Dataset:
        """Images ``start`` to ``stop - 1``, in file order."""
        return Dataset(self.images[start:stop], self.labels[start:stop], self.rows, self.cols)


#: [SPEC 5.4] The scale of the input the noise variance refers to, as the standard deviation of that input per
#: pixel unit: pixels in [0, 1] (the default, as [SPEC 5.4] states it), inputs in [-1, 1] (2 x - 1), or
#: standardised inputs ((x - mean) / std with MNIST's pixel std 0.3081).
NOISE_DOMAINS: dict[str, float] = {"pixels": 1.0, "signed": 0.5, "standardised": 0.3081}


def pixel_variance(variance: float, domain: str = "pixels") -> float:
    """[SPEC 5.4] A noise variance stated for inputs in ``domain``, as the variance in [0, 1] pixel units that
    :func:`corrupt` adds (noise of standard deviation s on inputs scaled by 1/c is noise of c s on pixels)."""
    if domain not in NOISE_DOMAINS:
        raise ValueError(f"noise domain {domain!r} is unknown: choose one of {', '.join(NOISE_DOMAINS)}")
    return variance * NOISE_DOMAINS[domain] ** 2


def corrupt(image: list[float], variance: float, seed: int, image_index: int, repeat: int = 0) -> list[float]:
    """[SPEC 5.4] The paper's noisy test input: clip(x + sigma_i eps, 0, 1), sigma_i = sqrt(variance).

    eps for pixel k is normal k of the draw (INPUT_NOISE, step = image index, aux = repeat).
    """
    if variance < 0.0:
        raise ValueError(f"noise variance must be >= 0, got {variance}")
    if variance == 0.0:
        return list(image)
    scale = variance**0.5
    draw = Draw(seed, Site.INPUT_NOISE, image_index, 0, repeat)
    return [min(max(x + scale * normal(draw, k), 0.0), 1.0) for k, x in enumerate(image)]


# --- files ------------------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_file(directory: Path, name: str) -> Path:
    """The file ``name`` or ``name.gz`` in ``directory``; a clear error when neither exists."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"{name}(.gz) not found in {directory}. Put the four MNIST files there (see `stochmem data verify "
        f"--help`), point {DATA_DIR_ENV} or --data-dir at a folder that has them, or run `stochmem data fetch`."
    )


def verify_file(path: Path, name: str) -> None:
    """[SPEC 5.2] Check a file's SHA-256 against the known value for its compressed or plain form."""
    if name not in MNIST_FILES:
        raise DataError(f"{path}: {name!r} is not one of the MNIST files {sorted(MNIST_FILES)}")
    expected = MNIST_FILES[name][0 if path.suffix == ".gz" else 1]
    actual = sha256_of(path)
    if actual != expected:
        raise DataError(f"{path}: SHA-256 {actual} does not match the expected {expected}; the file is "
                        "corrupt, truncated or not the original MNIST file. Delete it and fetch it again.")


#: The largest IDX payload read, 1 GiB (MNIST's training images are 47 MB). A header that declares more is
#: refused before anything is decompressed, so a small hostile .gz cannot inflate into memory.
MAX_IDX_PAYLOAD = 1 << 30


def read_idx(path: Path, expected_ndim: int) -> tuple[tuple[int, ...], bytes]:
    """[SPEC 5.1] Read an IDX file (plain or .gz) as a stream: the header first, validated, then exactly the
    payload it declares (at most :data:`MAX_IDX_PAYLOAD`), then a check that nothing follows. Every failure,
    a broken gzip stream included, is a DataError naming the file."""
    import zlib

    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")) as handle:
            start = handle.read(4)
            if len(start) < 4:
                raise DataError(f"{path}: {len(start)} bytes is too short for an IDX header")
            header = start + handle.read(4 * start[3])
            dims, size = idx_header(header, str(path), expected_ndim)
            if size > MAX_IDX_PAYLOAD:
                raise DataError(f"{path}: dimensions {dims} declare {size:,} bytes, more than the "
                                f"{MAX_IDX_PAYLOAD:,} this reader accepts")
            payload = handle.read(size)
            if len(payload) < size:
                raise DataError(f"{path}: truncated: {len(payload)} data bytes, dimensions {dims} need {size}")
            if handle.read(1):
                raise DataError(f"{path}: has trailing bytes after the {size} data bytes dimensions {dims} need")
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: cannot read ({type(error).__name__}: {error}); the file is corrupt or "
                        "truncated") from error
    return dims, payload


def idx_header(data: bytes, source: str, expected_ndim: int) -> tuple[tuple[int, ...], int]:
    """[SPEC 5.1] The dimensions an IDX header declares and the payload size they need, the header validated."""
    if len(data) < 4:
        raise DataError(f"{source}: {len(data)} bytes is too short for an IDX header")
    zero0, zero1, type_code, ndim = data[:4]
    if zero0 or zero1:
        raise DataError(f"{source}: bad magic number {data[:4].hex()} (an IDX file starts with 00 00)")
    if type_code != IDX_UBYTE:
        raise DataError(f"{source}: IDX type 0x{type_code:02x} is not unsigned byte (0x08)")
    if ndim != expected_ndim:
        raise DataError(f"{source}: {ndim} dimensions, expected {expected_ndim}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: truncated header ({len(data)} bytes, need {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    size = 1
    for dim in dims:
        size *= dim
    return dims, size


def load_split(directory: Path, split: str, verify: bool = True) -> Dataset:
    """[SPEC 5.1, 5.2] Load the ``train`` or ``test`` split of MNIST from ``directory``, checksums verified first."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    images_name, labels_name, count = SPLITS[split]
    if verify:
        for name in (images_name, labels_name):
            verify_file(find_file(directory, name), name)
    dataset = load_idx_split(directory, split)
    if len(dataset) != count:
        raise DataError(f"{split}: {len(dataset)} images, MNIST has {count}")
    if max(dataset.labels) > 9:
        raise DataError(f"{split}: label {max(dataset.labels)} is not a digit")
    return dataset


def load_idx_split(directory: Path, split: str) -> Dataset:
    """[SPEC 5.1] Load the ``train`` or ``test`` split of any data set stored as MNIST is: the same four file
    names (plain or .gz), images as an IDX array (n, rows, cols) of unsigned bytes, labels as an IDX vector of n
    unsigned bytes. No checksum (the data is yours); the format and the lengths are validated.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    images_name, labels_name, _count = SPLITS[split]
    images_path, labels_path = find_file(directory, images_name), find_file(directory, labels_name)
    (n, rows, cols), pixels = read_idx(images_path, 3)
    (n_labels,), labels = read_idx(labels_path, 1)
    if n != n_labels:
        raise DataError(f"{split}: {images_path.name} has {n} images but {labels_path.name} has {n_labels} labels")
    if n == 0 or rows * cols == 0:
        raise DataError(f"{images_path}: no images (dimensions {(n, rows, cols)})")
    size = rows * cols
    images = [pixels[k * size : (k + 1) * size] for k in range(n)]
    return Dataset(images, labels, rows, cols)


def idx_bytes(dims: tuple[int, ...], payload: bytes) -> bytes:
    """[SPEC 5.1] An IDX file of unsigned bytes with dimensions ``dims`` (the inverse of :func:`read_idx`)."""
    return bytes((0, 0, IDX_UBYTE, len(dims))) + struct.pack(f">{len(dims)}I", *dims) + payload


def write_idx_split(directory: Path, split: str, images: list[bytes], labels: bytes, rows: int, cols: int) -> None:
    """[SPEC 5.1] Write a ``train`` or ``test`` split as MNIST's gzipped IDX files, for :func:`load_idx_split`.

    ``images`` holds one ``bytes`` of ``rows * cols`` pixels (0-255) per image, ``labels`` one byte per image.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    if len(images) != len(labels):
        raise DataError(f"{len(images)} images but {len(labels)} labels")
    if any(len(image) != rows * cols for image in images):
        raise DataError(f"every image must have rows * cols = {rows * cols} pixels")
    images_name, labels_name, _count = SPLITS[split]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{images_name}.gz").write_bytes(
        gzip.compress(idx_bytes((len(images), rows, cols), b"".join(images)), mtime=0))
    (directory / f"{labels_name}.gz").write_bytes(gzip.compress(idx_bytes((len(labels),), bytes(labels)), mtime=0))


def default_cache_dir() -> Path:
    """The per-user cache folder: $XDG_CACHE_HOME/stochmem/mnist, else ~/.cache/stochmem/mnist."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stochmem" / "mnist"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """[SPEC 5.2] Where MNIST is read from: the explicit folder, else $STOCHMEM_DATA_DIR, else the user cache."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else default_cache_dir()


def verify_dir(directory: Path) -> list[tuple[str, Path]]:
    """Verify all four files in ``directory``; returns (name, path) pairs, raises on the first problem."""
    checked = []
    for name in MNIST_FILES:
        path = find_file(directory, name)
        verify_file(path, name)
        checked.append((name, path))
    return checked
