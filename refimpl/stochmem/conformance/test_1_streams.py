"""Conformance, chapter 1: numbers as Bernoulli streams."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stochmem.backend_api import Backend
from stochmem.conformance.plugin import Seeded
from stochmem.conformance.stats import FAMILY_ALPHA, assert_binomial, assert_binomial_distribution
from stochmem.conformance.vectors_source import cases, draw_of
from stochmem.protocol.codec import bits_hex
from stochmem.rng import Draw, Site
from stochmem.streams import threshold

pytestmark = pytest.mark.groups("streams")

EXAMPLES = 40


@pytest.mark.statistical
@pytest.mark.parametrize("bit_length", [1, 2, 7, 10, 63, 64, 65, 100])
def test_spec_1_1_streams_have_exactly_bl_bits(backend: Backend, seeded: Seeded, bit_length: int) -> None:
    streams = backend.encode([0.0, 0.3, 1.0, 0.5], bit_length, Draw(seeded(1), Site.FORWARD_STREAM))
    assert len(streams) == 4, "[SPEC 1.3] one stream per value"
    assert [len(s) for s in streams] == [bit_length] * 4, f"[SPEC 1.1] streams must have BL={bit_length} bits"


@pytest.mark.statistical
def test_spec_1_2_constant_streams(backend: Backend, seeded: Seeded) -> None:
    zero, one = backend.encode([0.0, 1.0], 50, Draw(seeded(2), Site.EVAL_STREAM))
    assert zero.count(1) == 0, "[SPEC 1.2] p = 0 must never fire"
    assert one.count(1) == 50, "[SPEC 1.2] p = 1 must always fire"


@pytest.mark.statistical
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(p=st.floats(0, 1), n=st.integers(1, 300), seed=st.integers(0, 2**64 - 1))
def test_spec_1_2_popcount_is_binomial(backend: Backend, seeded: Seeded, p: float, n: int, seed: int) -> None:
    stream = backend.encode([p], n, Draw(seeded(seed), Site.FORWARD_STREAM, 3))[0]
    assert_binomial(stream.count(1), n, threshold(p) / 2**32, FAMILY_ALPHA / EXAMPLES,
                    f"[SPEC 1.2] popcount of a stream of p={p}, N={n}")


@pytest.mark.statistical
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(0, 1), n=st.integers(1, 200), seed=st.integers(0, 2**64 - 1))
def test_spec_1_4_coincidences_are_binomial(backend: Backend, seeded: Seeded, a: float, b: float, n: int,
                                            seed: int) -> None:
    """[SPEC 1.4] popcount(A AND B) ~ Binomial(N, ab) for independent streams of a and b."""
    counts = backend.coincidence_counts([a], [b], n, Draw(seeded(seed), Site.UPDATE_ROW),
                                        Draw(seeded(seed), Site.UPDATE_COLUMN))
    assert len(counts) == 1 and len(counts[0]) == 1, "[SPEC 1.4] counts[j][i]: one column, one row"
    p = threshold(a) / 2**32 * (threshold(b) / 2**32)
    assert_binomial(counts[0][0], n, p, FAMILY_ALPHA / EXAMPLES, f"[SPEC 1.4] AND of {a} and {b}, N={n}")


@pytest.mark.statistical
@pytest.mark.parametrize(("a", "b", "n"), [(0.5, 0.5, 10), (0.9, 0.3, 2), (0.2, 0.7, 100), (1.0, 0.25, 10)])
def test_spec_1_4_mean_of_the_product_over_many_cells(backend: Backend, seeded: Seeded, a: float, b: float,
                                                      n: int) -> None:
    """[SPEC 1.4, eq. 3] E(c) = ab: 40 x 40 independent coincidence counts sum to Binomial(1600 N, ab)."""
    counts = backend.coincidence_counts([a] * 40, [b] * 40, n, Draw(seeded(7), Site.UPDATE_ROW, 1),
                                        Draw(seeded(7), Site.UPDATE_COLUMN, 1))
    assert all(0 <= c <= n for row in counts for c in row), "[SPEC 1.4] a count lies in [0, N]"
    # Cells of one row share a stream, so cells are not independent; rows and columns are. Sum per column
    # over distinct rows pairs each row stream with one column stream: use the diagonal (independent pairs).
    diagonal = sum(counts[k][k] for k in range(40))
    assert_binomial(diagonal, 40 * n, a * b, FAMILY_ALPHA / 4, f"[SPEC 1.4] E(c) = ab for a={a}, b={b}")


@pytest.mark.exact
def test_spec_1_3_encode_vectors(backend: Backend) -> None:
    for case in cases("streams.json", "EncodeTest"):
        streams = backend.encode(case["probabilities"], case["bitLength"], draw_of(case["draw"]))
        assert [bits_hex(s) for s in streams] == case["streams"], f"[SPEC 1.2, 1.3] vector tcId {case['tcId']}"


@pytest.mark.exact
@pytest.mark.parametrize("bit_length", [1, 10, 100])
def test_spec_1_4_coincidence_counts_equal_the_reference(backend: Backend, reference: Backend,
                                                          bit_length: int) -> None:
    rows = [0.0, 1.0, 0.5, 0.01, 0.99, 0.3]
    columns = [0.25, 0.0, 1.0, 0.75]
    draws = Draw(11, Site.UPDATE_ROW, 5, 2), Draw(11, Site.UPDATE_COLUMN, 5, 2)
    assert backend.coincidence_counts(rows, columns, bit_length, *draws) == \
        reference.coincidence_counts(rows, columns, bit_length, *draws), "[SPEC 1.4, 3.8] counts differ"


#: [SPEC 1.2] Spread of the popcount: 2,000 streams per case, chi-square goodness of fit to Binomial(N, p).
SPREAD_STREAMS = 2000
SPREAD_CASES = [(0.3, 10), (0.5, 100), (0.9, 37)]


@pytest.mark.statistical
@pytest.mark.parametrize(("p", "n"), SPREAD_CASES)
def test_spec_1_2_popcounts_have_the_binomial_spread(backend: Backend, seeded: Seeded, p: float, n: int) -> None:
    """Not only the mean: streams with the right mean but too little or too much spread (bits that are not
    independent) fail the chi-square fit of the popcounts' whole distribution."""
    streams = backend.encode([p] * SPREAD_STREAMS, n, Draw(seeded(71), Site.FORWARD_STREAM, n))
    assert_binomial_distribution([s.count(1) for s in streams], n, threshold(p) / 2**32,
                                 FAMILY_ALPHA / len(SPREAD_CASES), f"[SPEC 1.2] popcounts of p={p}, N={n}")


