"""Vectorized Philox4x32-10 [SPEC 2.1] and the draw helpers of [SPEC 2.2-2.5] on NumPy arrays.

Bit-identical to :mod:`stochmem.philox` and :mod:`stochmem.rng`: the same counters give the same words.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from stochmem.philox import PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1
from stochmem.rng import Draw

U32 = NDArray[np.uint32]
MASK32 = np.uint64(0xFFFFFFFF)
SHIFT32 = np.uint64(32)
M0, M1 = np.uint64(PHILOX_M0), np.uint64(PHILOX_M1)
TWO_PI = 2.0 * np.pi
INV_2_32 = 1.0 / 4294967296.0


@functools.lru_cache(maxsize=64)
def round_keys(k0: int, k1: int) -> tuple[tuple[np.uint64, np.uint64], ...]:
    """The ten round keys of key (k0, k1): bumped by the Weyl constants between rounds."""
    keys = []
    for round_index in range(PHILOX_ROUNDS):
        if round_index:
            k0, k1 = (k0 + PHILOX_W0) & 0xFFFFFFFF, (k1 + PHILOX_W1) & 0xFFFFFFFF
        keys.append((np.uint64(k0), np.uint64(k1)))
    return tuple(keys)


def philox_blocks(c0: NDArray[np.uint64], c1: int, c2: int | NDArray[np.uint64], c3: int | NDArray[np.uint64],
                  k0: int, k1: int) -> U32:
    """Philox4x32-10 of the counters (c0[b], c1, c2, c3) under key (k0, k1): an array of shape (len(c0), 4).

    ``c2`` and ``c3`` may be arrays of the same length as ``c0`` (several draws in one call).
    Words 1..3 of the counter are the same for every block, so they start as scalars and become arrays as the
    rounds mix them in (NumPy broadcasts); this saves work on the many small draws of one training step.
    """
    x0: NDArray[np.uint64] | np.uint64 = c0.astype(np.uint64) & MASK32
    x1: NDArray[np.uint64] | np.uint64 = np.uint64(c1 & 0xFFFFFFFF)
    x2: NDArray[np.uint64] | np.uint64 = np.asarray(c2, dtype=np.uint64) & MASK32
    x3: NDArray[np.uint64] | np.uint64 = np.asarray(c3, dtype=np.uint64) & MASK32
    for key0, key1 in round_keys(k0 & 0xFFFFFFFF, k1 & 0xFFFFFFFF):
        product0 = M0 * x0
        product1 = M1 * x2
        x0, x1, x2, x3 = (
            (product1 >> SHIFT32) ^ x1 ^ key0,
            product1 & MASK32,
            (product0 >> SHIFT32) ^ x3 ^ key1,
            product0 & MASK32,
        )
    out = np.empty((len(c0), 4), dtype=np.uint32)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = x0, x1, x2, x3
    return out


CHUNK_BLOCKS = 16384  # a chunk's working set stays in cache: about 25 % faster on 100k blocks, measured


def draw_blocks(draw: Draw, block_indices: NDArray[np.uint64]) -> U32:
    """Blocks ``block_indices`` of ``draw`` ([SPEC 2.2]), shape (n, 4)."""
    k0, k1 = draw.key
    c2, c3 = draw.layer | (draw.aux << 8), int(draw.site)
    if block_indices.size <= CHUNK_BLOCKS:
        return philox_blocks(block_indices, draw.step, c2, c3, k0, k1)
    return np.concatenate([philox_blocks(block_indices[i : i + CHUNK_BLOCKS], draw.step, c2, c3, k0, k1)
                           for i in range(0, block_indices.size, CHUNK_BLOCKS)])


def draw_words(draw: Draw, count: int) -> U32:
    """Words 0 .. count-1 of ``draw``."""
    blocks = draw_blocks(draw, np.arange((count + 3) // 4, dtype=np.uint64))
    return blocks.reshape(-1)[:count]


def draw_row_words(draw: Draw, rows: NDArray[np.int64], length: int) -> U32:
    """Words ``r*length .. r*length + length - 1`` for each row r of ``rows``: shape (len(rows), length).

    Each row's blocks are computed on their own (a block shared by two rows is computed twice), which is
    cheaper than sorting out the shared ones.
    """
    return draw_rows_batch(draw.seed, draw.step, [(draw, rows, length)])[0]


def row_block_layout(rows: NDArray[np.int64], length: int) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """For words ``r*length ..`` of each row: (first block of each row, word offset in it, blocks per row)."""
    first = rows * length
    return first // 4, first % 4, (length + 3) // 4 + 1


def draw_rows_batch(seed: int, step: int, requests: list[tuple[Draw, NDArray[np.int64], int]]) -> list[U32]:
    """Several :func:`draw_row_words` requests of one (seed, step) in a single Philox call.

    Each request is (draw, rows, length); every draw must have this seed and step (they differ in site, layer
    and aux, i.e. in counter words 2 and 3). One call instead of many pays NumPy's per-operation cost once.
    """
    block_ids, c2, c3, shapes = [], [], [], []
    for draw, rows, length in requests:
        assert draw.seed == seed and draw.step == step, "a batch shares its seed and step"
        start, offset, n_blocks = row_block_layout(rows, length)
        ids = (start[:, None] + np.arange(n_blocks)).reshape(-1)
        block_ids.append(ids)
        c2.append(np.full(ids.size, draw.layer | (draw.aux << 8), dtype=np.uint64))
        c3.append(np.full(ids.size, int(draw.site), dtype=np.uint64))
        shapes.append((rows.size, n_blocks, offset, length))
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    blocks = philox_blocks(np.concatenate(block_ids).astype(np.uint64), step, np.concatenate(c2),
                           np.concatenate(c3), k0, k1)
    out, position = [], 0
    for n_rows, n_blocks, offset, length in shapes:
        words = blocks[position : position + n_rows * n_blocks].reshape(n_rows, n_blocks * 4)
        position += n_rows * n_blocks
        out.append(np.take_along_axis(words, offset[:, None] + np.arange(length), axis=1))
    return out


def _box_muller(blocks: U32) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """[SPEC 2.5] (radius, angle) of each block."""
    u1 = (blocks[:, 0].astype(np.float64) + 1.0) * INV_2_32
    u2 = blocks[:, 1].astype(np.float64) * INV_2_32
    return np.sqrt(-2.0 * np.log(u1)), TWO_PI * u2


def draw_normals(draw: Draw, count: int) -> NDArray[np.float64]:
    """Normals 0 .. count-1 of ``draw`` ([SPEC 2.5]), from blocks 0 .. ceil(count/2) - 1."""
    radius, angle = _box_muller(draw_blocks(draw, np.arange((count + 1) // 2, dtype=np.uint64)))
    out = np.empty(2 * radius.size)
    out[0::2] = radius * np.cos(angle)
    out[1::2] = radius * np.sin(angle)
    return out[:count]


def draw_normals_at(draw: Draw, indices: NDArray[np.int64]) -> NDArray[np.float64]:
    """Box--Muller normals number ``indices`` of ``draw`` ([SPEC 2.5]); may differ from math.* by a few ulp."""
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if indices.size == 0:
        return np.zeros(0)
    radius, angle = _box_muller(draw_blocks(draw, (indices // 2).astype(np.uint64)))
    even = indices % 2 == 0
    out = np.empty(indices.size)
    out[even] = radius[even] * np.cos(angle[even])
    out[~even] = radius[~even] * np.sin(angle[~even])
    return out
