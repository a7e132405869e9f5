/* The process protocol [SPEC 7]: one JSON request per line on stdin, one JSON reply per line on stdout.
 * Logs, if any, go to stderr: stdout carries replies only. */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define ERROR_SIZE 256

typedef struct {
    Buffer *out;
    char error[ERROR_SIZE];
} Reply;

/* --- reading fields --- */

/* A bit length: 1 to 2^24 (a stream of no bits carries nothing, [SPEC 1.1]). */
static int need_bit_length(const Json *request, uint64_t *out, char *error, size_t size)
{
    uint64_t value;
    if (json_u64(json_get(request, "bitLength"), &value) != 0 || value < 1 || value > (1u << 24)) {
        snprintf(error, size, "bitLength must be a whole number in [1, 16777216]");
        return -1;
    }
    *out = value;
    return 0;
}

static int need_u64(const Json *request, const char *key, uint64_t max, uint64_t *out, char *error, size_t size)
{
    if (json_u64(json_get(request, key), out) != 0 || *out > max) {
        snprintf(error, size, "%s must be a whole number in [0, %llu]", key, (unsigned long long)max);
        return -1;
    }
    return 0;
}

int read_draw(const Json *value, Draw *draw, char *error, size_t size)
{
    uint64_t site, step, layer, aux;
    error[0] = '\0';
    if (!value || value->type != JSON_OBJECT) {
        snprintf(error, size, "a draw must be an object {seed, site, step, layer, aux}");
        return -1;
    }
    if (need_u64(value, "seed", UINT64_MAX, &draw->seed, error, size) != 0
        || need_u64(value, "site", 11, &site, error, size) != 0 || site < 1
        || need_u64(value, "step", 0xFFFFFFFFu, &step, error, size) != 0
        || need_u64(value, "layer", 255, &layer, error, size) != 0
        || need_u64(value, "aux", 0xFFFFFFu, &aux, error, size) != 0) {
        if (!error[0])
            snprintf(error, size, "site must be 1 to 11");
        return -1;
    }
    draw->site = (uint32_t)site;
    draw->step = (uint32_t)step;
    draw->layer = (uint32_t)layer;
    draw->aux = (uint32_t)aux;
    return 0;
}

int read_device(const Json *value, DeviceParams *params, char *error, size_t size)
{
    uint64_t levels;
    const Json *mode = json_get(value, "noise_mode"), *write = json_get(value, "reset_write");
    const Json *threshold = json_get(value, "reset_threshold");
    /* [SPEC 4.5] The reset's choices: absent means the defaults (a noisy write, every pair). */
    params->reset_verified = write && write->type == JSON_STRING && strcmp(write->text, "verified") == 0;
    params->reset_threshold = 0.0;
    if ((write && (write->type != JSON_STRING || (strcmp(write->text, "noisy") != 0 && !params->reset_verified)))
        || (threshold && (json_double(threshold, &params->reset_threshold) != 0 || !(params->reset_threshold >= 0.0)
                          || params->reset_threshold > 1.0))) {
        snprintf(error, size, "device: reset_write must be noisy or verified, reset_threshold in [0, 1] [SPEC 4.5]");
        return -1;
    }
    if (need_u64(value, "levels", 1u << 20, &levels, error, size) != 0 || levels < 2
        || json_double(json_get(value, "on_off"), &params->on_off) != 0 || !(params->on_off > 1.0)
        || json_double(json_get(value, "sigma"), &params->sigma) != 0 || !(params->sigma >= 0.0)
        || json_double(json_get(value, "w_max"), &params->w_max) != 0 || !(params->w_max > 0.0)
        || !mode || mode->type != JSON_STRING
        || (strcmp(mode->text, "event") != 0 && strcmp(mode->text, "pulse") != 0)) {
        snprintf(error, size, "device must hold levels >= 2, on_off > 1, sigma >= 0, w_max > 0 and noise_mode "
                              "event or pulse [SPEC 4.1]");
        return -1;
    }
    params->levels = (int)levels;
    params->pulse_mode = strcmp(mode->text, "pulse") == 0;
    return 0;
}

