/* [SPEC 4.1-4.6] The memristive synapse: a pair of unidirectional devices, in level coordinates. */
#include <math.h>

#include "stochmem.h"

static double top_level(const DeviceParams *params)
{
    return (double)(params->levels - 1);
}

/* [SPEC 4.4] Clip a level coordinate to [0, L - 1]. */
static double clip_level(double g, const DeviceParams *params)
{
    if (g < 0.0)
        g = 0.0;
    return g > top_level(params) ? top_level(params) : g;
}

/* [SPEC 4.1] The normative order: Gmin = 1/on_off, B = (1 - Gmin)/(L - 1), dw_min = (w_max B)/1. */
double device_dw_min(const DeviceParams *params)
{
    double g_min = 1.0 / params->on_off;
    double spacing = (1.0 - g_min) / (double)(params->levels - 1);
    return (params->w_max * spacing) / 1.0;
}

/* [SPEC 4.3] The increment of one event: n + sigma eps (event mode) or the sum over pulses k of
 * 1 + sigma eps_k (pulse mode, eps_k = normal m*BL + k), floored at 0. */
static double program_increment(long pulses, const DeviceParams *params, const Draw *noise, uint64_t m,
                                uint32_t bit_length)
{
    double increment = 0.0;
    long k;
    if (pulses <= 0)
        return 0.0;
    if (params->sigma == 0.0)
        return (double)pulses;
    if (!params->pulse_mode) {
        increment = (double)pulses + params->sigma * draw_normal(noise, m);
    } else {
        for (k = 0; k < pulses; k++)
            increment += 1.0 + params->sigma * draw_normal(noise, m * bit_length + (uint64_t)k);
    }
    return increment > 0.0 ? increment : 0.0;
}

double device_program(double g, long pulses, const DeviceParams *params, const Draw *noise, uint64_t m,
                      uint32_t bit_length)
{
    return clip_level(g + program_increment(pulses, params, noise, m, bit_length), params);
}

/* Program a device from Gmin to `levels_to_add` levels with one event's noise of `sigma` levels, clipped. */
static double program_target(double levels_to_add, double sigma, const DeviceParams *params, const Draw *noise,
                             uint64_t m)
{
    if (sigma != 0.0)
        levels_to_add = levels_to_add + sigma * draw_normal(noise, m);
    return clip_level(levels_to_add, params);
}

/* [SPEC 4.5] Pairs below the threshold are spared; the write is noisy (sigma) or verified (exact). */
void device_reset(double g_plus, double g_minus, const DeviceParams *params, const Draw *noise, uint64_t m,
                  double *g_plus_after, double *g_minus_after)
{
    double difference = g_plus - g_minus;
    double sigma = params->reset_verified ? 0.0 : params->sigma;
    *g_plus_after = 0.0;
    *g_minus_after = 0.0;
    double larger = g_plus > g_minus ? g_plus : g_minus;
    if (params->reset_threshold > 0.0 && larger < params->reset_threshold * top_level(params)) {
        *g_plus_after = g_plus;
        *g_minus_after = g_minus;
    } else if (difference > 0.0) {
        *g_plus_after = program_target(difference, sigma, params, noise, m);
    } else if (difference < 0.0) {
        *g_minus_after = program_target(-difference, sigma, params, noise, m);
    }
}

/* [SPEC 4.6] k = min(floor(|w|/dw_min + 1/2), L - 1) levels onto G+ (w > 0) or G- (w < 0); k = 0: nothing. */
void device_initial_pair(double w, const DeviceParams *params, const Draw *noise, uint64_t m,
                         double *g_plus, double *g_minus)
{
    double k = floor(fabs(w) / device_dw_min(params) + 0.5), g;
    if (k > top_level(params))
        k = top_level(params);
    *g_plus = 0.0;
    *g_minus = 0.0;
    if (k == 0.0)
        return;
    g = program_target(k, params->sigma, params, noise, m);
    if (w > 0.0)
        *g_plus = g;
    else
        *g_minus = g;
}
