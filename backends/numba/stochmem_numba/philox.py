# mypy: disable-error-code="attr-defined,call-arg"
# (numba's intrinsic decorator and types are untyped for mypy; the compiled signatures are what matter)
"""Philox4x32-10 [SPEC 2.1] and popcount as numba scalar functions, inlined into the kernels (the normals of
[SPEC 2.5] are in :mod:`stochmem_numba.normals`).

All arithmetic is on ``np.uint64`` so numba never mixes signed and unsigned integers (which would promote to
float). Bit-identical to :mod:`stochmem.philox`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import intrinsic

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


@intrinsic
def population_count(typingctx, value):  # type: ignore[no-untyped-def]
    """LLVM's ``ctpop`` of a uint64: one POPCNT instruction (VPOPCNTQ in a vectorised loop where the CPU has it)."""
    if not isinstance(value, types.Integer) or value.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


@njit(inline="always")
def popcount64(x: np.uint64) -> np.int64:
    """Bits set in a 64-bit word."""
    return np.int64(population_count(x))
