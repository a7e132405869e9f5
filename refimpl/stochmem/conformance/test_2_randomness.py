"""Conformance, chapter 2: the generator and the draws."""

from __future__ import annotations

import math

import pytest

from stochmem.backend_api import Backend
from stochmem.conformance.plugin import Seeded
from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial
from stochmem.conformance.vectors_source import cases, draw_of
from stochmem.rng import Draw, Site

pytestmark = pytest.mark.groups("randomness")

NORMAL_TOLERANCE = 1e-12  # [SPEC 2.5]: ln, cos, sin may differ by a few ulp between math libraries


@pytest.mark.exact
def test_spec_2_1_philox_vectors(backend: Backend) -> None:
    for case in cases("philox.json", "PhiloxTest"):
        counter = tuple(int(w, 16) for w in case["counter"])
        key = tuple(int(w, 16) for w in case["key"])
        expected = tuple(int(w, 16) for w in case["output"])
        assert backend.philox(counter, key) == expected, f"[SPEC 2.1] Philox4x32-10, vector tcId {case['tcId']}"  # type: ignore[arg-type]


@pytest.mark.exact
def test_spec_2_5_normal_vectors(backend: Backend) -> None:
    for case in cases("streams.json", "NormalTest"):
        got = backend.normals(draw_of(case["draw"]), len(case["normals"]))
        assert got == pytest.approx(case["normals"], abs=NORMAL_TOLERANCE), f"[SPEC 2.5] tcId {case['tcId']}"


@pytest.mark.statistical
def test_spec_2_5_normals_are_standard(backend: Backend, seeded: Seeded) -> None:
    n = 20_000
    sample = backend.normals(Draw(seeded(31), Site.INPUT_NOISE, 2), n)
    mean = sum(sample) / n
    variance = sum((x - mean) ** 2 for x in sample) / (n - 1)
    assert abs(mean) < 7 / math.sqrt(n), f"[SPEC 2.5] normals have mean {mean}"
    assert abs(variance - 1) < 7 * math.sqrt(2 / (n - 1)), f"[SPEC 2.5] normals have variance {variance}"
    assert_binomial(sum(abs(x) > 1.959963984540054 for x in sample), n, 0.05, FAMILY_ALPHA,
                    "[SPEC 2.5] normals beyond 1.96")
