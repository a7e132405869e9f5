/* --check-vectors DIR: compare this implementation with the specification's JSON vectors directly, without
 * the protocol: the path for a testbench that only reads files (an HDL simulation, for instance).
 * Export the files with `stochmem vectors --groups randomness,streams,device --out DIR`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "vectors.h"

#define LEVEL_TOLERANCE 1e-9   /* [SPEC 6.1] */
#define NORMAL_TOLERANCE 1e-12 /* [SPEC 2.5]: ln, cos and sin may differ by a few ulp between libraries */

typedef struct {
    int passed, failed;
} Tally;

static char *read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    char *text;
    long size;
    if (!file)
        return NULL;
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    rewind(file);
    text = malloc((size_t)size + 1);
    if (text && fread(text, 1, (size_t)size, file) != (size_t)size) {
        free(text);
        text = NULL;
    }
    if (text)
        text[size] = '\0';
    fclose(file);
    return text;
}

static void verdict(Tally *tally, const Json *test, int ok, const char *clause)
{
    uint64_t tc_id = 0;
    json_u64(json_get(test, "tcId"), &tc_id);
    if (ok) {
        tally->passed++;
    } else {
        tally->failed++;
        fprintf(stderr, "FAIL %s tcId %llu\n", clause, (unsigned long long)tc_id);
    }
}

static int close_to(const Json *expected, double got, double tolerance)
{
    double want;
    return json_double(expected, &want) == 0 && fabs(got - want) <= tolerance;
}

/* Typed fields of a test: NULL when absent or of another type (or length, unless `length` is ANY): a malformed
 * test fails, it is never dereferenced. */
#define ANY ((size_t)-1)

static const Json *array_of(const Json *test, const char *key, size_t length)
{
    const Json *value = json_get(test, key);
    return value && value->type == JSON_ARRAY && (length == ANY || value->count == length) ? value : NULL;
}

static const char *string_of(const Json *value)
{
    return value && value->type == JSON_STRING ? value->text : NULL;
}

static int bit_length_of(const Json *test, uint64_t *bit_length)
{
    return json_u64(json_get(test, "bitLength"), bit_length) == 0 && *bit_length >= 1 && *bit_length <= (1u << 24);
}

static void check_philox(const Json *test, Tally *tally)
{
    const Json *counter = array_of(test, "counter", 4), *key = array_of(test, "key", 2);
    const Json *output = array_of(test, "output", 4);
    uint32_t c[4], k[2], want[4], got[4];
    int i, ok = counter && key && output;
    for (i = 0; ok && i < 4; i++)
        ok = read_hex_word(&counter->items[i], &c[i]) == 0 && read_hex_word(&output->items[i], &want[i]) == 0
             && (i >= 2 || read_hex_word(&key->items[i], &k[i]) == 0);
    if (ok) {
        philox4x32_10(c, k, got);
        for (i = 0; i < 4; i++)
            ok &= got[i] == want[i];
    }
    verdict(tally, test, ok, "[SPEC 2.1] Philox4x32-10");
}

static void check_normals(const Json *test, Tally *tally)
{
    const Json *normals = array_of(test, "normals", ANY);
    char error[128];
    Draw draw;
    size_t m;
    int ok = normals && read_draw(json_get(test, "draw"), &draw, error, sizeof error) == 0;
    for (m = 0; ok && m < normals->count; m++)
        ok = close_to(&normals->items[m], draw_normal(&draw, m), NORMAL_TOLERANCE);
    verdict(tally, test, ok, "[SPEC 2.5] normals");
}

static void check_permutation(const Json *test, Tally *tally)
{
    const Json *expected = array_of(test, "permutation", ANY);
    char error[128];
    Draw draw;
    size_t k, *order = expected ? malloc((expected->count + 1) * sizeof *order) : NULL;
    uint64_t want;
    int ok = order && read_draw(json_get(test, "draw"), &draw, error, sizeof error) == 0;
    if (ok)
        draw_permutation(&draw, expected->count, order);
    for (k = 0; ok && k < expected->count; k++)
        ok = json_u64(&expected->items[k], &want) == 0 && order[k] == want;
    free(order);
    verdict(tally, test, ok, "[SPEC 2.6] permutation");
}