int read_doubles(const Json *value, double **out, size_t *count, char *error, size_t size, const char *field)
{
    size_t k;
    *out = NULL;
    if (!value || value->type != JSON_ARRAY) {
        snprintf(error, size, "%s must be a list of numbers", field);
        return -1;
    }
    *count = value->count;
    *out = malloc((value->count ? value->count : 1) * sizeof **out);
    for (k = 0; *out && k < value->count; k++) {
        if (json_double(&value->items[k], &(*out)[k]) != 0 || (*out)[k] != (*out)[k]) {
            snprintf(error, size, "%s[%lu] must be a finite number", field, (unsigned long)k);
            free(*out);
            *out = NULL;
            return -1;
        }
    }
    return *out ? 0 : -1;
}

static int read_u64s(const Json *value, uint64_t **out, size_t count, char *error, size_t size, const char *field)
{
    size_t k;
    *out = NULL;
    if (!value || value->type != JSON_ARRAY || value->count != count) {
        snprintf(error, size, "%s must be a list of %lu whole numbers", field, (unsigned long)count);
        return -1;
    }
    *out = malloc((count ? count : 1) * sizeof **out);
    for (k = 0; *out && k < count; k++) {
        if (json_u64(&value->items[k], &(*out)[k]) != 0) {
            snprintf(error, size, "%s[%lu] must be a whole number >= 0", field, (unsigned long)k);
            free(*out);
            *out = NULL;
            return -1;
        }
    }
    return *out ? 0 : -1;
}

/* [SPEC 7.3] A stream as hex: bit n is bit 3 - (n mod 4) of hex digit n div 4. */
int read_hex_stream(const char *hex, uint32_t bit_length, uint64_t *words)
{
    uint32_t n;
    memset(words, 0, ((bit_length + 63) / 64) * sizeof *words);
    if (strlen(hex) != (bit_length + 3) / 4)
        return -1;
    for (n = 0; n < bit_length; n++) {
        char h = hex[n / 4];
        int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
        if (digit < 0)
            return -1;
        if ((digit >> (3 - n % 4)) & 1)
            words[n / 64] |= (uint64_t)1 << (n % 64);
    }
    return 0;
}

static void write_hex_stream(Buffer *out, const uint64_t *words, uint32_t bit_length)
{
    uint32_t digit, n;
    buffer_putc(out, '"');
    for (digit = 0; digit < (bit_length + 3) / 4; digit++) {
        int value = 0;
        for (n = digit * 4; n < digit * 4 + 4; n++)
            value = value * 2 + (n < bit_length && ((words[n / 64] >> (n % 64)) & 1));
        buffer_putc(out, "0123456789abcdef"[value]);
    }
    buffer_putc(out, '"');
}

static void write_doubles(Buffer *out, const double *values, size_t count)
{
    size_t k;
    buffer_putc(out, '[');
    for (k = 0; k < count; k++) {
        if (k)
            buffer_putc(out, ',');
        json_write_double(out, values[k]);
    }
    buffer_putc(out, ']');
}

/* --- the operations: each validates everything, computes, then writes its result object --- */

static int op_hello(const Json *request, Reply *reply)
{
    uint64_t protocol;
    if (json_u64(json_get(request, "protocol"), &protocol) != 0 || protocol != PROTOCOL_VERSION) {
        snprintf(reply->error, ERROR_SIZE, "this implementation speaks protocol %d", PROTOCOL_VERSION);
        return -1;
    }
    buffer_printf(reply->out, "{\"protocol\":%d,\"name\":\"%s\",\"version\":\"%s\",\"exact\":true,"
                        "\"groups\":[\"randomness\",\"streams\",\"device\"],\"kinds\":[]}",
            PROTOCOL_VERSION, IMPLEMENTATION_NAME, IMPLEMENTATION_VERSION);
    return 0;
}

/* [SPEC 7.3] A word is exactly 8 lower-case hex digits. */
int read_hex_word(const Json *value, uint32_t *word)
{
    int k;
    if (!value || value->type != JSON_STRING || strlen(value->text) != 8)
        return -1;
    for (*word = 0, k = 0; k < 8; k++) {
        char h = value->text[k];
        int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
        if (digit < 0)
            return -1;
        *word = *word * 16 + (uint32_t)digit;
    }
    return 0;
}

