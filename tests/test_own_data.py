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
