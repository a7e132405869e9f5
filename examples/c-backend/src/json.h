/* json.h: a small JSON reader (a tree of values) and the few writers the protocol needs. Plumbing, not
 * specification: a testbench in another language uses its own. */
#ifndef STOCHMEM_JSON_H
#define STOCHMEM_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonType;

typedef struct Json {
    JsonType type;
    char *text;          /* a string's characters, or a number's token as written (parsed on demand) */
    size_t count;        /* items of an array or members of an object */
    struct Json *items;  /* the items, or the members' values */
    char **keys;         /* an object's member names */
} Json;

/* Parse `text`; returns NULL (and a reason in `error`) on malformed JSON. Free with json_free. */
Json *json_parse(const char *text, char *error, size_t error_size);
void json_free(Json *value);
const Json *json_get(const Json *object, const char *key); /* NULL when absent or not an object */

/* Typed reads: return 0 and set *out, or -1 when the value has another type or range. */
int json_double(const Json *value, double *out);
int json_u64(const Json *value, uint64_t *out);  /* a whole number in [0, 2^64) written without . or e */

/* A growing text buffer: a reply is built in one and written whole, so a request refused half-way leaves no
 * partial line on stdout. `failed` is set when memory ran out. */
typedef struct {
    char *data;
    size_t length, capacity;
    int failed;
} Buffer;

void buffer_printf(Buffer *buffer, const char *format, ...);
void buffer_puts(Buffer *buffer, const char *text);
void buffer_putc(Buffer *buffer, char c);
void buffer_free(Buffer *buffer);

void json_write_string(Buffer *out, const char *text);
void json_write_double(Buffer *out, double value); /* 17 significant digits: parses back to the same double */

#endif
