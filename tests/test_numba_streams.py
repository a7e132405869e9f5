"""The numba backend's bulk stream kernels against the reference, bit for bit ([SPEC 1.2, 1.3, 2.2, 2.5]).

The kernels draw the Philox blocks of every random stream of a vector in one list, runs of random streams sharing
blocks at their edges; these properties mix constant (0 and 1) and random streams in runs of every length, at bit
lengths on both sides of a block (4 words) and of a packed word (64 bits), and check every bit.
"""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("numba")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stochmem.rng import Draw, Site, normal  # noqa: E402
from stochmem.streams import encode_many  # noqa: E402
from stochmem_numba import kernels, streams  # noqa: E402
from stochmem_numba.model import seed_key  # noqa: E402

BIT_LENGTHS = [1, 2, 3, 4, 5, 10, 15, 16, 17, 33, 63, 64, 65, 100, 130]
PROBABILITY = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0), st.floats(-0.5, 1.5))


def reference_streams(values: list[float], bit_length: int, seed: int, step: int, layer: int) -> list[list[bool]]:
    draw = Draw(seed, Site.UPDATE_ROW, step, layer)
    return [stream.tolist() for stream in encode_many(values, bit_length, draw)]


def compiled_arguments(seed: int, step: int, layer: int) -> tuple[np.uint64, ...]:
    k0, k1 = seed_key(seed)
    return k0, k1, np.uint64(step), np.uint64(layer), np.uint64(int(Site.UPDATE_ROW))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(values=st.lists(PROBABILITY, max_size=40), bit_length=st.sampled_from(BIT_LENGTHS),
       seed=st.integers(0, 2**64 - 1), step=st.integers(0, 2**32 - 1), layer=st.integers(0, 255))