static int op_philox(const Json *request, Reply *reply)
{
    const Json *counter = json_get(request, "counter"), *key = json_get(request, "key");
    uint32_t c[4], k[2], out[4];
    int i;
    if (!counter || counter->type != JSON_ARRAY || counter->count != 4 || !key || key->type != JSON_ARRAY
        || key->count != 2) {
        snprintf(reply->error, ERROR_SIZE, "counter must be 4 words and key 2 words (8 hex digits each)");
        return -1;
    }
    for (i = 0; i < 4; i++)
        if (read_hex_word(&counter->items[i], &c[i]) != 0
            || (i < 2 && read_hex_word(&key->items[i], &k[i]) != 0)) {
            snprintf(reply->error, ERROR_SIZE, "counter and key words must be 8 hex digits");
            return -1;
        }
    philox4x32_10(c, k, out);
    buffer_printf(reply->out, "{\"output\":[\"%08lx\",\"%08lx\",\"%08lx\",\"%08lx\"]}", (unsigned long)out[0],
            (unsigned long)out[1], (unsigned long)out[2], (unsigned long)out[3]);
    return 0;
}

static int op_normals(const Json *request, Reply *reply)
{
    Draw draw;
    uint64_t count, m;
    if (read_draw(json_get(request, "draw"), &draw, reply->error, ERROR_SIZE) != 0
        || need_u64(request, "count", (uint64_t)1 << 24, &count, reply->error, ERROR_SIZE) != 0)
        return -1;
    buffer_puts(reply->out, "{\"normals\":[");
    for (m = 0; m < count; m++) {
        if (m)
            buffer_putc(reply->out, ',');
        json_write_double(reply->out, draw_normal(&draw, m));
    }
    buffer_puts(reply->out, "]}");
    return 0;
}

/* Streams of a vector of probabilities [SPEC 1.3]: value i's words in rows of `stride` 64-bit words. */
static uint64_t *encode_all(const double *p, size_t count, uint32_t bit_length, const Draw *draw, size_t stride)
{
    uint64_t *words = malloc((count * stride + 1) * sizeof *words);
    size_t i;
    for (i = 0; words && i < count; i++)
        encode_stream(p[i], bit_length, draw, i, words + i * stride);
    return words;
}

static int op_encode(const Json *request, Reply *reply)
{
    Draw draw;
    double *p;
    size_t count, i, stride;
    uint64_t bit_length, *words;
    if (read_draw(json_get(request, "draw"), &draw, reply->error, ERROR_SIZE) != 0
        || need_bit_length(request, &bit_length, reply->error, ERROR_SIZE) != 0
        || read_doubles(json_get(request, "probabilities"), &p, &count, reply->error, ERROR_SIZE,
                        "probabilities") != 0)
        return -1;
    stride = (size_t)((bit_length + 63) / 64);
    words = encode_all(p, count, (uint32_t)bit_length, &draw, stride);
    free(p);
    if (!words) {
        snprintf(reply->error, ERROR_SIZE, "out of memory");
        return -1;
    }
    buffer_puts(reply->out, "{\"streams\":[");
    for (i = 0; i < count; i++) {
        if (i)
            buffer_putc(reply->out, ',');
        write_hex_stream(reply->out, words + i * stride, (uint32_t)bit_length);
    }
    buffer_puts(reply->out, "]}");
    free(words);
    return 0;
}

