"""Philox4x32-10 [SPEC 2.1] and popcount as numba scalar functions, inlined into the kernels (the normals of
[SPEC 2.5] are in :mod:`stochmem_numba.normals`).

All arithmetic is on ``np.uint64`` so numba never mixes signed and unsigned integers (which would promote to
float). Bit-identical to :mod:`stochmem.philox`.
"""

from __future__ import annotations

import math

import numpy as np

from stochmem.philox import PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1
from stochmem_numba.jit import njit

MASK = np.uint64(0xFFFFFFFF)
S32 = np.uint64(32)
M0 = np.uint64(PHILOX_M0)
M1 = np.uint64(PHILOX_M1)
W0 = np.uint64(PHILOX_W0)
W1 = np.uint64(PHILOX_W1)
INV_2_32 = 1.0 / 4294967296.0
TWO_PI = 2.0 * math.pi


@njit(inline="always")
def philox(c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64, k1: np.uint64
           ) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """[SPEC 2.1] The four output words (as uint64 holding 32-bit values)."""
    for r in range(10):
        if r > 0:
            k0 = (k0 + W0) & MASK
            k1 = (k1 + W1) & MASK
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = (p1 >> S32) ^ c1 ^ k0, p1 & MASK, (p0 >> S32) ^ c3 ^ k1, p0 & MASK
    return c0, c1, c2, c3


@njit(inline="always")
def word(k0: np.uint64, k1: np.uint64, step: np.uint64, c2: np.uint64, site: np.uint64, index: np.int64
         ) -> np.uint64:
    """[SPEC 2.2] Word ``index`` of the draw (key, step, layer | aux << 8, site)."""
    b = philox(np.uint64(index >> 2), step, c2, site, k0, k1)
    lane = index & 3
    if lane == 0:
        return b[0]
    if lane == 1:
        return b[1]
    if lane == 2:
        return b[2]
    return b[3]


@njit(inline="always")
def popcount64(x: np.uint64) -> np.int64:
    """Bits set in a 64-bit word (SWAR)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))
