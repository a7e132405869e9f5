/* [SPEC 2.1-2.6] Philox4x32-10 and what is drawn from it: words, normals, permutations. */
#include <math.h>

#include "stochmem.h"

#define M0 0xD2511F53u
#define M1 0xCD9E8D57u
#define W0 0x9E3779B9u
#define W1 0xBB67AE85u
/* math.pi of Python and the binary64 nearest to pi (M_PI is POSIX, not C99). */
#define PI 3.141592653589793
#define TWO_POW_32 4294967296.0

void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    int round;
    for (round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)M0 * c0, p1 = (uint64_t)M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += W0; /* the bump after the last round is never used */
        k1 += W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* [SPEC 2.2] Block b of a draw: Philox of the counter (b, step, layer + 256 aux, site) under the seed's key. */
void draw_block(const Draw *draw, uint32_t block_index, uint32_t out[4])
{
    uint32_t counter[4], key[2];
    counter[0] = block_index;
    counter[1] = draw->step;
    counter[2] = draw->layer | (draw->aux << 8);
    counter[3] = draw->site;
    key[0] = (uint32_t)(draw->seed & 0xFFFFFFFFu);
    key[1] = (uint32_t)(draw->seed >> 32);
    philox4x32_10(counter, key, out);
}

/* [SPEC 2.2] Word `index` of a draw: lane index mod 4 of block index div 4. */
uint32_t draw_word(const Draw *draw, uint64_t index)
{
    uint32_t block[4];
    draw_block(draw, (uint32_t)(index / 4), block);
    return block[index % 4];
}

/* [SPEC 2.5] Normal m: block m div 2 gives u1 = (w0 + 1)/2^32, u2 = w1/2^32; r = sqrt(-2 ln u1),
 * theta = 2 pi u2; even m is r cos theta, odd m is r sin theta. */
double draw_normal(const Draw *draw, uint64_t index)
{
    uint32_t block[4];
    double u1, u2, radius, angle;
    draw_block(draw, (uint32_t)(index / 2), block);
    u1 = ((double)block[0] + 1.0) / TWO_POW_32;
    u2 = (double)block[1] / TWO_POW_32;
    radius = sqrt(-2.0 * log(u1));
    angle = 2.0 * PI * u2;
    return radius * (index % 2 == 0 ? cos(angle) : sin(angle));
}

/* [SPEC 2.6] Fisher-Yates from the high end: swap i and floor(w (i + 1) / 2^32), w = word size-1-i. */
void draw_permutation(const Draw *draw, size_t size, size_t *order)
{
    size_t i;
    for (i = 0; i < size; i++)
        order[i] = i;
    for (i = size; i-- > 1;) {
        uint64_t w = draw_word(draw, (uint64_t)(size - 1 - i));
        size_t j = (size_t)((w * (uint64_t)(i + 1)) >> 32), kept = order[i];
        order[i] = order[j];
        order[j] = kept;
    }
}
