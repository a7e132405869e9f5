"""Vectorized Philox4x32-10 [SPEC 2.1] and the draw helpers of [SPEC 2.2-2.5] on NumPy arrays.

Bit-identical to :mod:`stochmem.philox` and :mod:`stochmem.rng`: the same counters give the same words.
"""

from __future__ import annotations

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


def philox_blocks(c0: NDArray[np.uint64], c1: int, c2: int, c3: int, k0: int, k1: int) -> U32:
    """Philox4x32-10 of the counters (c0[b], c1, c2, c3) under key (k0, k1): an array of shape (len(c0), 4)."""
    x0 = c0.astype(np.uint64) & MASK32
    x1 = np.full_like(x0, c1 & 0xFFFFFFFF)
    x2 = np.full_like(x0, c2 & 0xFFFFFFFF)
    x3 = np.full_like(x0, c3 & 0xFFFFFFFF)
    key0, key1 = k0 & 0xFFFFFFFF, k1 & 0xFFFFFFFF
    for round_index in range(PHILOX_ROUNDS):
        if round_index:
            key0 = (key0 + PHILOX_W0) & 0xFFFFFFFF
            key1 = (key1 + PHILOX_W1) & 0xFFFFFFFF
        product0 = M0 * x0
        product1 = M1 * x2
        x0, x1, x2, x3 = (
            (product1 >> SHIFT32) ^ x1 ^ np.uint64(key0),
            product1 & MASK32,
            (product0 >> SHIFT32) ^ x3 ^ np.uint64(key1),
            product0 & MASK32,
        )
    return np.stack([x0, x1, x2, x3], axis=1).astype(np.uint32)


def draw_blocks(draw: Draw, block_indices: NDArray[np.uint64]) -> U32:
    """Blocks ``block_indices`` of ``draw`` ([SPEC 2.2]), shape (n, 4)."""
    k0, k1 = draw.key
    return philox_blocks(block_indices, draw.step, draw.layer | (draw.aux << 8), int(draw.site), k0, k1)


def draw_words(draw: Draw, count: int) -> U32:
    """Words 0 .. count-1 of ``draw``."""
    blocks = draw_blocks(draw, np.arange((count + 3) // 4, dtype=np.uint64))
    return blocks.reshape(-1)[:count]


def draw_words_at(draw: Draw, indices: NDArray[np.int64]) -> U32:
    """Words at arbitrary ``indices`` of ``draw`` (each block computed once)."""
    blocks, inverse = np.unique(indices // 4, return_inverse=True)
    values = draw_blocks(draw, blocks.astype(np.uint64))
    return values[inverse.reshape(-1), indices % 4]


def draw_normals_at(draw: Draw, indices: NDArray[np.int64]) -> NDArray[np.float64]:
    """Box--Muller normals number ``indices`` of ``draw`` ([SPEC 2.5]); may differ from math.* by a few ulp."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size == 0:
        return np.zeros(0)
    blocks, inverse = np.unique(indices // 2, return_inverse=True)
    values = draw_blocks(draw, blocks.astype(np.uint64))
    u1 = (values[:, 0].astype(np.float64) + 1.0) * INV_2_32
    u2 = values[:, 1].astype(np.float64) * INV_2_32
    radius = np.sqrt(-2.0 * np.log(u1))
    angle = TWO_PI * u2
    radius, angle = radius[inverse.reshape(-1)], angle[inverse.reshape(-1)]
    return np.where(indices % 2 == 0, radius * np.cos(angle), radius * np.sin(angle))
