"""The numba backend's library-free Box--Muller agrees with the reference's C-library one within the bounds of
[SPEC 2.5]: 4 ulp for ln, 2**-52 absolute for cos and sin."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("numba")

from numba import njit  # noqa: E402

from stochmem.rng import Draw, Site, normal  # noqa: E402
from stochmem_numba import normals  # noqa: E402

INV_2_32 = 1.0 / 2**32
EDGES = [0, 1, 2, 3, 2**29, 2**30 - 1, 2**30, 2**31 - 1, 2**31, 3 * 2**30, 2**32 - 2, 2**32 - 1]
# where the polynomials run to the ends of their intervals: the angle at an odd multiple of pi/4 (the remainder
# of the quarter-turn reduction at +-pi/4), and u1 = (w + 1) / 2**32 with its mantissa at sqrt(2) (|s| largest)
QUADRANT_EDGES = [(2 * k + 1) * 2**29 + d for k in range(4) for d in range(-2**25, 2**25 + 1, 2**26 // 5_000)]
ROOT_TWO = [min(2**32 - 1, max(0, math.floor(math.sqrt(2) * 2**j) - 1 + d)) for j in range(32) for d in (-1, 0, 1)]


@njit(fastmath=normals.FUSED)  # as the kernels compile them (normals_of_blocks): fused multiply-adds allowed
def evaluate(words):
    out = np.empty((words.size, 3))
    for n in range(words.size):
        out[n, 0] = normals.log_of_word(words[n])
        out[n, 1], out[n, 2] = normals.cos_sin_of_turn(words[n])
    return out


@njit
def draw_normals(k0, k1, step, c2, site, count):
    return np.array([normals.normal(k0, k1, step, c2, site, np.int64(m)) for m in range(count)])


def test_log_cos_sin_within_a_few_ulp_of_the_c_library():
    words = np.array(EDGES + QUADRANT_EDGES + ROOT_TWO + list(range(0, 2**32, 2**32 // 200_000 + 7)), dtype=np.uint64)
    got = evaluate(words)
    for word, (log_u, cos_a, sin_a) in zip(words.tolist(), got.tolist()):
        u, angle = (word + 1.0) * INV_2_32, 2.0 * math.pi * (word * INV_2_32)
        assert abs(log_u - math.log(u)) <= 4 * math.ulp(math.log(u)) + 1e-300, f"ln at word {word}"
        assert abs(cos_a - math.cos(angle)) <= 2**-52, f"cos at word {word}"
        assert abs(sin_a - math.sin(angle)) <= 2**-52, f"sin at word {word}"


def test_normals_match_the_reference_within_the_spec_tolerance():
    got = draw_normals(np.uint64(7), np.uint64(0), np.uint64(5), np.uint64(2), np.uint64(int(Site.RESET_NOISE)), 4001)
    want = [normal(Draw(7, Site.RESET_NOISE, 5, 2), m) for m in range(4001)]
    assert max(abs(a - b) for a, b in zip(got.tolist(), want)) < 1e-14  # [SPEC 2.5, 6.1]: 1e-12 allowed
