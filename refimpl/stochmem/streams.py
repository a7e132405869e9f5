"""Numbers as Bernoulli bit streams (the paper's Section II, eq. 3).

A value ``p`` in [0, 1] travels as N bits, each 1 with probability ``p`` and independent of the others. The mean
of the bits estimates ``p``; the AND of two independent streams estimates the product, because
P(a_n AND b_n) = P(a_n) P(b_n) = ab. The count of ones of the AND is Binomial(N, ab), so the decoded product
has E(c) = ab and Var(c) = ab(1 - ab)/N. bitarray gives the exact AND and popcount.
"""

from __future__ import annotations

from bitarray import bitarray
from bitarray.util import count_and

from stochmem.rng import TWO_POW_32, Draw


def threshold(probability: float) -> int:
    """[SPEC 1.2] The integer threshold of a probability: ``floor(p * 2**32)``, with p clipped to [0, 1].

    A bit is 1 iff its 32-bit word is strictly below the threshold, so p = 0 never fires, p = 1 always fires
    (threshold 2**32 exceeds every word), and the comparison is exact in every language.
    """
    if probability != probability:  # NaN: refuse rather than silently encode 0
        raise ValueError("cannot encode NaN as a Bernoulli stream")
    clipped = min(max(probability, 0.0), 1.0)
    return int(clipped * TWO_POW_32)


def bit_from_word(word: int, probability: float) -> bool:
    """[SPEC 1.2] One Bernoulli bit: ``word < floor(p * 2**32)``."""
    return word < threshold(probability)


def encode(probability: float, words: list[int]) -> bitarray:
    """[SPEC 1.1, 1.2] The stream of ``len(words)`` bits that carries ``probability``, bit n from ``words[n]``."""
    level = threshold(probability)
    return bitarray([word < level for word in words])


def encode_many(probabilities: list[float], length: int, draw: Draw) -> list[bitarray]:
    """[SPEC 1.3] Streams of ``length`` bits for each value, value i taking words ``i*length`` .. ``i*length+length-1``.

    This is how every site lays out a vector of streams: the value index is the slow index and the bit index
    the fast one, so the words of one stream are contiguous. A value of 0 (or 1) gives all zeros (all ones)
    whatever its words, so its words are not drawn: counter-based words need not be drawn in order.
    """
    blocks: dict[int, tuple[int, int, int, int]] = {}

    def word(index: int) -> int:
        block_index = index // 4
        if block_index not in blocks:
            blocks[block_index] = draw.block(block_index)
        return blocks[block_index][index % 4]

    streams = []
    for i, probability in enumerate(probabilities):
        level = threshold(probability)
        if level == 0 or level == TWO_POW_32:
            streams.append(bitarray([level != 0]) * length)
        else:
            streams.append(bitarray([word(i * length + n) < level for n in range(length)]))
    return streams


def decode(stream: bitarray) -> float:
    """[SPEC 1.1] The value a stream estimates: its count of ones over its length."""
    if len(stream) == 0:
        raise ValueError("cannot decode an empty stream")
    return stream.count(1) / len(stream)


def and_count(a: bitarray, b: bitarray) -> int:
    """[SPEC 1.4, eq. 3, eq. 4] Popcount of ``a AND b``: the number of pulse coincidences of two streams."""
    if len(a) != len(b):
        raise ValueError(f"streams differ in length: {len(a)} and {len(b)}")
    return count_and(a, b)


def multiply(a: bitarray, b: bitarray) -> float:
    """[SPEC 1.4, eq. 3] The stochastic product ``c = (1/N) sum_n (a_n AND b_n)``, E(c) = ab, Var(c) = ab(1-ab)/N."""
    return and_count(a, b) / len(a)


def sign(value: float) -> int:
    """[SPEC 1.5] The sign that travels beside a magnitude stream: +1 for value >= 0, -1 otherwise."""
    return 1 if value >= 0.0 else -1
