"""Named random draws: every random number is a pure function of (seed, site, step, layer, aux, index).

[SPEC 2.2] The counter layout. A draw is identified by

* ``seed`` -- the run's 64-bit seed, used as the Philox key ``(seed & 0xffffffff, seed >> 32)``;
* ``site`` -- which random quantity it is (:class:`Site`);
* ``step`` -- the training step (global image counter), the epoch, or the evaluated image's index;
* ``layer`` -- the crossbar layer (0 = the one fed by the input pixels), < 256;
* ``aux`` -- a site-specific secondary index (the evaluation repeat), < 2**24;
* ``index`` -- the position of the word within the draw.

Word ``index`` of a draw is lane ``index % 4`` of the Philox block with counter
``(index // 4, step, layer | aux << 8, site)``. Nothing here keeps state, so a backend may compute any word in
any order, on any number of threads, and still get the same bits.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass

from stochmem.philox import MASK32, philox4x32

TWO_POW_32 = 1 << 32


class Site(enum.IntEnum):
    """[SPEC 2.3] The random sites. Their numbers are part of the specification; never renumber them."""

    INIT_WEIGHTS = 1  #: initial weights, uniform
    DATA_ORDER = 2  #: per-epoch permutation of the training set (step = epoch)
    FORWARD_STREAM = 3  #: activation streams of the training forward pass
    BACKWARD_STREAM = 4  #: error streams of the training backward pass
    UPDATE_ROW = 5  #: row pulse streams of the coincidence update, probability C_x * x_i
    UPDATE_COLUMN = 6  #: column pulse streams of the coincidence update, probability C_delta * abs(delta_j)
    PROGRAM_NOISE = 7  #: programming noise of update events
    RESET_NOISE = 8  #: programming noise of the periodic reset
    INIT_DEVICE_NOISE = 9  #: programming noise of the initial device states
    EVAL_STREAM = 10  #: activation streams of inference (step = image index, aux = repeat)
    INPUT_NOISE = 11  #: Gaussian corruption of test inputs (step = image index, aux = repeat)


@dataclass(frozen=True)
class Draw:
    """The address of one random draw: everything but the word index. [SPEC 2.2]"""

    seed: int
    site: Site
    step: int = 0
    layer: int = 0
    aux: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.seed < 1 << 64:
            raise ValueError(f"seed must be in [0, 2**64), got {self.seed}")
        if not 0 <= self.step <= MASK32:
            raise ValueError(f"step must be in [0, 2**32), got {self.step}")
        if not 0 <= self.layer < 256:
            raise ValueError(f"layer must be in [0, 256), got {self.layer}")
        if not 0 <= self.aux < 1 << 24:
            raise ValueError(f"aux must be in [0, 2**24), got {self.aux}")

    @property
    def key(self) -> tuple[int, int]:
        return self.seed & MASK32, self.seed >> 32

    def block(self, block_index: int) -> tuple[int, int, int, int]:
        """Philox block ``block_index`` of this draw: words ``4*block_index`` to ``4*block_index + 3``."""
        counter = (block_index, self.step, self.layer | (self.aux << 8), int(self.site))
        return philox4x32(counter, self.key)

    def word(self, index: int) -> int:
        """Word ``index`` of this draw, an integer in [0, 2**32). [SPEC 2.2]"""
        return self.block(index // 4)[index % 4]

    def words(self, start: int, count: int) -> list[int]:
        """Words ``start`` to ``start + count - 1`` of this draw, in order."""
        out: list[int] = []
        for block_index in range(start // 4, (start + count + 3) // 4):
            out.extend(self.block(block_index))
        offset = start % 4
        return out[offset : offset + count]


def uniform_from_word(word: int) -> float:
    """[SPEC 2.4] The uniform in [0, 1) carried by a word: ``word / 2**32`` (exact in binary64)."""
    return word / TWO_POW_32


def uniform_open_from_word(word: int) -> float:
    """[SPEC 2.4] The uniform in (0, 1] carried by a word: ``(word + 1) / 2**32`` (never 0, safe for log)."""
    return (word + 1) / TWO_POW_32


def normal(draw: Draw, index: int) -> float:
    """Standard normal number ``index`` of ``draw`` by the Box--Muller transform. [SPEC 2.5]

    Normals come in pairs from one Philox block: for block ``index // 2`` with words (w0, w1, w2, w3),
    ``u1 = (w0 + 1) / 2**32`` and ``u2 = w1 / 2**32`` give ``r = sqrt(-2 ln u1)``; normal ``2b`` is
    ``r cos(2 pi u2)`` and normal ``2b + 1`` is ``r sin(2 pi u2)``. Words w2 and w3 are unused.
    """
    w0, w1, _, _ = draw.block(index // 2)
    radius = math.sqrt(-2.0 * math.log(uniform_open_from_word(w0)))
    angle = 2.0 * math.pi * uniform_from_word(w1)
    return radius * (math.cos(angle) if index % 2 == 0 else math.sin(angle))


def normals(draw: Draw, count: int) -> list[float]:
    """Normals 0 .. ``count - 1`` of ``draw``. [SPEC 2.5]"""
    return [normal(draw, index) for index in range(count)]


def uniforms(draw: Draw, count: int) -> list[float]:
    """Uniforms in [0, 1) from words 0 .. ``count - 1`` of ``draw``. [SPEC 2.4]"""
    return [uniform_from_word(word) for word in draw.words(0, count)]


def bounded_integer(word: int, bound: int) -> int:
    """[SPEC 2.6] An integer in [0, bound) from a word: ``(word * bound) >> 32`` (multiply-shift, no rejection)."""
    return (word * bound) >> 32


def permutation(draw: Draw, size: int) -> list[int]:
    """[SPEC 2.6] A permutation of ``range(size)`` by the Fisher--Yates shuffle, from the high end down.

    For ``i = size - 1`` down to ``1`` the element at ``i`` is swapped with the one at
    ``j = bounded_integer(word(size - 1 - i), i + 1)``.
    """
    order = list(range(size))
    words: Iterator[int] = iter(draw.words(0, max(size - 1, 0)))
    for i in range(size - 1, 0, -1):
        j = bounded_integer(next(words), i + 1)
        order[i], order[j] = order[j], order[i]
    return order
