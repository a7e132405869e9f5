/* stochmem.h: the clauses of the stochmem specification this example implements, in C99.
 *
 * randomness [SPEC 2.1-2.6]: Philox4x32-10, the counter layout of a draw, normals, permutations;
 * streams    [SPEC 1.2-1.4]: the bit rule, vectors of streams, AND/popcount coincidence counts;
 * device     [SPEC 4.1-4.6]: programming events, bounds, resets and initial programming of a device pair.
 *
 * Everything is a pure function of its arguments: no global random state, as the specification requires.
 */
#ifndef STOCHMEM_H
#define STOCHMEM_H

#include <stddef.h>
#include <stdint.h>

/* [SPEC 2.1] Philox4x32-10 of a counter (4 words) and a key (2 words). */
void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* [SPEC 2.2] The address of a draw: everything but the word index. */
typedef struct {
    uint64_t seed;   /* the key: (seed mod 2^32, seed div 2^32) */
    uint32_t site;   /* [SPEC 2.3] 1..11 */
    uint32_t step;
    uint32_t layer;  /* < 256 */
    uint32_t aux;    /* < 2^24 */
} Draw;

void draw_block(const Draw *draw, uint32_t block_index, uint32_t out[4]);
uint32_t draw_word(const Draw *draw, uint64_t index);
double draw_normal(const Draw *draw, uint64_t index);             /* [SPEC 2.5] Box-Muller */
void draw_permutation(const Draw *draw, size_t size, size_t *order); /* [SPEC 2.6] Fisher-Yates */

/* [SPEC 1.2] The 33-bit threshold floor(p 2^32), p clipped to [0, 1]; a bit fires iff word < threshold. */
uint64_t stream_threshold(double p);
/* [SPEC 1.3] Stream of value `value_index` of a vector encoded at `draw`: bit n is word value_index*BL + n.
 * Bits are packed into 64-bit words, bit n at bit (n mod 64) of words[n div 64]. */
void encode_stream(double p, uint32_t bit_length, const Draw *draw, uint64_t value_index, uint64_t *words);
/* [SPEC 1.4] popcount(A AND B) of two packed streams of `bit_length` bits. */
uint32_t and_popcount(const uint64_t *a, const uint64_t *b, uint32_t bit_length);

/* [SPEC 4.1] Device parameters. */
typedef struct {
    int levels;       /* L >= 2 */
    double on_off;    /* > 1 */
    double sigma;     /* sigma / B >= 0 */
    int pulse_mode;   /* 0: one noise per event (default), 1: one per pulse */
    double w_max;     /* > 0 */
    int reset_verified;     /* [SPEC 4.5] 0: the reset writes with noise sigma (default), 1: exactly */
    double reset_threshold; /* [SPEC 4.5] reset only pairs with max(g+, g-) >= threshold (L - 1); default 0 */
} DeviceParams;

double device_dw_min(const DeviceParams *params);
/* [SPEC 4.3, 4.4] The level coordinate after an event of `pulses` coincidences at synapse m. */
double device_program(double g, long pulses, const DeviceParams *params, const Draw *noise, uint64_t m,
                      uint32_t bit_length);
/* [SPEC 4.5] Reset a pair: both to Gmin, the difference re-programmed onto one device. */
void device_reset(double g_plus, double g_minus, const DeviceParams *params, const Draw *noise, uint64_t m,
                  double *g_plus_after, double *g_minus_after);
/* [SPEC 4.6] Program a fresh pair to weight w, rounded to whole levels. */
void device_initial_pair(double w, const DeviceParams *params, const Draw *noise, uint64_t m,
                         double *g_plus, double *g_minus);

#endif