/* [SPEC 1.4, 3.8] counts[j][i] = popcount(row_i AND column_j). */
static int op_coincidence_counts(const Json *request, Reply *reply)
{
    Draw row_draw, column_draw;
    double *rows = NULL, *columns = NULL;
    size_t n_rows, n_columns, i, j, stride;
    uint64_t bit_length, *row_words, *column_words;
    if (read_draw(json_get(request, "rowDraw"), &row_draw, reply->error, ERROR_SIZE) != 0
        || read_draw(json_get(request, "columnDraw"), &column_draw, reply->error, ERROR_SIZE) != 0
        || need_bit_length(request, &bit_length, reply->error, ERROR_SIZE) != 0
        || read_doubles(json_get(request, "rowProbabilities"), &rows, &n_rows, reply->error, ERROR_SIZE,
                        "rowProbabilities") != 0
        || read_doubles(json_get(request, "columnProbabilities"), &columns, &n_columns, reply->error,
                        ERROR_SIZE, "columnProbabilities") != 0) {
        free(rows);
        return -1;
    }
    stride = (size_t)((bit_length + 63) / 64);
    row_words = encode_all(rows, n_rows, (uint32_t)bit_length, &row_draw, stride);
    column_words = encode_all(columns, n_columns, (uint32_t)bit_length, &column_draw, stride);
    free(rows);
    free(columns);
    if (!row_words || !column_words) {
        free(row_words);
        free(column_words);
        snprintf(reply->error, ERROR_SIZE, "out of memory");
        return -1;
    }
    buffer_puts(reply->out, "{\"counts\":[");
    for (j = 0; j < n_columns; j++) {
        buffer_puts(reply->out, j ? ",[" : "[");
        for (i = 0; i < n_rows; i++)
            buffer_printf(reply->out, i ? ",%lu" : "%lu", (unsigned long)and_popcount(
                        row_words + i * stride, column_words + j * stride, (uint32_t)bit_length));
        buffer_putc(reply->out, ']');
    }
    buffer_puts(reply->out, "]}");
    free(row_words);
    free(column_words);
    return 0;
}

static int op_program(const Json *request, Reply *reply)
{
    DeviceParams params;
    Draw noise;
    double *levels;
    size_t count, k;
    uint64_t bit_length, *pulses = NULL, *synapses = NULL;
    if (read_device(json_get(request, "device"), &params, reply->error, ERROR_SIZE) != 0
        || read_draw(json_get(request, "noise"), &noise, reply->error, ERROR_SIZE) != 0
        || need_bit_length(request, &bit_length, reply->error, ERROR_SIZE) != 0
        || read_doubles(json_get(request, "levels"), &levels, &count, reply->error, ERROR_SIZE, "levels") != 0)
        return -1;
    if (read_u64s(json_get(request, "pulses"), &pulses, count, reply->error, ERROR_SIZE, "pulses") != 0
        || read_u64s(json_get(request, "synapses"), &synapses, count, reply->error, ERROR_SIZE, "synapses") != 0) {
        free(levels);
        free(pulses);
        return -1;
    }
    for (k = 0; k < count; k++)
        levels[k] = device_program(levels[k], (long)pulses[k], &params, &noise, synapses[k], (uint32_t)bit_length);
    buffer_puts(reply->out, "{\"levels\":");
    write_doubles(reply->out, levels, count);
    buffer_putc(reply->out, '}');
    free(levels);
    free(pulses);
    free(synapses);
    return 0;
}

static int op_reset(const Json *request, Reply *reply)
{
    DeviceParams params;
    Draw noise;
    double *g_plus = NULL, *g_minus = NULL;
    size_t count, minus_count, k;
    uint64_t *synapses = NULL;
    if (read_device(json_get(request, "device"), &params, reply->error, ERROR_SIZE) != 0
        || read_draw(json_get(request, "noise"), &noise, reply->error, ERROR_SIZE) != 0
        || read_doubles(json_get(request, "gPlus"), &g_plus, &count, reply->error, ERROR_SIZE, "gPlus") != 0
        || read_doubles(json_get(request, "gMinus"), &g_minus, &minus_count, reply->error, ERROR_SIZE,
                        "gMinus") != 0
        || read_u64s(json_get(request, "synapses"), &synapses, count, reply->error, ERROR_SIZE, "synapses") != 0
        || minus_count != count) {
        if (!reply->error[0])
            snprintf(reply->error, ERROR_SIZE, "gPlus and gMinus must have the same length");
        free(g_plus);
        free(g_minus);
        free(synapses);
        return -1;
    }
    for (k = 0; k < count; k++)
        device_reset(g_plus[k], g_minus[k], &params, &noise, synapses[k], &g_plus[k], &g_minus[k]);
    buffer_puts(reply->out, "{\"gPlus\":");
    write_doubles(reply->out, g_plus, count);
    buffer_puts(reply->out, ",\"gMinus\":");
    write_doubles(reply->out, g_minus, count);
    buffer_putc(reply->out, '}');
    free(g_plus);
    free(g_minus);
    free(synapses);
    return 0;
}