#: [SPEC 1.2] Long streams: 512 streams of 4,096 bits (2**21 bits) per probability.
LONG_STREAMS, LONG_BITS = 512, 4096
LONG_PROBABILITIES = [0.25, 0.5, 0.8]


@pytest.mark.statistical
@pytest.mark.parametrize("p", LONG_PROBABILITIES)
def test_spec_1_2_long_streams_resolve_the_probability(backend: Backend, seeded: Seeded, p: float) -> None:
    """2**21 bits: at p = 0.5 a probability off by 0.43 % of itself is caught (see the power table)."""
    streams = backend.encode([p] * LONG_STREAMS, LONG_BITS, Draw(seeded(72), Site.EVAL_STREAM, 1))
    assert_binomial(sum(s.count(1) for s in streams), LONG_STREAMS * LONG_BITS, threshold(p) / 2**32,
                    FAMILY_ALPHA / len(LONG_PROBABILITIES), f"[SPEC 1.2] ones in 2**21 bits of p={p}")


COINCIDENCE_CELLS = 1500


@pytest.mark.statistical
@pytest.mark.parametrize(("a", "b", "n"), [(0.5, 0.6, 20), (0.9, 0.2, 64)])
def test_spec_1_4_coincidence_counts_have_the_binomial_spread(backend: Backend, seeded: Seeded, a: float, b: float,
                                                              n: int) -> None:
    """1,500 independent single-cell updates (one draw each): popcount(A AND B) ~ Binomial(N, ab), mean and spread."""
    counts = [backend.coincidence_counts([a], [b], n, Draw(seeded(73), Site.UPDATE_ROW, k),
                                         Draw(seeded(73), Site.UPDATE_COLUMN, k))[0][0]
              for k in range(COINCIDENCE_CELLS)]
    p = threshold(a) / 2**32 * (threshold(b) / 2**32)
    assert_binomial_distribution(counts, n, p, FAMILY_ALPHA / 2, f"[SPEC 1.4] coincidences of a={a}, b={b}, N={n}")


@pytest.mark.exact
@pytest.mark.parametrize("bit_length", [5, 33, 100])
def test_spec_1_2_a_word_equal_to_the_threshold_does_not_fire(backend: Backend, reference: Backend,
                                                               bit_length: int) -> None:
    """[SPEC 1.2] bit = word < floor(p 2**32): give each value exactly the word its bit k is drawn from."""
    draw = Draw(77, Site.BACKWARD_STREAM, 3, 1)
    values = 8
    words = [w for block in range((values * bit_length + 3) // 4) for w in draw.block(block)]
    probabilities = [words[i * bit_length + (i * 7) % bit_length] / 2**32 for i in range(values)]
    got, want = backend.encode(probabilities, bit_length, draw), reference.encode(probabilities, bit_length, draw)
    for i, (stream, expected) in enumerate(zip(got, want)):
        assert stream == expected, (f"[SPEC 1.2] value {i} (p = word / 2**32 for its bit {(i * 7) % bit_length}): "
                                    f"stream {bits_hex(stream)}, reference {bits_hex(expected)}")
