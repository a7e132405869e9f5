# mypy: disable-error-code="assignment"
# (numba kernels mix Python ints with NumPy scalars on purpose: the compiled types are what matter)
"""Pulse streams of a whole vector at once ([SPEC 1.1-1.4, 2.2]): the Philox words drawn in bulk, then compared.

Value i of a vector takes words i*BL .. i*BL + BL - 1 of its draw, so the words of consecutive values are
consecutive Philox blocks. Drawing them one value at a time (a block, a lane switch, a comparison, a branch) cost
about 29 ns per block; here the blocks of all the values that need random words are drawn by one branch-free
loop over their blocks (:func:`stochmem_numba.philox.philox_at`), which LLVM vectorises (2-4 ns per block), and
the comparisons follow in a loop of their own. Values whose threshold is 0 or 2**32 draw nothing ([SPEC 1.2]:
their streams are constant), so a sparse input (most MNIST pixels are 0) costs only its nonzero values.

A stream's comparisons are made 16 words at a time (:func:`words_below`: one vector comparison whose lanes become
the bits of an integer), not word by word: a loop of BL comparisons, BL known only at run time, cost more than the
stream's Philox blocks (at BL = 10, 256 hidden values: 2.9 us a vector's counts and 4.1 us its packed streams,
against 2.0 and 2.1 us with 16-word comparisons; the blocks alone take about 1.1 us).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from stochmem_numba.jit import njit
from stochmem_numba.philox import philox, popcount64

TWO_POW_32 = 4294967296.0
FULL = np.uint64(1 << 32)
ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
LANES = 16  # words compared at once by words_below; the words of a draw are followed by as many spare ones


@intrinsic
def words_below(typingctx, words, start, level):  # type: ignore[no-untyped-def]
    """Bit n (n < 16) set where ``words[start + n] < level``: one vector load and unsigned comparison whose 16
    lanes are read as an integer (VPCMPUD into a mask register on AVX-512, two compares and a byte mask on AVX2).

    The caller guarantees what the load cannot check: a contiguous uint32 array (typing refuses any other), and
    0 <= start, start + 16 <= words.size (no bounds check, no negative indexing); ``level`` is compared in its
    low 32 bits, so it must be a random stream's (strictly between 0 and 2**32)."""
    if not (isinstance(words, types.Array) and words.dtype == types.uint32 and words.ndim == 1
            and words.layout == "C" and isinstance(start, types.Integer) and isinstance(level, types.Integer)):
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        word = ir.IntType(32)
        lanes = ir.VectorType(word, LANES)
        array = context.make_array(signature.args[0])(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        loaded = builder.load(builder.gep(array.data, [index], source_etype=word), typ=lanes, align=4)
        one_lane = builder.insert_element(ir.Constant(lanes, ir.Undefined), builder.trunc(args[2], word),
                                          ir.Constant(word, 0))
        splat = builder.shuffle_vector(one_lane, ir.Constant(lanes, ir.Undefined), ir.Constant(lanes, [0] * LANES))
        below = builder.icmp_unsigned("<", loaded, splat)
        return builder.zext(builder.bitcast(below, ir.IntType(LANES)), ir.IntType(64))

    return types.uint64(words, start, level), codegen


@njit(inline="always")
def low_bits(count: int) -> np.uint64:
    """A word with its ``count`` lowest bits set (0 <= count <= 64)."""
    return ALL_ONES >> np.uint64(64 - count) if count > 0 else np.uint64(0)


@njit(inline="always")
def stream_bits(words: np.ndarray, start: int, level: np.uint64, length: int) -> np.uint64:
    """[SPEC 1.2] Bit n set where ``words[start + n] < level``, for n < ``length`` <= 64 (a random stream's
    level; ``words`` as :func:`draw_words` returns them, with their spare words)."""
    bits: np.uint64 = words_below(words, start, level)  # type: ignore[call-arg]  # numba's intrinsic is untyped
    for n in range(LANES, length, LANES):
        bits |= words_below(words, start + n, level) << np.uint64(n)
    return bits & low_bits(length)


@njit(inline="always")
def threshold(p: float) -> np.uint64:
    """[SPEC 1.2] floor(clip(p, 0, 1) * 2**32)."""
    if p <= 0.0:
        return np.uint64(0)
    if p >= 1.0:
        return FULL
    return np.uint64(p * TWO_POW_32)


@njit(inline="always")
def thresholds(values: np.ndarray) -> np.ndarray:
    """[SPEC 1.2] The comparison level of every value."""
    levels = np.empty(values.size, dtype=np.uint64)
    for i in range(values.size):
        levels[i] = threshold(values[i])
    return levels


@njit(inline="always")
def random(level: np.uint64) -> bool:
    """Whether a stream of this level needs random words (it is not constantly 0 or 1)."""
    return level != 0 and level != FULL


@njit(inline="always")
def stream_word(words: np.ndarray, start: int, level: np.uint64, length: int) -> np.uint64:
    """[SPEC 1.2] The ``length`` (<= 64) bits of a stream of any level from word ``start`` on: all ones for a level
    of 2**32, none for 0 (constant streams read no words), else :func:`stream_bits`."""
    if random(level):
        return stream_bits(words, start, level, length)
    return low_bits(length) if level == FULL else np.uint64(0)


@njit()
def draw_words(levels: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64, c2: np.uint64,
               site: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """[SPEC 2.2] The words that the random streams read (those with a level strictly between 0 and 2**32), and
    where: word k of the draw, k in i*BL .. i*BL + BL - 1, is ``words[k + offsets[i]]`` for every random stream i
    (other streams' offsets are undefined). ``LANES`` spare words follow the drawn ones, so that
    :func:`words_below` may read 16 words from any stream's start; the bits of words past a stream's end are
    always masked off (the spare words are all ones, below no level, only as a second line of defence).

    The blocks needed are listed first, then drawn in one loop that stores them one after another (a digit's runs
    of nonzero pixels are short: a loop per run spent most of its time in the scalar remainder after the vector
    iterations, and storing each block at its own place in a full-length array cost twice as long as this). When
    every stream is random (hidden activations, errors) the list is simply 0, 1, 2, ... and is written without
    looking for runs (:func:`list_blocks`), and one Philox loop serves both.
    """
    n = levels.size
    needed = np.empty(((n * bit_length + 3) >> 2) + 1, dtype=np.int64)
    every_stream_random = n > 0
    for i in range(n):
        every_stream_random &= random(levels[i])
    if every_stream_random:  # the list 0, 1, 2, ...: written, so that one Philox loop serves both cases
        count = (n * bit_length + 3) >> 2
        for b in range(count):
            needed[b] = b
        offsets = np.zeros(n, dtype=np.int64)
    else:
        count, offsets = list_blocks(levels, bit_length, needed)
    words = np.empty(4 * count + LANES, dtype=np.uint32)
    for t in range(count):
        r = philox(np.uint64(needed[t]), step, c2, site, k0, k1)
        words[4 * t], words[4 * t + 1] = np.uint32(r[0]), np.uint32(r[1])
        words[4 * t + 2], words[4 * t + 3] = np.uint32(r[2]), np.uint32(r[3])
    for t in range(4 * count, words.size):
        words[t] = np.uint32(0xFFFFFFFF)
    return words, offsets


@njit(inline="always")
def list_blocks(levels: np.ndarray, bit_length: int, needed: np.ndarray) -> tuple[int, np.ndarray]:
    """The blocks the random streams of ``levels`` read, in ``needed[:count]``, and each random stream's offset
    (see :func:`draw_words`); returns ``count`` and the offsets."""
    n = levels.size
    offsets = np.empty(n, dtype=np.int64)
    count, last, i = 0, -1, 0
    while i < n:  # one pass per run of consecutive random streams: their words are consecutive
        if not random(levels[i]):
            i += 1
            continue
        start = i
        while i < n and random(levels[i]):
            i += 1
        first, end = (start * bit_length) >> 2, (i * bit_length - 1) >> 2
        offset = 4 * ((count - 1 if first == last else count) - first)  # a block shared with the run before
        for v in range(start, i):
            offsets[v] = offset
        for b in range(max(first, last + 1), end + 1):
            needed[count] = b
            count += 1
        last = end
    return count, offsets


@njit()
def stream_counts(values: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                  c2: np.uint64, site: np.uint64, out: np.ndarray) -> None:
    """[SPEC 1.1-1.3] out[i] = popcount of the stream of values[i] (value i takes words i*BL .. i*BL+BL-1)."""
    levels = thresholds(values)
    words, offsets = draw_words(levels, bit_length, k0, k1, step, c2, site)
    for i in range(values.size):
        level = levels[i]
        if not random(level):
            out[i] = 0 if level == 0 else bit_length
            continue
        count = 0
        for n in range(0, bit_length, LANES):  # stream_bits' chunks, counted as they come: no 64-bit words needed
            count += popcount64(words_below(words, i * bit_length + offsets[i] + n, level)  # type: ignore[call-arg]
                                & low_bits(min(LANES, bit_length - n)))
        out[i] = count


@njit()
def stream_packed(values: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                  c2: np.uint64, site: np.uint64, packed: np.ndarray) -> np.ndarray:
    """[SPEC 1.2, 1.3] Streams packed little-endian into ``packed[i, w]`` (bit n of stream i is bit n % 64 of
    word n // 64; ``packed`` has exactly ceil(BL / 64) columns, or ValueError); returns the indices of the streams
    with at least one pulse, in increasing order. The list is written without a branch on the stream (whether a
    weak stream pulses is a coin toss the branch predictor loses)."""
    if packed.shape[1] != (bit_length + 63) >> 6:
        raise ValueError("stream_packed: packed needs ceil(bit_length / 64) columns")
    levels = thresholds(values)
    words, offsets = draw_words(levels, bit_length, k0, k1, step, c2, site)
    live = np.empty(values.size, dtype=np.int64)
    n_live = 0
    if packed.shape[1] == 1:  # BL <= 64, the common case: one word per stream (the general loop below, for this
        # case, took 25-50 % longer)
        for i in range(values.size):
            word = stream_word(words, i * bit_length + offsets[i], levels[i], bit_length)
            packed[i, 0] = word
            live[n_live] = i
            n_live += word != 0
        return live[:n_live]
    for i in range(values.size):
        pulsing = np.uint64(0)
        for w in range(packed.shape[1]):
            word = stream_word(words, i * bit_length + offsets[i] + 64 * w, levels[i], min(64, bit_length - 64 * w))
            packed[i, w] = word
            pulsing |= word
        live[n_live] = i
        n_live += pulsing != 0
    return live[:n_live]


@njit(inline="always")
def gather_rows(packed: np.ndarray, live: np.ndarray) -> np.ndarray:
    """packed[live[s], :] for every s, contiguous: the inner loop of the coincidence count then reads memory in
    order (and vectorises) instead of jumping between live rows."""
    out = np.empty((live.size, packed.shape[1]), dtype=np.uint64)
    for s in range(live.size):
        for w in range(packed.shape[1]):
            out[s, w] = packed[live[s], w]
    return out
