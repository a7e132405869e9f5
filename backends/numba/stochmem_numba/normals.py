# mypy: disable-error-code="no-untyped-def,attr-defined,call-arg,var-annotated,assignment"
# (numba's intrinsic decorator and types are untyped for mypy; the compiled signatures are what matter)
"""Box--Muller normals [SPEC 2.5] without library calls.

The reference computes ``sqrt(-2 ln u1) * (cos, sin)(2 pi u2)`` with the C library's ``log``, ``cos`` and
``sin``. Those three calls were the larger part of a memristive training step (a reset draws a normal for every
synapse). Here the same formula is evaluated with +, *, /, sqrt, floor and bit casts alone, which costs about half
as much (``benchmarks/machine_limit.py`` times a normal) and has no call or data-dependent branch in it:

- ``ln x`` for x = (w + 1) / 2**32: split x = 2**k m with m in [sqrt(1/2), sqrt(2)) (exponent read from the bits),
  then ln m = 2 s + s R(s**2), s = (m - 1) / (m + 1), |s| <= 0.172, where R is fdlibm's minimax polynomial of
  degree 7 in s**2 (error < 2**-58.45, against 12 terms of the plain atanh series); k ln 2 with ln 2 in two parts
  (fdlibm's split), so the sum is accurate to a few ulp.
- ``cos``/``sin`` of the same angle a = 2 pi u2 as the reference: q = round(a / (pi/2)) and the remainder
  r = a - q pi/2 with pi/2 in two parts (Cody--Waite; q <= 4), fdlibm's minimax kernels on |r| <= pi/4 (degree 13
  for sin, 14 for cos, error < 2**-58, against Taylor series to r**17 and r**18), then the quadrant's sign and
  swap by selection.
- Multiply-adds may be fused (``fastmath={"contract"}``: one FMA instruction, one rounding instead of two), which
  halves the instructions of the polynomials and moves no result outside the bounds below.

Both agree with the C library to a few units in the last place; [SPEC 2.5] states that freedom and its bounds
(4 ulp for ln, 2**-52 absolute for cos and sin), and ``tests/test_numba_normals.py`` checks them.

The kernels draw normals in batches (:func:`normals_of_blocks`): the Philox blocks of the pairs first, then the
radii and the angles each in a loop of their own, which LLVM vectorises (at 512 bits on AVX-512 CPUs: see
:mod:`stochmem_numba.jit`).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from stochmem_numba.jit import njit
from stochmem_numba.philox import INV_2_32, TWO_PI, philox

LN2_HI = 6.93147180369123816490e-01  # fdlibm: ln 2 with its low 32 bits zero, so k * LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10
HALF_PI_HI = 1.57079632673412561417e00  # fdlibm: pi/2 to 33 bits, so q * HALF_PI_HI is exact for q <= 4
HALF_PI_LO = 6.07710050650619224932e-11  # pi/2 - HALF_PI_HI
TWO_OVER_PI = 2.0 / math.pi
SQRT_2 = math.sqrt(2.0)
# fdlibm's minimax coefficients (e_log.c: Lg1..Lg7; k_sin.c: S1..S6; k_cos.c: C1..C6)
LOG_TERMS = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
             2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
             1.479819860511658591e-01)  # R(z) / z, z = s**2: ln m = 2 s + s R(z)
SIN_TERMS = (-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
             2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10)
COS_TERMS = (4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
             -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11)
FUSED = {"contract"}  # fastmath flags of the functions that evaluate the transform (see the module's docstring)
MANTISSA = np.int64(0x000FFFFFFFFFFFFF)
EXPONENT_ONE = np.int64(0x3FF0000000000000)
TWO_52_BITS = np.int64(0x4330000000000000)  # the bits of 2**52: OR-ing an integer < 2**52 into them adds it
TWO_52 = 4503599627370496.0


@intrinsic
def float_bits(typingctx, value):
    """The IEEE-754 bits of a float64, as an int64 (a bit cast, no conversion)."""
    if not isinstance(value, types.Float) or value.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def bits_float(typingctx, value):
    """The float64 whose IEEE-754 bits are ``value`` (the inverse of :func:`float_bits`)."""
    if not isinstance(value, types.Integer) or value.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(inline="always")
def polynomial(terms: tuple[float, ...], z: float) -> float:
    """terms[0] + terms[1] z + terms[2] z**2 + ... (Horner)."""
    total = terms[-1]
    for k in range(len(terms) - 2, -1, -1):
        total = total * z + terms[k]
    return total


@njit(inline="always")
def small_float(value: np.int64) -> float:
    """float(value) for 0 <= value < 2**52, exactly, by bit arithmetic (AVX2 has no vector int64 -> float64)."""
    return bits_float(value | TWO_52_BITS) - TWO_52


@njit(inline="always")
def log_of_word(word: np.uint64) -> float:
    """ln((word + 1) / 2**32) for a 32-bit word: [SPEC 2.5]'s ln u1, without a library call."""
    x = (small_float(np.int64(word)) + 1.0) * INV_2_32
    bits = float_bits(x)
    k = small_float(bits >> np.int64(52)) - 1023.0
    m = bits_float((bits & MANTISSA) | EXPONENT_ONE)  # x = 2**k m, m in [1, 2)
    above = m > SQRT_2
    m = m * 0.5 if above else m
    k = k + 1.0 if above else k
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    log_m = 2.0 * s + s * (z * polynomial(LOG_TERMS, z))
    return k * LN2_HI + (k * LN2_LO + log_m)


