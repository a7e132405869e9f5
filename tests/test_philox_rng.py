"""[SPEC 2] The generator, the counter layout, uniforms, normals and permutations."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial
from stochmem.philox import philox4x32
from stochmem.rng import Draw, Site, bounded_integer, normal, normals, permutation, uniform_from_word

KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_spec_2_1_philox_known_answers(counter, key, expected):
    assert philox4x32(counter, key) == expected


def test_spec_2_2_counter_layout():
    draw = Draw(seed=(7 << 32) | 5, site=Site.UPDATE_ROW, step=9, layer=3, aux=2)
    expected = philox4x32((4, 9, 3 | (2 << 8), 5), (5, 7))
    assert [draw.word(16 + k) for k in range(4)] == list(expected)
    assert draw.words(15, 6) == [draw.word(k) for k in range(15, 21)]


@pytest.mark.parametrize("field", ["seed", "step", "layer", "aux"])
def test_spec_2_2_address_out_of_range_is_rejected(field):
    limits = {"seed": 1 << 64, "step": 1 << 32, "layer": 256, "aux": 1 << 24}
    with pytest.raises(ValueError, match=field):
        Draw(**{"seed": 0, "site": Site.FORWARD_STREAM, field: limits[field]})


def test_spec_2_3_sites_are_distinct_streams():
    words = {site: Draw(1, site).words(0, 8) for site in Site}
    assert len({tuple(w) for w in words.values()}) == len(Site)


def test_spec_2_4_uniforms_are_exact():
    assert uniform_from_word(0) == 0.0
    assert uniform_from_word(0xFFFFFFFF) == 1 - 2.0**-32


@given(bound=st.integers(1, 10**6), word=st.integers(0, 2**32 - 1))
def test_spec_2_6_bounded_integer_in_range(bound, word):
    assert 0 <= bounded_integer(word, bound) < bound


@given(seed=st.integers(0, 2**64 - 1), size=st.integers(0, 200))
def test_spec_2_6_permutation_is_a_permutation(seed, size):
    assert sorted(permutation(Draw(seed, Site.DATA_ORDER), size)) == list(range(size))


def test_spec_2_5_box_muller_pairs():
    draw = Draw(3, Site.PROGRAM_NOISE, 1)
    w0, w1, _, _ = draw.block(2)
    radius = math.sqrt(-2 * math.log((w0 + 1) / 2**32))
    assert normal(draw, 4) == radius * math.cos(2 * math.pi * w1 / 2**32)
    assert normal(draw, 5) == radius * math.sin(2 * math.pi * w1 / 2**32)


def test_spec_2_5_normals_have_standard_moments():
    """Mean and variance of 40,000 normals, and the count beyond 1.96, within tight bounds."""
    sample = normals(Draw(2024, Site.INPUT_NOISE), 40_000)
    n = len(sample)
    mean = sum(sample) / n
    variance = sum((x - mean) ** 2 for x in sample) / (n - 1)
    # 7 standard errors: a false alarm has probability ~1e-12 under the normal law of these statistics.
    assert abs(mean) < 7 / math.sqrt(n)
    assert abs(variance - 1) < 7 * math.sqrt(2 / (n - 1))
    beyond = sum(abs(x) > 1.959963984540054 for x in sample)
    assert_binomial(beyond, n, 0.05, FAMILY_ALPHA, "normals beyond 1.96")


def test_spec_2_words_are_uniform_bytes():
    """The top byte of 64,000 words: each of the 256 values within its exact binomial interval."""
    words = Draw(77, Site.INIT_WEIGHTS).words(0, 64_000)
    counts = [0] * 256
    for w in words:
        counts[w >> 24] += 1
    for value, count in enumerate(counts):
        assert_binomial(count, len(words), 1 / 256, FAMILY_ALPHA / 256, f"top byte {value}")
