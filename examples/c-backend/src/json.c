/* A recursive-descent JSON reader (RFC 8259) into a tree, and writers. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

typedef struct {
    const char *at;
    char *error;
    size_t error_size;
} Parser;

static int parse_value(Parser *p, Json *out, int depth);

static int fail(Parser *p, const char *why)
{
    char near[21];
    size_t k;
    for (k = 0; k < 20 && p->at[k]; k++) /* the text where it failed, printable ASCII only */
        near[k] = p->at[k] >= 0x20 && p->at[k] < 0x7F ? p->at[k] : '?';
    near[k] = '\0';
    if (p->error && !p->error[0])
        snprintf(p->error, p->error_size, "%s at \"%s\"", why, near);
    return -1;
}

static void skip_space(Parser *p)
{
    while (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r')
        p->at++;
}

static int parse_string(Parser *p, char **out)
{
    size_t size = 16, length = 0;
    char *text = malloc(size);
    if (!text)
        return fail(p, "out of memory");
    p->at++; /* the opening quote */
    while (*p->at != '"') {
        char c = *p->at;
        if (c == '\0' || (unsigned char)c < 0x20) {
            free(text);
            return fail(p, "unterminated string");
        }
        p->at++;
        if (c == '\\') {
            char e = *p->at;
            if (e == '\0') {
                free(text);
                return fail(p, "unterminated string");
            }
            p->at++;
            switch (e) {
            case '"': case '\\': case '/': c = e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned code = 0;
                int k;
                for (k = 0; k < 4; k++) {
                    char h = *p->at;
                    if (h == '\0') {
                        free(text);
                        return fail(p, "unterminated string");
                    }
                    p->at++;
                    code = code * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                                  : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
                    if (code > 0xFFFF) {
                        free(text);
                        return fail(p, "bad \\u escape");
                    }
                }
                c = code < 0x80 ? (char)code : '?'; /* names and messages here are ASCII */
                break;
            }
            default:
                free(text);
                return fail(p, "bad escape");
            }
        }
        if (length + 1 >= size) {
            char *bigger = realloc(text, size *= 2);
            if (!bigger) {
                free(text);
                return fail(p, "out of memory");
            }
            text = bigger;
        }
        text[length++] = c;
    }
    p->at++; /* the closing quote */
    text[length] = '\0';
    *out = text;
    return 0;
}

static int parse_number(Parser *p, Json *out)
{
    const char *start = p->at;
    size_t length;
    if (*p->at == '-')
        p->at++;
    if (*p->at < '0' || *p->at > '9')
        return fail(p, "expected a value");
    while ((*p->at >= '0' && *p->at <= '9') || *p->at == '.' || *p->at == 'e' || *p->at == 'E' || *p->at == '+'
           || *p->at == '-')
        p->at++;
    length = (size_t)(p->at - start);
    out->type = JSON_NUMBER;
    out->text = malloc(length + 1);
    if (!out->text)
        return fail(p, "out of memory");
    memcpy(out->text, start, length);
    out->text[length] = '\0';
    return 0;
}

/* Arrays and objects: items separated by commas until `close`; objects read "key": before each value. */
static int parse_container(Parser *p, Json *out, char close, int depth)
{
    size_t capacity = 0;
    out->type = close == ']' ? JSON_ARRAY : JSON_OBJECT;
    p->at++;
    skip_space(p);
    if (*p->at == close) {
        p->at++;
        return 0;
    }
    for (;;) {
        if (out->count == capacity) {
            Json *items;
            char **keys;
            capacity = capacity ? capacity * 2 : 8;
            items = realloc(out->items, capacity * sizeof *items);
            if (!items)
                return fail(p, "out of memory");
            out->items = items;
            if (out->type == JSON_OBJECT) {
                keys = realloc(out->keys, capacity * sizeof *keys);
                if (!keys)
                    return fail(p, "out of memory");
                out->keys = keys;
            }
        }
        memset(&out->items[out->count], 0, sizeof *out->items);
        if (out->type == JSON_OBJECT) {
            skip_space(p);
            out->keys[out->count] = NULL;
            if (*p->at != '"' || parse_string(p, &out->keys[out->count]) != 0)
                return fail(p, "expected a member name");
            out->count++; /* from here the member is freed with the object, whatever follows */
            skip_space(p);
            if (*p->at != ':')
                return fail(p, "expected ':'");
            p->at++;
        } else {
            out->count++;
        }
        if (parse_value(p, &out->items[out->count - 1], depth + 1) != 0)
            return -1;
        skip_space(p);
        if (*p->at == ',') {
            p->at++;
            continue;
        }
        if (*p->at == close) {
            p->at++;
            return 0;
        }
        return fail(p, "expected ',' or the end of a list or object");
    }
}

