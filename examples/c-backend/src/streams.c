/* [SPEC 1.2-1.4] Bernoulli streams and their AND/popcount product. */
#include <math.h>
#include <string.h>

#include "stochmem.h"

/* [SPEC 1.2] Clip p to [0, 1], then floor(p 2^32) in binary64 (exact: a power-of-two scaling). */
uint64_t stream_threshold(double p)
{
    if (p < 0.0)
        p = 0.0;
    if (p > 1.0)
        p = 1.0;
    return (uint64_t)floor(p * 4294967296.0); /* 2^32 for p = 1: every word fires */
}

/* [SPEC 1.3] Bit n of value i is 1 iff word i*BL + n of the draw is below the threshold. */
void encode_stream(double p, uint32_t bit_length, const Draw *draw, uint64_t value_index, uint64_t *words)
{
    uint64_t threshold = stream_threshold(p), first = value_index * bit_length;
    uint32_t n;
    memset(words, 0, ((bit_length + 63) / 64) * sizeof *words);
    for (n = 0; n < bit_length; n++)
        if ((uint64_t)draw_word(draw, first + n) < threshold)
            words[n / 64] |= (uint64_t)1 << (n % 64);
}

static uint32_t popcount64(uint64_t x)
{
    uint32_t count = 0;
    while (x) {
        x &= x - 1; /* clears the lowest set bit */
        count++;
    }
    return count;
}

/* [SPEC 1.4] The coincidences of two streams: popcount(A AND B). */
uint32_t and_popcount(const uint64_t *a, const uint64_t *b, uint32_t bit_length)
{
    uint32_t k, count = 0;
    for (k = 0; k < (bit_length + 63) / 64; k++)
        count += popcount64(a[k] & b[k]);
    return count;
}
