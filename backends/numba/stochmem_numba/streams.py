# mypy: disable-error-code="assignment"
# (numba kernels mix Python ints with NumPy scalars on purpose: the compiled types are what matter)
"""Pulse streams of a whole vector at once ([SPEC 1.1-1.4, 2.2]): the Philox words drawn in bulk, then compared.

Value i of a vector takes words i*BL .. i*BL + BL - 1 of its draw, so the words of consecutive values are
consecutive Philox blocks. Drawing them one value at a time (a block, a lane switch, a comparison, a branch) cost
about 29 ns per block; here the blocks of all the values that need random words are drawn by one branch-free
loop over their blocks (:func:`stochmem_numba.philox.philox_at`), which LLVM vectorises (2-4 ns per block), and
the comparisons follow in a loop of their own. Values whose threshold is 0 or 2**32 draw nothing ([SPEC 1.2]:
their streams are constant), so a sparse input (most MNIST pixels are 0) costs only its nonzero values.
"""

from __future__ import annotations

import numpy as np

from stochmem_numba.jit import njit
from stochmem_numba.philox import philox

TWO_POW_32 = 4294967296.0
FULL = np.uint64(1 << 32)
ONE = np.uint64(1)
ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


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


@njit()
def draw_words(levels: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64, c2: np.uint64,
               site: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """[SPEC 2.2] The words that the random streams read (those with a level strictly between 0 and 2**32), and
    where: word k of the draw, k in i*BL .. i*BL + BL - 1, is ``words[k + offsets[i]]`` for every random stream i
    (other streams' offsets are undefined).

    The blocks needed are listed first, then drawn in one loop that stores them one after another (a digit's runs
    of nonzero pixels are short: a loop per run spent most of its time in the scalar remainder after the vector
    iterations, and storing each block at its own place in a full-length array cost twice as long as this).
    """
    n = levels.size
    needed = np.empty(((n * bit_length + 3) >> 2) + 1, dtype=np.int64)
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
    words = np.empty(4 * count, dtype=np.uint32)
    for t in range(count):
        r = philox(np.uint64(needed[t]), step, c2, site, k0, k1)
        words[4 * t], words[4 * t + 1] = np.uint32(r[0]), np.uint32(r[1])
        words[4 * t + 2], words[4 * t + 3] = np.uint32(r[2]), np.uint32(r[3])
    return words, offsets


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
        base = i * bit_length + offsets[i]
        for n in range(bit_length):
            count += np.uint64(words[base + n]) < level
        out[i] = count


@njit()
def stream_packed(values: np.ndarray, bit_length: int, k0: np.uint64, k1: np.uint64, step: np.uint64,
                  c2: np.uint64, site: np.uint64, packed: np.ndarray) -> np.ndarray:
    """[SPEC 1.2, 1.3] Streams packed little-endian into ``packed[i, w]`` (bit n of stream i is bit n % 64 of
    word n // 64); returns the indices of the streams with at least one pulse, in increasing order."""
    levels = thresholds(values)
    words, offsets = draw_words(levels, bit_length, k0, k1, step, c2, site)
    live = np.empty(values.size, dtype=np.int64)
    n_live = 0
    for i in range(values.size):
        level = levels[i]
        base = i * bit_length + offsets[i]
        if packed.shape[1] == 1:  # BL <= 64, the common case: one word per stream
            word = np.uint64(0)
            if level == FULL:
                word = ALL_ONES >> np.uint64(64 - bit_length)
            elif level != 0:
                for n in range(bit_length):
                    if np.uint64(words[base + n]) < level:
                        word |= ONE << np.uint64(n)
            packed[i, 0] = word
            pulsing = word != 0
        else:
            pulsing = False
            for w in range(packed.shape[1]):
                packed[i, w] = np.uint64(0)
            for n in range(bit_length):
                if level == FULL or (level != 0 and np.uint64(words[base + n]) < level):
                    packed[i, n >> 6] |= ONE << np.uint64(n & 63)
                    pulsing = True
        if pulsing:
            live[n_live] = i
            n_live += 1
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
