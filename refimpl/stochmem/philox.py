"""Philox4x32-10, the counter-based generator every stochmem draw comes from.

[SPEC 2.1] Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC'11).
The same function as Random123's ``philox4x32_10``, cuRAND's Philox and JAX's ``threefry`` sibling:
a bijection of a 128-bit counter under a 64-bit key. There is no state: the output is a pure function of
its inputs, which is what lets every backend reproduce every bit (see :mod:`stochmem.rng`).
"""

from __future__ import annotations

MASK32 = 0xFFFFFFFF

#: [SPEC 2.1] Round multipliers and Weyl key increments (Salmon et al. 2011, Table 2).
PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
PHILOX_ROUNDS = 10

Block = tuple[int, int, int, int]


def philox4x32(counter: Block, key: tuple[int, int], rounds: int = PHILOX_ROUNDS) -> Block:
    """Return the four 32-bit output words of Philox4x32 for ``counter`` under ``key``. [SPEC 2.1]

    Each round multiplies words 0 and 2 by the two constants into 64-bit products, swaps halves and mixes in
    the key; the key is bumped by the Weyl constants between rounds. All arithmetic is on unsigned 32-bit
    integers; Python ints are masked explicitly so the code reads the same as the C original.
    """
    c0, c1, c2, c3 = (int(word) & MASK32 for word in counter)  # int(): accept NumPy integers too
    k0, k1 = int(key[0]) & MASK32, int(key[1]) & MASK32
    for round_index in range(rounds):
        if round_index:
            k0 = (k0 + PHILOX_W0) & MASK32
            k1 = (k1 + PHILOX_W1) & MASK32
        product0 = PHILOX_M0 * c0
        product1 = PHILOX_M1 * c2
        c0, c1, c2, c3 = (
            ((product1 >> 32) ^ c1 ^ k0) & MASK32,
            product1 & MASK32,
            ((product0 >> 32) ^ c3 ^ k1) & MASK32,
            product0 & MASK32,
        )
    return c0, c1, c2, c3