@njit(inline="always")
def cos_sin_of_turn(word: np.uint64) -> tuple[float, float]:
    """(cos a, sin a) for a = 2 pi word / 2**32, the angle of [SPEC 2.5], without a library call."""
    a = TWO_PI * (small_float(np.int64(word)) * INV_2_32)
    q = math.floor(a * TWO_OVER_PI + 0.5)  # 0 .. 4; quadrant 4 is quadrant 0
    r = (a - q * HALF_PI_HI) - q * HALF_PI_LO
    z = r * r
    sin_r = r + r * z * polynomial(SIN_TERMS, z)
    cos_r = 1.0 + z * (-0.5 + z * polynomial(COS_TERMS, z))  # Horner: 1 - z/2 rounded alone cost an ulp
    odd = q == 1.0 or q == 3.0  # sine and cosine swap places
    negate_cos = q == 1.0 or q == 2.0
    negate_sin = q == 2.0 or q == 3.0
    cos_a = sin_r if odd else cos_r
    sin_a = cos_r if odd else sin_r
    return -cos_a if negate_cos else cos_a, -sin_a if negate_sin else sin_a


@njit(inline="always")
def normal_pair(block: np.uint64, step: np.uint64, c2: np.uint64, site: np.uint64, k0: np.uint64,
                k1: np.uint64) -> tuple[float, float]:
    """[SPEC 2.5] Normals 2 block and 2 block + 1 of the draw: the cosine and the sine of one Box--Muller pair."""
    b = philox(block, step, c2, site, k0, k1)
    radius = math.sqrt(-2.0 * log_of_word(b[0]))
    cos_a, sin_a = cos_sin_of_turn(b[1])
    return radius * cos_a, radius * sin_a


@njit(fastmath=FUSED)
def normal(k0: np.uint64, k1: np.uint64, step: np.uint64, c2: np.uint64, site: np.uint64, index: np.int64) -> float:
    """[SPEC 2.5] Normal ``index`` of the draw."""
    cos_n, sin_n = normal_pair(np.uint64(index >> 1), step, c2, site, k0, k1)
    return sin_n if index & 1 else cos_n


@njit(error_model="numpy", fastmath=FUSED)
def normals_of_blocks(u0: np.ndarray, u1: np.ndarray, out: np.ndarray) -> None:
    """[SPEC 2.5] out[2 b], out[2 b + 1] = the cosine and sine normals of the Box--Muller pair whose Philox block
    began with words u0[b], u1[b]. Two branch-free loops that LLVM vectorises (the radius apart: one loop doing
    both measured slower); NumPy's error model, so the logarithm's division carries no zero check."""
    radius = np.empty(u0.size)
    for b in range(u0.size):
        radius[b] = math.sqrt(-2.0 * log_of_word(u0[b]))
    for b in range(u0.size):
        cos_a, sin_a = cos_sin_of_turn(u1[b])
        out[2 * b], out[2 * b + 1] = radius[b] * cos_a, radius[b] * sin_a


@njit(inline="always")
def normal_buffers(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scratch space for :func:`fill_normals` of up to ``count`` normals: the Philox words u0, u1 of their pairs'
    blocks and the pairs' normals (one more block than ``count / 2``: a run that starts at a sine spans one more)."""
    blocks = count // 2 + 2
    return np.empty(blocks, dtype=np.uint64), np.empty(blocks, dtype=np.uint64), np.empty(2 * blocks)


@njit()
def fill_normals(first: np.int64, step: np.uint64, c2: np.uint64, site: np.uint64, k0: np.uint64, k1: np.uint64,
                 out: np.ndarray, u0: np.ndarray, u1: np.ndarray, pairs: np.ndarray) -> None:
    """[SPEC 2.5] out[n] = normal first + n of the draw, for n < out.size; ``u0``, ``u1``, ``pairs`` are scratch
    from :func:`normal_buffers` (of at least ``out.size``), reused across calls so that a caller filling many rows
    allocates once.

    The Philox blocks of the pairs first (one vectorised loop), then the pairs' normals
    (:func:`normals_of_blocks`), then the copy that drops a leading sine or a trailing cosine.
    """
    first_block = first >> 1
    blocks = ((first + out.size + 1) >> 1) - first_block
    for b in range(blocks):
        r = philox(np.uint64(first_block + b), step, c2, site, k0, k1)
        u0[b], u1[b] = r[0], r[1]
    normals_of_blocks(u0[:blocks], u1[:blocks], pairs[: 2 * blocks])
    skip = first & 1
    for n in range(out.size):
        out[n] = pairs[n + skip]