static int parse_value(Parser *p, Json *out, int depth)
{
    if (depth > 64)
        return fail(p, "nested too deeply");
    skip_space(p);
    switch (*p->at) {
    case '{': return parse_container(p, out, '}', depth);
    case '[': return parse_container(p, out, ']', depth);
    case '"': out->type = JSON_STRING; return parse_string(p, &out->text);
    case 't': if (strncmp(p->at, "true", 4) == 0) { p->at += 4; out->type = JSON_TRUE; return 0; } break;
    case 'f': if (strncmp(p->at, "false", 5) == 0) { p->at += 5; out->type = JSON_FALSE; return 0; } break;
    case 'n': if (strncmp(p->at, "null", 4) == 0) { p->at += 4; out->type = JSON_NULL; return 0; } break;
    default: return parse_number(p, out);
    }
    return fail(p, "expected a value");
}

static void free_members(Json *value)
{
    size_t k;
    for (k = 0; k < value->count; k++) {
        free_members(&value->items[k]);
        if (value->keys)
            free(value->keys[k]);
    }
    free(value->items);
    free(value->keys);
    free(value->text);
}

void json_free(Json *value)
{
    if (value) {
        free_members(value);
        free(value);
    }
}

Json *json_parse(const char *text, char *error, size_t error_size)
{
    Parser p;
    Json *root = calloc(1, sizeof *root);
    p.at = text;
    p.error = error;
    p.error_size = error_size;
    if (error_size)
        error[0] = '\0';
    if (!root)
        return NULL;
    if (parse_value(&p, root, 0) == 0) {
        skip_space(&p);
        if (*p.at == '\0')
            return root;
        fail(&p, "text after the value");
    }
    json_free(root);
    return NULL;
}

const Json *json_get(const Json *object, const char *key)
{
    size_t k;
    if (!object || object->type != JSON_OBJECT)
        return NULL;
    for (k = 0; k < object->count; k++)
        if (strcmp(object->keys[k], key) == 0)
            return &object->items[k];
    return NULL;
}

int json_double(const Json *value, double *out)
{
    char *end;
    if (!value || value->type != JSON_NUMBER)
        return -1;
    *out = strtod(value->text, &end); /* correctly rounded in glibc, musl and the BSDs */
    /* An overflow is refused; an underflow (5e-324 and below) is the nearest double, as JSON intends. */
    return *end == '\0' && *out != HUGE_VAL && *out != -HUGE_VAL ? 0 : -1;
}

int json_u64(const Json *value, uint64_t *out)
{
    char *end;
    if (!value || value->type != JSON_NUMBER || value->text[0] == '-' || strpbrk(value->text, ".eE"))
        return -1;
    errno = 0;
    *out = strtoull(value->text, &end, 10);
    return *end == '\0' && errno != ERANGE ? 0 : -1;
}

static int buffer_reserve(Buffer *buffer, size_t more)
{
    char *bigger;
    size_t capacity = buffer->capacity ? buffer->capacity : 256;
    if (buffer->failed)
        return -1;
    while (capacity < buffer->length + more + 1)
        capacity *= 2;
    if (capacity == buffer->capacity)
        return 0;
    bigger = realloc(buffer->data, capacity);
    if (!bigger) {
        buffer->failed = 1;
        return -1;
    }
    buffer->data = bigger;
    buffer->capacity = capacity;
    return 0;
}

void buffer_printf(Buffer *buffer, const char *format, ...)
{
    va_list arguments;
    int length;
    va_start(arguments, format);
    length = vsnprintf(NULL, 0, format, arguments);
    va_end(arguments);
    if (length < 0 || buffer_reserve(buffer, (size_t)length) != 0)
        return;
    va_start(arguments, format);
    vsnprintf(buffer->data + buffer->length, (size_t)length + 1, format, arguments);
    va_end(arguments);
    buffer->length += (size_t)length;
}

void buffer_puts(Buffer *buffer, const char *text)
{
    size_t length = strlen(text);
    if (buffer_reserve(buffer, length) != 0)
        return;
    memcpy(buffer->data + buffer->length, text, length + 1);
    buffer->length += length;
}

void buffer_putc(Buffer *buffer, char c)
{
    if (buffer_reserve(buffer, 1) != 0)
        return;
    buffer->data[buffer->length++] = c;
    buffer->data[buffer->length] = '\0';
}

void buffer_free(Buffer *buffer)
{
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = buffer->capacity = 0;
}

void json_write_string(Buffer *out, const char *text)
{
    buffer_putc(out, '"');
    for (; *text; text++) {
        unsigned char c = (unsigned char)*text;
        if (c == '"' || c == '\\')
            buffer_printf(out, "\\%c", c);
        else if (c < 0x20 || c > 0x7E)
            buffer_printf(out, "\\u%04x", c); /* ASCII out: a byte of a broken input is escaped, not copied */
        else
            buffer_putc(out, (char)c);
    }
    buffer_putc(out, '"');
}

void json_write_double(Buffer *out, double value)
{
    buffer_printf(out, "%.17g", value);
}
