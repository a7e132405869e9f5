/* protocol.h: the process protocol [SPEC 7] on stdin/stdout, and reading its typed fields. */
#ifndef STOCHMEM_PROTOCOL_H
#define STOCHMEM_PROTOCOL_H

#include <stdio.h>

#include "json.h"
#include "stochmem.h"

#define IMPLEMENTATION_NAME "stochmem-c"
#define IMPLEMENTATION_VERSION "0.1.0"
#define PROTOCOL_VERSION 1

/* Answer requests from `in` on `out` until `bye` or the end of `in`; returns the exit status. */
int serve(FILE *in, FILE *out);

/* Field readers shared with the vector checks: 0 on success, else -1 with a message in `error`. */
int read_draw(const Json *value, Draw *draw, char *error, size_t size);
int read_device(const Json *value, DeviceParams *params, char *error, size_t size);
int read_doubles(const Json *value, double **out, size_t *count, char *error, size_t size, const char *field);
int read_hex_stream(const char *hex, uint32_t bit_length, uint64_t *words);
int read_hex_word(const Json *value, uint32_t *word); /* 8 lower-case hex digits */

#endif