static void check_encode(const Json *test, Tally *tally)
{
    const Json *probabilities = array_of(test, "probabilities", ANY);
    const Json *streams = probabilities ? array_of(test, "streams", probabilities->count) : NULL;
    char error[128];
    Draw draw;
    uint64_t bit_length = 0, i;
    int ok = streams && bit_length_of(test, &bit_length)
             && read_draw(json_get(test, "draw"), &draw, error, sizeof error) == 0;
    size_t stride = (size_t)(bit_length + 63) / 64;
    uint64_t *got = ok ? malloc(stride * sizeof *got) : NULL, *want = ok ? malloc(stride * sizeof *want) : NULL;
    ok = ok && got && want;
    for (i = 0; ok && i < probabilities->count; i++) {
        double p;
        const char *hex = string_of(&streams->items[i]);
        ok = json_double(&probabilities->items[i], &p) == 0 && hex
             && read_hex_stream(hex, (uint32_t)bit_length, want) == 0;
        if (ok) {
            encode_stream(p, (uint32_t)bit_length, &draw, i, got);
            ok = memcmp(got, want, stride * sizeof *got) == 0;
        }
    }
    free(got);
    free(want);
    verdict(tally, test, ok, "[SPEC 1.2, 1.3] encode");
}

static void check_and_popcount(const Json *test, Tally *tally)
{
    uint64_t bit_length = 0, expected;
    const char *a_hex = string_of(json_get(test, "a")), *b_hex = string_of(json_get(test, "b"));
    int ok = a_hex && b_hex && bit_length_of(test, &bit_length)
             && json_u64(json_get(test, "andPopcount"), &expected) == 0;
    size_t stride = (size_t)(bit_length + 63) / 64;
    uint64_t *a = ok ? malloc(stride * sizeof *a) : NULL, *b = ok ? malloc(stride * sizeof *b) : NULL;
    ok = ok && a && b && read_hex_stream(a_hex, (uint32_t)bit_length, a) == 0
         && read_hex_stream(b_hex, (uint32_t)bit_length, b) == 0
         && and_popcount(a, b, (uint32_t)bit_length) == expected;
    free(a);
    free(b);
    verdict(tally, test, ok, "[SPEC 1.4] AND/popcount");
}

/* ProgramTest, ResetTest and InitialProgramTest share their device, noise draw and synapse. */
static int read_device_case(const Json *test, DeviceParams *params, Draw *noise, uint64_t *synapse)
{
    char error[256];
    return read_device(json_get(test, "device"), params, error, sizeof error) == 0
           && read_draw(json_get(test, "noise"), noise, error, sizeof error) == 0
           && json_u64(json_get(test, "synapse"), synapse) == 0;
}

static void check_program(const Json *test, Tally *tally)
{
    DeviceParams params;
    Draw noise;
    uint64_t synapse, pulses, bit_length;
    double g;
    int ok = read_device_case(test, &params, &noise, &synapse) && json_double(json_get(test, "g"), &g) == 0
             && json_u64(json_get(test, "pulses"), &pulses) == 0 && pulses <= (1u << 24)
             && bit_length_of(test, &bit_length)
             && close_to(json_get(test, "after"),
                         device_program(g, (long)pulses, &params, &noise, synapse, (uint32_t)bit_length),
                         LEVEL_TOLERANCE);
    verdict(tally, test, ok, "[SPEC 4.3, 4.4] programming event");
}