static int op_bye(const Json *request, Reply *reply)
{
    (void)request;
    buffer_puts(reply->out, "{}");
    return 0;
}

typedef struct {
    const char *name;
    int (*run)(const Json *request, Reply *reply);
} Operation;

static const Operation OPERATIONS[] = {
    {"hello", op_hello}, {"bye", op_bye}, {"philox", op_philox}, {"normals", op_normals},
    {"encode", op_encode}, {"coincidenceCounts", op_coincidence_counts},
    {"program", op_program}, {"reset", op_reset},
};

/* Read one line of any length; NULL at the end of input. */
static char *read_line(FILE *in)
{
    size_t size = 4096, length = 0;
    char *line = malloc(size);
    int c;
    while (line && (c = fgetc(in)) != EOF && c != '\n') {
        if (length + 1 >= size) {
            char *bigger = realloc(line, size *= 2);
            if (!bigger)
                free(line);
            line = bigger;
            if (!line)
                break;
        }
        line[length++] = (char)c;
    }
    if (!line || (c == EOF && length == 0)) {
        free(line);
        return NULL;
    }
    line[length] = '\0';
    return line;
}

/* The id is echoed as written; a request without a readable id is answered with id null. */
static void write_id(Buffer *out, const Json *id)
{
    buffer_puts(out, "{\"id\":");
    buffer_puts(out, id && id->type == JSON_NUMBER ? id->text : "null");
}

static void write_error(Buffer *out, const Json *id, const char *code, const char *message)
{
    write_id(out, id);
    buffer_printf(out, ",\"error\":{\"code\":\"%s\",\"message\":", code);
    json_write_string(out, message);
    buffer_puts(out, "}}");
}

static const Operation *find_operation(const Json *op)
{
    size_t k;
    for (k = 0; op && op->type == JSON_STRING && k < sizeof OPERATIONS / sizeof *OPERATIONS; k++)
        if (strcmp(op->text, OPERATIONS[k].name) == 0)
            return &OPERATIONS[k];
    return NULL;
}

/* The reply to one request line, built whole in `line_out`; returns 1 after `bye`. */
static int answer(const char *line, Buffer *line_out)
{
    char parse_error[ERROR_SIZE];
    Json *request = json_parse(line, parse_error, sizeof parse_error);
    const Json *id = json_get(request, "id");
    const Operation *operation = find_operation(json_get(request, "op"));
    Buffer result = {NULL, 0, 0, 0};
    Reply reply;
    int done = 0;
    reply.out = &result;
    reply.error[0] = '\0';
    if (!request)
        write_error(line_out, NULL, "invalid", parse_error);
    else if (!operation)
        write_error(line_out, id, "unsupported", "this implementation claims randomness, streams and device only");
    else if (operation->run(request, &reply) != 0)
        write_error(line_out, id, "invalid", reply.error[0] ? reply.error : "malformed request");
    else if (result.failed)
        write_error(line_out, id, "failed", "out of memory");
    else {
        write_id(line_out, id);
        buffer_puts(line_out, ",\"result\":");
        buffer_puts(line_out, result.data ? result.data : "{}");
        buffer_putc(line_out, '}');
        done = strcmp(operation->name, "bye") == 0;
    }
    buffer_free(&result);
    json_free(request);
    return done;
}

int serve(FILE *in, FILE *out)
{
    char *line;
    int done = 0;
    while (!done && (line = read_line(in)) != NULL) {
        Buffer reply = {NULL, 0, 0, 0};
        done = answer(line, &reply);
        if (reply.failed)
            fputs("{\"id\":null,\"error\":{\"code\":\"failed\",\"message\":\"out of memory\"}}", out);
        else
            fputs(reply.data, out);
        fputc('\n', out);
        fflush(out);
        buffer_free(&reply);
        free(line);
    }
    return 0;
}
