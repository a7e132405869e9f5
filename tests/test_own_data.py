"""Your own data set in MNIST's IDX layout (`--data idx --data-dir FOLDER`): written, validated, trained on."""

from __future__ import annotations

import pytest

from stochmem import cli
from stochmem.data import DataError, load_idx_split, write_idx_split
from stochmem.rng import Draw, Site, uniforms

SIDE = 6


def bars(count: int, seed: int) -> tuple[list[bytes], bytes]:
    """A three-class toy set: a horizontal bar, a vertical bar or the diagonal, on a speckled 6x6 background."""
    images, labels = [], []
    for n in range(count):
        label = n % 3
        *speckle, position = uniforms(Draw(seed, Site.DATA_ORDER, n), SIDE * SIDE + 1)
        pixels = bytearray(int(60 * u) for u in speckle)
        where = int(position * SIDE)
        for t in range(SIDE):
            row, col = ((where, t), (t, where), (t, t))[label]
            pixels[row * SIDE + col] = 255
        images.append(bytes(pixels))
        labels.append(label)
    return images, bytes(labels)


@pytest.fixture
def own_data(tmp_path):
    folder = tmp_path / "bars"
    write_idx_split(folder, "train", *bars(300, 1), SIDE, SIDE)
    write_idx_split(folder, "test", *bars(90, 2), SIDE, SIDE)
    return folder


def test_written_files_read_back(own_data):
    images, labels = bars(90, 2)
    test = load_idx_split(own_data, "test")
    assert (test.images, test.labels, test.rows, test.cols) == (images, labels, SIDE, SIDE)


@pytest.mark.parametrize("backend", ["reference", "numpy"])
def test_a_network_learns_your_data(own_data, backend, capsys):
    assert cli.main(["train", "--data", "idx", "--data-dir", str(own_data), "--sizes", "36-12-3", "--kind",
                     "stochastic", "--train-size", "300", "--test-size", "90", "--epochs", "3", "--lr", "0.5",
                     "--backend", backend, "--quiet"]) == 0
    accuracy = float(capsys.readouterr().out.split()[2])
    assert accuracy > 80, "three bar shapes are easy: a working network separates them"


def test_scrambled_labels_stay_at_chance(own_data, capsys):
    images, labels = bars(300, 1)
    write_idx_split(own_data, "train", images, bytes((label + n) % 3 for n, label in enumerate(labels)), SIDE, SIDE)
    assert cli.main(["train", "--data", "idx", "--data-dir", str(own_data), "--sizes", "36-12-3", "--train-size",
                     "300", "--test-size", "90", "--epochs", "3", "--lr", "0.5", "--backend", "numpy",
                     "--quiet"]) == 0
    assert float(capsys.readouterr().out.split()[2]) < 50, "the accuracy test above could not fail"


@pytest.mark.parametrize(("sizes", "message"), [
    ("784-12-3", "6x6 = 36 pixels but the network has 784 inputs: set --sizes 36-...-3"),
    ("36-12-2", "label 2 needs at least 3 outputs"),
])
def test_a_network_that_does_not_fit_the_data_is_refused(own_data, sizes, message, capsys):
    assert cli.main(["train", "--data", "idx", "--data-dir", str(own_data), "--sizes", sizes]) == 2
    assert message in capsys.readouterr().err


def test_idx_data_needs_a_folder(capsys):
    assert cli.main(["train", "--data", "idx", "--sizes", "36-12-3"]) == 2
    assert "give its folder with --data-dir" in capsys.readouterr().err


def test_mismatched_files_are_refused(own_data):
    write_idx_split(own_data, "test", *bars(90, 2), SIDE, SIDE)
    images, _labels = bars(90, 2)
    write_idx_split(own_data / "other", "test", images[:80], bytes(80), SIDE, SIDE)
    (own_data / "t10k-labels-idx1-ubyte.gz").write_bytes((own_data / "other" / "t10k-labels-idx1-ubyte.gz")
                                                         .read_bytes())
    with pytest.raises(DataError, match=r"90 images but t10k-labels-idx1-ubyte\.gz has 80 labels"):
        load_idx_split(own_data, "test")


def test_idx_reader_streams_and_caps_what_it_inflates(tmp_path):
    """A header that declares more than the cap is refused before any payload is inflated (a 2.6 MB .gz that
    inflates to gigabytes costs nothing); a corrupt gzip stream is a DataError, not a zlib.error."""
    import gzip
    import struct
    import time
    import zlib

    from stochmem.data import MAX_IDX_PAYLOAD, read_idx

    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 70000, 200, 200)  # 2.8 GB declared
    with gzip.open(bomb, "wb") as out:
        out.write(header)
        for _ in range(64):
            out.write(bytes(1 << 20))  # 64 MiB of zeros: the file stays small, the payload is never read
    start = time.perf_counter()
    with pytest.raises(DataError, match="more than the"):
        read_idx(bomb, 3)
    assert time.perf_counter() - start < 1.0
    assert MAX_IDX_PAYLOAD < 70000 * 200 * 200

    good = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 5000) + bytes(5000), mtime=0)
    broken = tmp_path / "t10k-labels-idx1-ubyte.gz"
    for offset, cause in ((10, zlib.error), (len(good) - 8, OSError)):  # a bad deflate block; a bad CRC
        blob = bytearray(good)
        blob[offset] ^= 0xFF
        broken.write_bytes(bytes(blob))
        with pytest.raises(DataError, match="cannot read") as info:
            read_idx(broken, 1)
        assert str(broken) in str(info.value) and isinstance(info.value.__cause__, cause)

    trailing = tmp_path / "labels.gz"
    trailing.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes(4)))
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(trailing, 1)
