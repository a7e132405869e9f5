"""[SPEC 1] Bernoulli streams: the bit rule, encoding, and the AND product of eq. 3."""

from __future__ import annotations

import math

import pytest
from bitarray import bitarray
from hypothesis import given, settings
from hypothesis import strategies as st

from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial
from stochmem.rng import Draw, Site
from stochmem.streams import and_count, bit_from_word, decode, encode, encode_many, multiply, threshold

EXAMPLES = 60
PER_EXAMPLE_ALPHA = FAMILY_ALPHA / EXAMPLES  # Bonferroni over the examples of one property


def test_spec_1_2_threshold_rule_at_the_ends():
    assert threshold(0.0) == 0 and not bit_from_word(0, 0.0)
    assert threshold(1.0) == 2**32 and bit_from_word(2**32 - 1, 1.0)
    assert threshold(-3.0) == 0 and threshold(7.0) == 2**32  # clipped to [0, 1]


@pytest.mark.parametrize("level", [1, 2**31, 2**32 - 1, 12345])
def test_spec_1_2_threshold_rule_around_a_threshold(level):
    p = level / 2**32
    assert threshold(p) == level
    assert bit_from_word(level - 1, p)
    assert not bit_from_word(level, p)
    assert threshold(math.nextafter(p, 0.0)) == level - 1


def test_spec_1_2_nan_is_refused():
    with pytest.raises(ValueError, match="NaN"):
        threshold(float("nan"))


def test_spec_1_3_layout_value_slow_bit_fast():
    draw = Draw(5, Site.FORWARD_STREAM, 2, 1)
    probabilities = [0.3, 0.0, 0.7, 1.0, 0.5]
    streams = encode_many(probabilities, 7, draw)
    words = draw.words(0, 35)
    for i, p in enumerate(probabilities):
        assert streams[i] == encode(p, words[7 * i : 7 * i + 7])


def test_spec_1_1_decode_and_errors():
    assert decode(bitarray("0110")) == 0.5
    with pytest.raises(ValueError, match="empty"):
        decode(bitarray())
    with pytest.raises(ValueError, match="length"):
        and_count(bitarray("01"), bitarray("011"))


@settings(max_examples=EXAMPLES)
@given(a=st.floats(0, 1), b=st.floats(0, 1), n=st.integers(1, 400), seed=st.integers(0, 2**64 - 1))
def test_spec_1_4_and_popcount_is_binomial(a, b, n, seed):
    """popcount(A AND B) lies in the exact Binomial(N, P(a) P(b)) interval, P(p) = floor(p 2^32)/2^32."""
    stream_a = encode_many([a], n, Draw(seed, Site.UPDATE_ROW))[0]
    stream_b = encode_many([b], n, Draw(seed, Site.UPDATE_COLUMN))[0]
    p = threshold(a) / 2**32 * (threshold(b) / 2**32)
    assert_binomial(and_count(stream_a, stream_b), n, p, PER_EXAMPLE_ALPHA, f"AND of {a} and {b}, N={n}")


@settings(max_examples=12)
@given(a=st.floats(0.05, 0.95), b=st.floats(0.05, 0.95), n=st.sampled_from([1, 2, 10, 100]))
def test_spec_1_4_mean_and_variance_of_the_product(a, b, n):
    """Over 1,000 seeds: E(c) = ab exactly binomially, Var(c) = ab(1-ab)/N within 7 standard errors."""
    seeds = 1000
    counts = []
    for seed in range(seeds):
        stream_a = encode_many([a], n, Draw(seed, Site.UPDATE_ROW, 1))[0]
        stream_b = encode_many([b], n, Draw(seed, Site.UPDATE_COLUMN, 1))[0]
        counts.append(and_count(stream_a, stream_b))
    q = a * b
    assert_binomial(sum(counts), n * seeds, q, FAMILY_ALPHA / 12, "sum of coincidences over seeds")
    products = [c / n for c in counts]
    mean = sum(products) / seeds
    sample_variance = sum((c - mean) ** 2 for c in products) / (seeds - 1)
    variance = q * (1 - q) / n
    # Var of the sample variance: (mu4 - variance^2 (m-3)/(m-1)) / m, mu4 of Binomial(n, q)/n.
    mu4 = n * q * (1 - q) * (1 + 3 * (n - 2) * q * (1 - q)) / n**4
    spread = math.sqrt((mu4 - variance**2 * (seeds - 3) / (seeds - 1)) / seeds)
    assert abs(sample_variance - variance) < 7 * spread, (sample_variance, variance, spread)


def test_spec_1_4_multiply_estimates_the_product():
    stream_a = encode_many([0.6], 20_000, Draw(1, Site.UPDATE_ROW))[0]
    stream_b = encode_many([0.5], 20_000, Draw(1, Site.UPDATE_COLUMN))[0]
    assert abs(multiply(stream_a, stream_b) - 0.3) < 7 * math.sqrt(0.3 * 0.7 / 20_000)
