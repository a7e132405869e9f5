"""[SPEC 5] IDX files, checksums, the data folder, noisy inputs, the embedded digits and the download path."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import struct
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stochmem import data
from stochmem.data import DataError, corrupt, load_split, read_idx, resolve_data_dir, verify_file
from stochmem.fetch import fetch_mnist


def idx(dims: tuple[int, ...], payload: bytes, type_code: int = 8) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def test_spec_5_1_parse_valid_idx(tmp_path):
    (tmp_path / "x").write_bytes(idx((2, 2, 3), bytes(range(12))))
    dims, payload = read_idx(tmp_path / "x", 3)
    assert dims == (2, 2, 3) and payload == bytes(range(12))


@pytest.mark.parametrize(("blob", "message"), [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic"),
    (idx((2,), b"\x00\x00", type_code=0x0D), "not unsigned byte"),
    (idx((2, 1), b"\x00\x00"), "2 dimensions, expected 1"),
    (b"\x00\x00\x08\x01\x00\x00", "truncated header"),
    (idx((3,), b"\x00\x00"), "truncated"),
    (idx((1,), b"\x00\x00"), "trailing bytes"),
])
def test_spec_5_1_bad_idx_is_rejected_with_the_file_named(tmp_path, blob, message):
    (tmp_path / "labels.idx").write_bytes(blob)
    with pytest.raises(DataError, match=message) as info:
        read_idx(tmp_path / "labels.idx", 1)
    assert "labels.idx" in str(info.value)


def test_spec_5_2_checksum_mismatch_is_rejected(tmp_path, mnist_path):
    copy = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress((mnist_path / copy.name).read_bytes()))
    raw[100] ^= 1
    copy.write_bytes(gzip.compress(bytes(raw)))
    shutil.copy(mnist_path / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(DataError, match="does not match"):
        verify_file(copy, "t10k-labels-idx1-ubyte")
    with pytest.raises(DataError, match="does not match"):
        load_split(tmp_path, "test")


def test_spec_5_2_truncated_gzip_is_rejected(tmp_path, mnist_path):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        blob = (mnist_path / name).read_bytes()
        (tmp_path / name).write_bytes(blob[: len(blob) // 2] if "labels" in name else blob)
    with pytest.raises(DataError, match="SHA-256"):
        load_split(tmp_path, "test")
    with pytest.raises(DataError, match="corrupt or truncated"):
        load_split(tmp_path, "test", verify=False)


def test_spec_5_2_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(DataError, match="not found in") as info:
        load_split(tmp_path, "train")
    assert "STOCHMEM_DATA_DIR" in str(info.value)


def test_spec_5_2_uncompressed_files_are_accepted(tmp_path, mnist_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(gzip.decompress((mnist_path / f"{name}.gz").read_bytes()))
    test = load_split(tmp_path, "test")
    assert len(test) == 10_000 and test.label(0) == 7


def test_spec_5_1_5_3_real_mnist(mnist_train, mnist_test):
    assert (len(mnist_train), len(mnist_test)) == (60_000, 10_000)
    assert [mnist_train.label(k) for k in range(5)] == [5, 0, 4, 1, 9]
    image = mnist_train.image(0)
    assert len(image) == 784 and min(image) == 0.0 and max(image) == 1.0


def test_spec_5_2_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("STOCHMEM_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("STOCHMEM_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert resolve_data_dir(None) == tmp_path / "cache" / "stochmem" / "mnist"


@given(variance=st.sampled_from([0.0, 0.01, 0.1, 0.2, 5.0]), seed=st.integers(0, 2**64 - 1),
       image=st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_spec_5_4_noisy_inputs_stay_in_range(variance, seed, image):
    noisy = corrupt(image, variance, seed, image_index=3, repeat=1)
    assert all(0.0 <= x <= 1.0 for x in noisy)
    if variance == 0.0:
        assert noisy == image


def test_spec_5_4_noise_depends_on_the_repeat():
    image = [0.5] * 20
    assert corrupt(image, 0.1, 1, 0, 0) != corrupt(image, 0.1, 1, 0, 1)
    assert corrupt(image, 0.1, 1, 0, 0) == corrupt(image, 0.1, 1, 0, 0)
    with pytest.raises(ValueError, match="variance"):
        corrupt(image, -0.1, 1, 0)


def test_embedded_digits_match_the_official_training_set(mnist_train):
    embedded = pytest.importorskip("stochmem.embedded")
    try:
        digits = embedded.load_embedded()
    except DataError as error:
        pytest.skip(str(error))
    official = set(mnist_train.images)
    assert len(digits) == 5000 and all(image in official for image in digits.images)
    train, test = embedded.embedded_split()
    assert (len(train), len(test)) == (4000, 1000) and set(test.labels) == set(range(10))
    first_hundred = train.labels[:100]
    assert all(first_hundred.count(digit) >= 4 for digit in range(10)), "a prefix must hold every digit"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_mirror(tmp_path, mnist_path):
    """An HTTP server on 127.0.0.1 serving copies of the MNIST .gz files (and one corrupt mirror)."""
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    for name in data.MNIST_FILES:
        shutil.copy(mnist_path / f"{name}.gz", good)
        (bad / f"{name}.gz").write_bytes(b"not mnist")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_from_a_mirror_verifies_and_falls_back(local_mirror, tmp_path):
    target = tmp_path / "cache"
    fetch_mnist(target, [f"{local_mirror}/bad/", f"{local_mirror}/good/"], log=lambda _msg: None)
    assert len(data.verify_dir(target)) == 4
    assert not list(target.glob("*.part"))


def test_fetch_without_network_fails_cleanly(local_mirror, tmp_path):
    target = tmp_path / "cache"
    with pytest.raises(DataError, match="Without network") as info:
        fetch_mnist(target, [f"{local_mirror}/bad/", "http://127.0.0.1:9/"], log=lambda _msg: None)
    assert "SHA-256" in str(info.value)
    assert not any(target.iterdir())


def test_mnist_path_fixture_points_at_real_files(mnist_path: Path):
    assert len(data.verify_dir(mnist_path)) == 4


def test_spec_5_4_numpy_twin_of_the_noisy_inputs_matches_the_reference():
    from stochmem_numpy.kernels import corrupt as fast_corrupt

    image = [k / 783 for k in range(784)]
    for variance, repeat in ((0.01, 0), (0.2, 3), (0.0, 1)):
        reference = corrupt(image, variance, 11, 42, repeat)
        assert fast_corrupt(image, variance, 11, 42, repeat).tolist() == pytest.approx(reference, abs=1e-12)