static void check_reset(const Json *test, Tally *tally)
{
    DeviceParams params;
    Draw noise;
    uint64_t synapse;
    double g_plus, g_minus, plus_after = 0, minus_after = 0;
    int ok = read_device_case(test, &params, &noise, &synapse)
             && json_double(json_get(test, "gPlus"), &g_plus) == 0
             && json_double(json_get(test, "gMinus"), &g_minus) == 0;
    if (ok)
        device_reset(g_plus, g_minus, &params, &noise, synapse, &plus_after, &minus_after);
    ok = ok && close_to(json_get(test, "gPlusAfter"), plus_after, LEVEL_TOLERANCE)
         && close_to(json_get(test, "gMinusAfter"), minus_after, LEVEL_TOLERANCE);
    verdict(tally, test, ok, "[SPEC 4.5] reset");
}

static void check_initial(const Json *test, Tally *tally)
{
    DeviceParams params;
    Draw noise;
    uint64_t synapse;
    double w, g_plus = 0, g_minus = 0;
    int ok = read_device_case(test, &params, &noise, &synapse) && json_double(json_get(test, "weight"), &w) == 0;
    if (ok)
        device_initial_pair(w, &params, &noise, synapse, &g_plus, &g_minus);
    ok = ok && close_to(json_get(test, "gPlus"), g_plus, LEVEL_TOLERANCE)
         && close_to(json_get(test, "gMinus"), g_minus, LEVEL_TOLERANCE);
    verdict(tally, test, ok, "[SPEC 4.6] initial programming");
}

typedef struct {
    const char *type;
    void (*check)(const Json *test, Tally *tally);
} Checker;

static const Checker CHECKERS[] = {
    {"PhiloxTest", check_philox}, {"NormalTest", check_normals}, {"PermutationTest", check_permutation},
    {"EncodeTest", check_encode}, {"AndPopcountTest", check_and_popcount},
    {"ProgramTest", check_program}, {"ResetTest", check_reset}, {"InitialProgramTest", check_initial},
};

/* Check every test group of `name` in `folder` whose type this example implements. Returns the number of
 * failures, or -1 when the file is absent (an export of other groups) and -2 when it is not valid JSON. */
static int check_file(const char *folder, const char *name, Tally *total)
{
    char path[4096], error[256];
    char *text;
    Json *document;
    const Json *groups;
    Tally tally = {0, 0};
    size_t g, t, k;
    snprintf(path, sizeof path, "%s/%s", folder, name);
    text = read_file(path);
    if (!text)
        return -1;
    document = json_parse(text, error, sizeof error);
    free(text);
    groups = json_get(document, "testGroups");
    if (!groups || groups->type != JSON_ARRAY) {
        fprintf(stderr, "%s: not a vector file: %s\n", path, document ? "no testGroups" : error);
        json_free(document);
        return -2;
    }
    for (g = 0; g < groups->count; g++) {
        const char *type = string_of(json_get(&groups->items[g], "type"));
        const Json *tests = array_of(&groups->items[g], "tests", ANY);
        for (k = 0; type && tests && k < sizeof CHECKERS / sizeof *CHECKERS; k++)
            if (strcmp(type, CHECKERS[k].type) == 0)
                for (t = 0; t < tests->count; t++)
                    CHECKERS[k].check(&tests->items[t], &tally);
    }
    printf("%s: %d of %d tests pass\n", name, tally.passed, tally.passed + tally.failed);
    total->passed += tally.passed;
    total->failed += tally.failed;
    json_free(document);
    return tally.failed;
}

int check_vectors(const char *folder)
{
    static const char *const FILES[] = {"philox.json", "streams.json", "device.json"};
    Tally total = {0, 0};
    size_t k;
    int broken = 0;
    for (k = 0; k < sizeof FILES / sizeof *FILES; k++)
        broken |= check_file(folder, FILES[k], &total) == -2;
    if (total.passed + total.failed == 0) {
        fprintf(stderr, "no vectors of randomness, streams or device in %s: export them with\n"
                        "  stochmem vectors --groups randomness,streams,device --out %s\n", folder, folder);
        return 2;
    }
    printf("%d of %d vector tests pass\n", total.passed, total.passed + total.failed);
    return total.failed || broken ? 1 : 0;
}
