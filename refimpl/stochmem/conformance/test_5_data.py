"""Conformance, chapter 5: the optional data-path methods a backend may offer (``read_image``, ``corrupt``).

A backend without them is served by the reference's functions, so these tests are skipped for it.
"""

from __future__ import annotations

import pytest

from stochmem.backend_api import Backend, CorruptsInputs, ReadsImages
from stochmem.data import Dataset, corrupt

pytestmark = pytest.mark.groups("data")

ALL_PIXELS = Dataset([bytes(range(256)), bytes(range(255, -1, -1))], bytes([3, 7]), rows=16, cols=16)
NOISE_TOLERANCE = 1e-12  # [SPEC 2.5]: the normals may differ by a few ulp between math libraries


@pytest.mark.exact
def test_spec_5_3_read_image_is_pixel_over_255(backend: Backend) -> None:
    if not isinstance(backend, ReadsImages):
        pytest.skip("optional method read_image not offered: the reference's Dataset.image is used")
    for index in range(len(ALL_PIXELS)):
        got = [float(x) for x in backend.read_image(ALL_PIXELS, index)]
        assert got == ALL_PIXELS.image(index), "[SPEC 5.3] read_image must return exactly pixel / 255"


@pytest.mark.exact
@pytest.mark.parametrize("variance", [0.0, 0.01, 0.2, 1.0])
def test_spec_5_4_corrupt_matches_the_reference(backend: Backend, variance: float) -> None:
    if not isinstance(backend, CorruptsInputs):
        pytest.skip("optional method corrupt not offered: the reference's stochmem.data.corrupt is used")
    for repeat in (0, 3):
        image = ALL_PIXELS.image(1)
        got = [float(x) for x in backend.corrupt(image, variance, 5, 17, repeat)]
        assert got == pytest.approx(corrupt(image, variance, 5, 17, repeat), abs=NOISE_TOLERANCE), \
            f"[SPEC 5.4] noisy inputs, variance {variance}, repeat {repeat}"
    default = [float(x) for x in backend.corrupt(ALL_PIXELS.image(0), variance, 5, 17)]
    assert default == pytest.approx(corrupt(ALL_PIXELS.image(0), variance, 5, 17), abs=NOISE_TOLERANCE), \
        f"[SPEC 5.4] noisy inputs, variance {variance}, repeat left at its default (0)"