def test_packed_streams_and_live_rows_are_the_references(values, bit_length, seed, step, layer):
    want = reference_streams(values, bit_length, seed, step, layer)
    packed = np.empty((len(values), (bit_length + 63) // 64), dtype=np.uint64)
    live = streams.stream_packed(np.asarray(values, dtype=np.float64), bit_length,
                                 *compiled_arguments(seed, step, layer), packed)
    got = [[bool(int(packed[i, n // 64]) >> (n % 64) & 1) for n in range(bit_length)] for i in range(len(values))]
    assert got == want
    assert live.tolist() == [i for i, bits in enumerate(want) if any(bits)]
    gathered = streams.gather_rows(packed, live)
    assert gathered.tolist() == packed[live].tolist()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(values=st.lists(PROBABILITY, max_size=40), bit_length=st.sampled_from(BIT_LENGTHS),
       seed=st.integers(0, 2**64 - 1), step=st.integers(0, 2**32 - 1))
def test_stream_counts_are_the_references_popcounts(values, bit_length, seed, step):
    want = [sum(bits) for bits in reference_streams(values, bit_length, seed, step, 3)]
    out = np.empty(len(values), dtype=np.int64)
    streams.stream_counts(np.asarray(values, dtype=np.float64), bit_length, *compiled_arguments(seed, step, 3), out)
    assert out.tolist() == want


@settings(max_examples=150, deadline=None, derandomize=True)
@given(values=st.lists(PROBABILITY, max_size=40), bit_length=st.sampled_from(BIT_LENGTHS),
       all_random=st.booleans())
def test_every_stream_reads_its_16_word_chunks_inside_the_drawn_words(values, bit_length, all_random):
    """words_below loads 16 words from each chunk's start with no bounds check: every load must stay inside the
    array draw_words returns (its spare words are there for that, all ones)."""
    if all_random:
        values = [min(max(v, 1e-6), 1.0 - 1e-6) for v in values]
    levels = streams.thresholds(np.asarray(values, dtype=np.float64))
    words, offsets = streams.draw_words(levels, bit_length, *compiled_arguments(5, 6, 7))
    assert words[words.size - streams.LANES :].tolist() == [0xFFFFFFFF] * streams.LANES
    for i, level in enumerate(levels):
        if 0 < int(level) < 2**32:
            start = i * bit_length + int(offsets[i])
            last_chunk = start + streams.LANES * ((bit_length - 1) // streams.LANES)
            assert start >= 0 and last_chunk + streams.LANES <= words.size


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=st.lists(st.floats(1e-6, 1.0 - 1e-6), min_size=1, max_size=70), bit_length=st.sampled_from(BIT_LENGTHS),
       seed=st.integers(0, 2**64 - 1), step=st.integers(0, 2**32 - 1))
def test_vectors_whose_every_stream_is_random_draw_the_references_words(values, bit_length, seed, step):
    """The kernels draw such a vector's blocks without listing them (hidden activations and errors)."""
    want = reference_streams(values, bit_length, seed, step, 1)
    packed = np.empty((len(values), (bit_length + 63) // 64), dtype=np.uint64)
    streams.stream_packed(np.asarray(values, dtype=np.float64), bit_length, *compiled_arguments(seed, step, 1), packed)
    assert [[bool(int(packed[i, n // 64]) >> (n % 64) & 1) for n in range(bit_length)]
            for i in range(len(values))] == want
    out = np.empty(len(values), dtype=np.int64)
    streams.stream_counts(np.asarray(values, dtype=np.float64), bit_length, *compiled_arguments(seed, step, 1), out)
    assert out.tolist() == [sum(bits) for bits in want]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(synapses=st.lists(st.integers(0, 10**6), max_size=30), pulses=st.data(), sigma=st.sampled_from([0.0, 0.3]),
       pulse_mode=st.booleans(), bit_length=st.sampled_from([1, 3, 10]), seed=st.integers(0, 2**32))
def test_event_increments_follow_the_reference_draws(synapses, pulses, sigma, pulse_mode, bit_length, seed):
    counts = [pulses.draw(st.integers(1, bit_length)) for _ in synapses]
    step, layer = 17, 2
    draw = Draw(seed, Site.PROGRAM_NOISE, step, layer)
    want = []
    for m, n in zip(synapses, counts):
        if sigma == 0.0:
            want.append(float(n))
        elif pulse_mode:
            total = 0.0
            for k in range(n):
                total += 1.0 + sigma * normal(draw, m * bit_length + k)
            want.append(total)
        else:
            want.append(n + sigma * normal(draw, m))
    k0, k1 = seed_key(seed)
    got = kernels.event_increments(np.asarray(synapses, dtype=np.int64), np.asarray(counts, dtype=np.int64), sigma,
                                   pulse_mode, bit_length, k0, k1, np.uint64(step), np.uint64(layer))
    assert np.allclose(got, want, rtol=0, atol=1e-13)  # [SPEC 2.5]: the last-ulp freedom of ln, cos, sin


@pytest.mark.parametrize("density", [0.0, 0.05, 0.3, 0.49, 0.51, 1.0])
def test_passes_over_the_nonzero_inputs_equal_the_dense_ones(density):
    rng = np.random.default_rng(5)
    weights = rng.normal(size=(37, 101))
    inputs = np.where(rng.random(101) < density, rng.random(101), 0.0)
    assert np.allclose(kernels.matvec(weights, inputs), weights @ inputs, rtol=0, atol=1e-12)
    by_inputs = np.ascontiguousarray(weights.T)  # the first crossbar's column-major layout
    assert np.allclose(kernels.matvec_by_inputs(by_inputs, inputs), weights @ inputs, rtol=0, atol=1e-12)
    scaled = rng.normal(size=37)
    updated = weights.copy()
    kernels.update_float(updated, scaled, inputs, False)
    assert np.array_equal(updated, weights - np.outer(scaled, inputs))
    kernels.update_float(by_inputs, scaled, inputs, True)
    assert np.array_equal(by_inputs.T, updated)  # the same products and differences, element for element


@pytest.mark.parametrize(("bit_length", "columns"), [(10, 2), (100, 1), (64, 2)])
def test_packed_streams_need_exactly_their_columns(bit_length, columns):
    """The 16-word comparisons would read past the words for a column too many, and shift by 64 or more for one
    too few: the kernel refuses both."""
    with pytest.raises(ValueError, match="columns"):
        streams.stream_packed(np.full(3, 0.5), bit_length, *compiled_arguments(1, 2, 3),
                              np.empty((3, columns), dtype=np.uint64))
