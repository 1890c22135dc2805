/* Exercises the public C API without Node, through vall_e.h only.
 *
 * Always: system info; matmul in each weight type against a naive product; two handles computing from two threads
 * at once on the shared thread pool; every status name; argument errors of matmul, quantize and the benchmark.
 *
 * With the four arguments (test/addon.test.ts passes them):
 *   - the tiny LM (a GGUF) and the tiny EnCodec loaded through vall_e_lm_* and vall_e_codec_*; an LM forward of two
 *     sequences, a prefill and one cached step (also on a copied cache), a codec decode of fixed codes and an encode
 *     (codes and latents) of a fixed signal, each compared with what the TypeScript path (@vall-e/native's LmContext
 *     and EncodecModel) computed for the same inputs, written by test/c-api-cases.ts;
 *   - every vall_e_status a caller can provoke: INVALID_ARGUMENT (NULL pointers, bad shapes and ranges, thread
 *     counts, missing, empty, garbage and truncated files), CANCELLED (a cancel flag set before the call), BUSY (one
 *     LM context used from two threads), OUT_OF_MEMORY (a KV cache larger than an address-space limit set around the
 *     call); each with a message on the calling thread that names the problem, and on no other thread.
 *     VALL_E_ERR_COMPUTE and VALL_E_ERR_INTERNAL cannot be provoked: see check_status_names.
 * Everything is freed: the program runs clean under AddressSanitizer with LeakSanitizer, and under valgrind
 * --leak-check=full in a VALL_E_PORTABLE build (valgrind cannot decode the AVX-512 of a native one).
 *
 * Usage: vall_e_c_api_test [<lm.gguf> <encodec.bin> <cases.bin> <scratch-dir>]
 *   scratch-dir: an existing directory for the broken model files it writes. VALL_E_C_API_TEST_VERBOSE=1 prints
 *   every error message checked. Exit status 0 when every check passes, 1 when one fails, 2 on a usage error. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sched_yield, sysconf, getrlimit */

#include "vall_e.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int g_failures = 0;
static int g_checks   = 0;
static int g_verbose  = 0;

#define CHECK(cond, ...)                                         \
    do {                                                         \
        g_checks++;                                              \
        if (!(cond)) {                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fprintf(stderr, "\n");                               \
            g_failures++;                                        \
        }                                                        \
    } while (0)

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

/* Run one group of checks; in verbose mode, say how long it took. */
#define RUN(call)                                                                \
    do {                                                                         \
        const double started_ms = now_ms();                                      \
        call;                                                                    \
        if (g_verbose) printf("(%s: %.1f ms)\n", #call, now_ms() - started_ms); \
    } while (0)

static float next_uniform(uint32_t * state) {
    *state = *state * 1664525u + 1013904223u;
    return (float) ((*state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* ---- statuses and messages -------------------------------------------------------------------------------- */

#define N_STATUSES 8
static int g_seen[N_STATUSES]; /* expected failures observed, per status */

/* Give this thread a known last error first, so that a failing call that sets no message of its own is caught. */
static const char * const k_sentinel = "vall_e_bench_vector_add: seconds must not be NULL";
static void prime_last_error(void) { (void) vall_e_bench_vector_add(0, 1, 1, NULL); }

static void expect_status(vall_e_status got, vall_e_status want, const char * needle, const char * call, int line) {
    const char * message = vall_e_last_error();
    g_checks++;
    const int ok = got == want && message != NULL && message[0] != '\0' && strcmp(message, k_sentinel) != 0 &&
                   strstr(message, needle) != NULL;
    if (ok && (int) want >= 0 && (int) want < N_STATUSES) g_seen[want]++;
    if (!ok) {
        fprintf(stderr, "FAIL %s:%d: %s returned %s with \"%s\"; expected %s with a message containing \"%s\"\n",
                __FILE__, line, call, vall_e_status_name(got), message ? message : "(null)", vall_e_status_name(want),
                needle);
        g_failures++;
    } else if (g_verbose) {
        printf("  %-28s %s\n", vall_e_status_name(got), message);
    }
}

/* `call` must return `want`, and vall_e_last_error() then contain `needle`. */
#define EXPECT_STATUS(call, want, needle)                         \
    do {                                                          \
        prime_last_error();                                       \
        expect_status((call), (want), (needle), #call, __LINE__); \
    } while (0)
#define EXPECT_INVALID(call, needle) EXPECT_STATUS(call, VALL_E_ERR_INVALID_ARGUMENT, needle)

/* Every status has a stable name. VALL_E_ERR_COMPUTE is what ggml_backend_graph_compute's GGML_STATUS_FAILED maps to,
 * which the CPU backend never returns (its failures are ALLOC_FAILED and ABORTED, mapped to OUT_OF_MEMORY and
 * CANCELLED); VALL_E_ERR_INTERNAL is an unexpected exception, a bug. Neither can be provoked from C. */
static void check_status_names(void) {
    static const char * const names[N_STATUSES] = {
        "VALL_E_OK",          "VALL_E_ERR_INVALID_ARGUMENT", "VALL_E_ERR_OUT_OF_MEMORY", "VALL_E_ERR_COMPUTE",
        "VALL_E_ERR_CANCELLED", "VALL_E_ERR_BUSY",           "VALL_E_ERR_INTERNAL",
        "VALL_E_ERR_UNAVAILABLE",
    };
    for (int s = 0; s < N_STATUSES; ++s) {
        CHECK(strcmp(vall_e_status_name((vall_e_status) s), names[s]) == 0, "status %d is named %s, expected %s", s,
              vall_e_status_name((vall_e_status) s), names[s]);
    }
    CHECK(strcmp(vall_e_status_name((vall_e_status) 99), "VALL_E_ERR_UNKNOWN") == 0, "status 99: %s",
          vall_e_status_name((vall_e_status) 99));
}

/* ---- logging ---------------------------------------------------------------------------------------------- */

static atomic_int g_log_lines; /* warnings and errors routed to our callback */

static void count_log_line(vall_e_log_level level, const char * text, void * user_data) {
    (void) user_data;
    if (level >= VALL_E_LOG_WARN) {
        atomic_fetch_add(&g_log_lines, 1);
        if (g_verbose) printf("  (log) %s", text);
    }
}

/* ---- files ------------------------------------------------------------------------------------------------ */

static unsigned char * read_file(const char * path, size_t * size) {
    FILE * f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char * data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        const long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            data = malloc((size_t) n + 1);
            if (data && fread(data, 1, (size_t) n, f) != (size_t) n) {
                free(data);
                data = NULL;
            }
            *size = (size_t) n;
        }
    }
    fclose(f);
    return data;
}

static void write_file(const char * path, const void * data, size_t size) {
    FILE * f  = fopen(path, "wb");
    int    ok = f != NULL && fwrite(data, 1, size, f) == size;
    if (f) ok = fclose(f) == 0 && ok;
    CHECK(ok, "could not write %s", path);
}

/* ---- the TypeScript path's cases (test/c-api-cases.ts): named arrays ------------------------------------- */

enum { CASE_F32 = 0, CASE_I32 = 1, CASE_I16 = 2 };

typedef struct case_array {
    char     name[64];
    uint32_t type;
    uint32_t count;
    void *   data; /* its own aligned copy */
} case_array;

typedef struct cases {
    case_array items[64];
    int        n;
} cases;

static void cases_free(cases * c) {
    for (int i = 0; i < c->n; ++i) free(c->items[i].data);
    c->n = 0;
}

/* "VECA", u32 version 1, then records: u32 name length, name, u32 type, u32 count, the values (little-endian). */
static int cases_load(cases * c, const char * path) {
    size_t          size    = 0;
    unsigned char * bytes   = read_file(path, &size);
    uint32_t        version = 0;
    c->n                    = 0;
    if (!bytes || size < 8 || memcmp(bytes, "VECA", 4) != 0) {
        free(bytes);
        return 0;
    }
    memcpy(&version, bytes + 4, 4);
    size_t at = 8;
    int    ok = version == 1;
    while (ok && at < size) {
        uint32_t header[2]; /* type, count */
        uint32_t name_length = 0;
        if (c->n == 64 || size - at < 4) break;
        memcpy(&name_length, bytes + at, 4);
        at += 4;
        if (name_length == 0 || name_length > 63 || size - at < name_length + 8) break;
        case_array * item = &c->items[c->n];
        memcpy(item->name, bytes + at, name_length);
        item->name[name_length] = '\0';
        at += name_length;
        memcpy(header, bytes + at, 8);
        at += 8;
        item->type           = header[0];
        item->count          = header[1];
        const size_t element = item->type == CASE_I16 ? 2 : 4;
        if (item->type > CASE_I16 || item->count == 0 || (size - at) / element < item->count) break;
        item->data = malloc(element * item->count);
        if (!item->data) break;
        memcpy(item->data, bytes + at, element * item->count);
        at += element * item->count;
        c->n++;
    }
    ok = ok && at == size;
    free(bytes);
    if (!ok) cases_free(c);
    return ok;
}

static const void * case_get(const cases * c, const char * name, uint32_t type, uint32_t * count) {
    for (int i = 0; i < c->n; ++i) {
        if (strcmp(c->items[i].name, name) == 0) {
            CHECK(c->items[i].type == type, "case %s has type %u, expected %u", name, c->items[i].type, type);
            if (c->items[i].type != type) return NULL;
            if (count) *count = c->items[i].count;
            return c->items[i].data;
        }
    }
    CHECK(0, "the cases file has no %s", name);
    return NULL;
}

static int32_t case_i32(const cases * c, const char * name, uint32_t index) {
    uint32_t        count  = 0;
    const int32_t * values = case_get(c, name, CASE_I32, &count);
    CHECK(values && index < count, "case %s has no element %u", name, index);
    return values && index < count ? values[index] : 0;
}

/* A sequence stored as <name>.row_offsets, .row_ids, .positions and .flags (causal, n_outputs). */
static int case_sequence(const cases * c, const char * name, vall_e_lm_sequence * s) {
    char     key[96];
    uint32_t n_offsets = 0, n_positions = 0;
    memset(s, 0, sizeof(*s));
    snprintf(key, sizeof(key), "%s.row_offsets", name);
    s->row_offsets = case_get(c, key, CASE_I32, &n_offsets);
    snprintf(key, sizeof(key), "%s.row_ids", name);
    s->row_ids = case_get(c, key, CASE_I32, NULL);
    snprintf(key, sizeof(key), "%s.positions", name);
    s->positions = case_get(c, key, CASE_I32, &n_positions);
    snprintf(key, sizeof(key), "%s.flags", name);
    s->causal    = case_i32(c, key, 0);
    s->n_outputs = case_i32(c, key, 1);
    s->n_tokens  = (int32_t) n_positions;
    const int ok = s->row_offsets && s->row_ids && s->positions && n_offsets == n_positions + 1;
    CHECK(ok, "case sequence %s is incomplete", name);
    return ok;
}

/* got[0 … n) against the TypeScript path's values: the same count, finite, within `tolerance` (max abs). */
static void check_close(const cases * c, const char * name, const float * got, size_t n, double tolerance) {
    uint32_t      count = 0;
    const float * want  = case_get(c, name, CASE_F32, &count);
    if (!want) return;
    CHECK(count == n, "%s: %zu values, the TypeScript path gave %u", name, n, count);
    double worst = 0.0;
    size_t bad   = 0;
    for (size_t i = 0; i < n && i < count; ++i) {
        if (!isfinite(got[i])) bad++;
        const double diff = fabs((double) got[i] - (double) want[i]);
        if (diff > worst || isnan(diff)) worst = diff;
    }
    CHECK(bad == 0, "%s: %zu values are not finite", name, bad);
    CHECK(worst <= tolerance, "%s: max abs difference from the TypeScript path %g > %g", name, worst, tolerance);
    if (g_verbose) printf("  %-28s %zu values, max abs difference %g\n", name, n, worst);
}

static void check_codes_equal(const cases * c, const char * name, const int16_t * got, size_t n) {
    uint32_t        count = 0;
    const int16_t * want  = case_get(c, name, CASE_I16, &count);
    if (!want) return;
    CHECK(count == n, "%s: %zu codes, the TypeScript path gave %u", name, n, count);
    size_t differ = 0;
    for (size_t i = 0; i < n && i < count; ++i) differ += got[i] != want[i];
    CHECK(differ == 0, "%s: %zu of %zu codes differ from the TypeScript path's", name, differ, n);
}

/* ---- matmul ----------------------------------------------------------------------------------------------- */

static void check_matmul(int32_t type, double tolerance) {
    const int64_t m = 48, k = 64, n = 5;
    float *       w = malloc(sizeof(float) * m * k);
    float *       x = malloc(sizeof(float) * n * k);
    float *       y = malloc(sizeof(float) * n * m);
    uint32_t      state = 42u + (uint32_t) type;
    for (int64_t i = 0; i < m * k; ++i) w[i] = next_uniform(&state);
    for (int64_t i = 0; i < n * k; ++i) x[i] = next_uniform(&state);

    vall_e_matmul_params params = vall_e_matmul_default_params();
    params.m = m;
    params.k = k;
    params.type = type;
    vall_e_matmul * mm = NULL;
    vall_e_status   status = vall_e_matmul_init(&params, w, &mm);
    CHECK(status == VALL_E_OK && mm != NULL, "init type %d: %s", type, vall_e_last_error());
    if (mm) {
        status = vall_e_matmul_compute(mm, x, n, y, 1);
        CHECK(status == VALL_E_OK, "compute type %d: %s", type, vall_e_last_error());
        double worst = 0.0;
        for (int64_t r = 0; r < n; ++r) {
            for (int64_t c = 0; c < m; ++c) {
                double expected = 0.0;
                for (int64_t i = 0; i < k; ++i) expected += (double) x[r * k + i] * (double) w[c * k + i];
                const double diff = fabs(expected - (double) y[r * m + c]);
                if (diff > worst) worst = diff;
            }
        }
        CHECK(worst <= tolerance, "type %d: max abs error %g > %g", type, worst, tolerance);
        vall_e_matmul_free(mm);
    }
    free(w);
    free(x);
    free(y);
}

/* One thread's work: repeated products on its own handle and thread count, each compared with the first. */
typedef struct concurrent_job {
    vall_e_matmul * mm;
    const float *   x;
    int64_t         n;
    int64_t         m;
    int32_t         threads;
    float *         first;
    float *         again;
    int             mismatches;
    int             failures;
} concurrent_job;

static void * run_job(void * data) {
    concurrent_job * job = data;
    for (int iter = 0; iter < 20; ++iter) {
        float * out = iter == 0 ? job->first : job->again;
        if (vall_e_matmul_compute(job->mm, job->x, job->n, out, job->threads) != VALL_E_OK) {
            job->failures++;
            continue;
        }
        if (iter > 0 && memcmp(job->first, job->again, sizeof(float) * (size_t) (job->n * job->m)) != 0) {
            job->mismatches++;
        }
    }
    return NULL;
}

/* Two handles on two threads with different thread counts: evaluations take turns on the one pool (which grows from
 * 1 to 2 workers meanwhile) and each gives the same bits every time, the same as when it ran alone. */
static void check_concurrent_matmuls(void) {
    const int64_t  m[2] = {64, 96}, k = 128, n = 9;
    const int32_t  threads[2] = {1, 2};
    concurrent_job jobs[2];
    float *        alone[2];
    float *        buffers[8];
    int            b = 0;
    uint32_t       state = 7u;
    for (int j = 0; j < 2; ++j) {
        float * w = buffers[b++] = malloc(sizeof(float) * m[j] * k);
        float * x = buffers[b++] = malloc(sizeof(float) * n * k);
        for (int64_t i = 0; i < m[j] * k; ++i) w[i] = next_uniform(&state);
        for (int64_t i = 0; i < n * k; ++i) x[i] = next_uniform(&state);
        vall_e_matmul_params params = vall_e_matmul_default_params();
        params.m = m[j];
        params.k = k;
        params.type = j == 0 ? VALL_E_TYPE_F32 : VALL_E_TYPE_F16;
        memset(&jobs[j], 0, sizeof(jobs[j]));
        CHECK(vall_e_matmul_init(&params, w, &jobs[j].mm) == VALL_E_OK, "init %d: %s", j, vall_e_last_error());
        jobs[j].x = x;
        jobs[j].n = n;
        jobs[j].m = m[j];
        jobs[j].threads = threads[j];
        jobs[j].first = buffers[b++] = malloc(sizeof(float) * n * m[j]);
        jobs[j].again = buffers[b++] = malloc(sizeof(float) * n * m[j]);
        alone[j] = malloc(sizeof(float) * n * m[j]);
        if (jobs[j].mm) {
            CHECK(vall_e_matmul_compute(jobs[j].mm, x, n, alone[j], threads[j]) == VALL_E_OK, "alone %d", j);
        }
    }
    if (jobs[0].mm && jobs[1].mm) {
        pthread_t thread[2];
        for (int j = 0; j < 2; ++j) CHECK(pthread_create(&thread[j], NULL, run_job, &jobs[j]) == 0, "thread %d", j);
        for (int j = 0; j < 2; ++j) pthread_join(thread[j], NULL);
        for (int j = 0; j < 2; ++j) {
            CHECK(jobs[j].failures == 0, "job %d: %d failed computes", j, jobs[j].failures);
            CHECK(jobs[j].mismatches == 0, "job %d: %d results differ from its first", j, jobs[j].mismatches);
            CHECK(memcmp(jobs[j].first, alone[j], sizeof(float) * (size_t) (n * m[j])) == 0,
                  "job %d: the concurrent result differs from the one computed alone", j);
        }
    }
    for (int j = 0; j < 2; ++j) {
        vall_e_matmul_free(jobs[j].mm);
        free(alone[j]);
    }
    for (int i = 0; i < b; ++i) free(buffers[i]);
}

/* espeak-ng, loaded at run time. With VALL_E_ESPEAK_LIBRARY naming a file that does not exist (the second run of
 * test/addon.test.ts), every espeak call reports VALL_E_ERR_UNAVAILABLE with what to install; otherwise the system's
 * library loads and phonemizes. */
static void check_espeak(void) {
    const char * chosen  = getenv("VALL_E_ESPEAK_LIBRARY");
    const char * problem = NULL;
    const char * library = vall_e_espeak_library(&problem);
    char *       out     = NULL;
    if (chosen && chosen[0]) {
        CHECK(library == NULL && vall_e_espeak_available() == 0, "a missing %s loaded", chosen);
        CHECK(problem && strstr(problem, chosen) && strstr(problem, "apt-get install libespeak-ng1"),
              "the problem names the file and what to install: %s", problem ? problem : "(null)");
        EXPECT_STATUS(vall_e_espeak_init(NULL, NULL, NULL), VALL_E_ERR_UNAVAILABLE, "Install espeak-ng");
        EXPECT_STATUS(vall_e_espeak_languages(&out), VALL_E_ERR_UNAVAILABLE, chosen);
        EXPECT_STATUS(vall_e_espeak_text_to_phonemes("en-us", "hello", &out), VALL_E_ERR_UNAVAILABLE, chosen);
        CHECK(out == NULL, "no output on failure");
        return;
    }
    CHECK(library != NULL && problem == NULL && vall_e_espeak_available() == 1, "libespeak-ng loads: %s",
          problem ? problem : "");
    const char * version = NULL;
    const char * data    = NULL;
    CHECK(vall_e_espeak_init(NULL, &version, &data) == VALL_E_OK, "init: %s", vall_e_last_error());
    CHECK(vall_e_espeak_text_to_phonemes("en-us", "hello", &out) == VALL_E_OK, "hello: %s", vall_e_last_error());
    CHECK(out && strcmp(out, "h_\xc9\x99_l_\xcb\x88o\xca\x8a") == 0, "hello is h_ə_l_ˈoʊ, got %s", out ? out : "(null)");
    vall_e_string_free(out);
    EXPECT_INVALID(vall_e_espeak_text_to_phonemes("xx-nope", "hello", &out), "no voice");
}

/* The compute devices: at least the CPU; an index out of range or a NULL info is refused. */
static void check_devices(void) {
    const int32_t n   = vall_e_device_count();
    int           cpu = 0;
    CHECK(n >= 1, "%d devices", n);
    for (int32_t i = 0; i < n; ++i) {
        vall_e_device_info d;
        CHECK(vall_e_device_get(i, &d) == VALL_E_OK, "device %d: %s", i, vall_e_last_error());
        CHECK(d.name && d.name[0] && d.description && d.backend && d.backend[0], "device %d strings", i);
        CHECK(d.type >= VALL_E_DEVICE_CPU && d.type <= VALL_E_DEVICE_ACCELERATOR, "device %d type %d", i, d.type);
        CHECK(d.memory_total >= d.memory_free && d.memory_free >= 0, "device %d memory %lld of %lld", i,
              (long long) d.memory_free, (long long) d.memory_total);
        if (d.type == VALL_E_DEVICE_CPU) {
            cpu++;
            CHECK(strcmp(d.backend, "CPU") == 0 && d.software == 0 && d.backend_index == 0, "the CPU device: %s %d %d",
                  d.backend, d.software, d.backend_index);
        }
    }
    CHECK(cpu == 1, "%d CPU devices", cpu);
    vall_e_device_info d;
    EXPECT_INVALID(vall_e_device_get(n, &d), "Expected a device index from 0 to");
    EXPECT_INVALID(vall_e_device_get(-1, &d), "= CPU (");
    EXPECT_INVALID(vall_e_device_get(0, NULL), "vall_e_device_get: info must not be NULL");
}

/* Argument errors of the handle-free calls: a status and a message naming the parameter, never an abort. */
static void check_small_errors(void) {
    float                weights[32 * 33];
    float                out[64];
    vall_e_matmul_params params = vall_e_matmul_default_params();
    vall_e_matmul *      mm     = NULL;
    memset(weights, 0, sizeof(weights));
    params.m    = 32;
    params.k    = 33;
    params.type = VALL_E_TYPE_Q8_0;
    EXPECT_INVALID(vall_e_matmul_init(&params, weights, &mm),
                   "Expected k to be a multiple of 32 for q8_0 weights, got 33");
    CHECK(mm == NULL, "a failed init leaves *out NULL");
    params.type = 7;
    EXPECT_INVALID(vall_e_matmul_init(&params, weights, &mm), "for type, got 7");
    params.type = VALL_E_TYPE_F32;
    params.m    = 0;
    EXPECT_INVALID(vall_e_matmul_init(&params, weights, &mm), "Expected an integer from 1 to 16777216 for m, got 0");
    params.m = 32;
    EXPECT_INVALID(vall_e_matmul_init(NULL, weights, &mm), "must not be NULL");
    EXPECT_INVALID(vall_e_matmul_init(&params, NULL, &mm), "must not be NULL");
    params.k = 32;
    CHECK(vall_e_matmul_init(&params, weights, &mm) == VALL_E_OK, "matmul init: %s", vall_e_last_error());
    if (mm) {
        EXPECT_INVALID(vall_e_matmul_compute(mm, NULL, 1, out, 1), "must not be NULL");
        EXPECT_INVALID(vall_e_matmul_compute(mm, weights, 0, out, 1), "for n, got 0");
        EXPECT_INVALID(vall_e_matmul_compute(mm, weights, 1, out, -1),
                       "Expected a thread count from 0 to 512 for threads, got -1");
        EXPECT_INVALID(vall_e_matmul_compute(mm, weights, 1, out, 513), "got 513");
        vall_e_matmul_free(mm);
    }

    unsigned char packed[64];
    size_t        written = 0;
    EXPECT_INVALID(vall_e_quantize(99, weights, 1, 32, packed, sizeof(packed), &written), "Expected a ggml type");
    EXPECT_INVALID(vall_e_quantize(8, weights, 1, 33, packed, sizeof(packed), &written),
                   "Expected rows of a multiple of 32 values for q8_0, got 33");
    EXPECT_INVALID(vall_e_quantize(0, weights, 1, 32, packed, 16, &written), "128 bytes needed, 16 given");
    EXPECT_INVALID(vall_e_quantize(8, NULL, 1, 32, packed, sizeof(packed), &written), "must not be NULL");
    CHECK(vall_e_quantize(8, weights, 1, 32, packed, sizeof(packed), &written) == VALL_E_OK && written == 34,
          "q8_0 of 32 values: %zu bytes (%s)", written, vall_e_last_error());

    double seconds = 0.0;
    EXPECT_INVALID(vall_e_bench_vector_add(1, 1, 1, &seconds), "for n_bytes, got 1");
    EXPECT_INVALID(vall_e_bench_vector_add(4096, 1, 0, &seconds), "for n_iter, got 0");
    EXPECT_INVALID(vall_e_bench_vector_add(4096, 600, 1, &seconds), "for threads, got 600");
}

/* ---- the last error belongs to the calling thread ---------------------------------------------------------- */

typedef struct thread_error {
    char          before[256]; /* a fresh thread's last error */
    char          after[256];  /* after a failure of its own */
    vall_e_status status;
} thread_error;

static void * fail_on_another_thread(void * data) {
    thread_error *       t      = data;
    float                weight = 0.0f;
    vall_e_matmul *      mm     = NULL;
    vall_e_matmul_params params = vall_e_matmul_default_params();
    snprintf(t->before, sizeof(t->before), "%s", vall_e_last_error());
    params.m  = 0;
    t->status = vall_e_matmul_init(&params, &weight, &mm);
    snprintf(t->after, sizeof(t->after), "%s", vall_e_last_error());
    return NULL;
}

static void check_last_error_per_thread(void) {
    EXPECT_INVALID(vall_e_lm_context_init(NULL, NULL, NULL), "vall_e_lm_context_init: arguments must not be NULL");
    thread_error t;
    pthread_t    thread;
    memset(&t, 0, sizeof(t));
    CHECK(pthread_create(&thread, NULL, fail_on_another_thread, &t) == 0, "thread");
    pthread_join(thread, NULL);
    CHECK(t.before[0] == '\0', "a new thread's last error is \"%s\", expected \"\"", t.before);
    CHECK(t.status == VALL_E_ERR_INVALID_ARGUMENT && strstr(t.after, "for m, got 0") != NULL,
          "the other thread's failure: %s \"%s\"", vall_e_status_name(t.status), t.after);
    CHECK(strcmp(vall_e_last_error(), "vall_e_lm_context_init: arguments must not be NULL") == 0,
          "this thread's last error changed to \"%s\" by another thread's failure", vall_e_last_error());
}

/* ---- the LM ----------------------------------------------------------------------------------------------- */

typedef struct lm_cases {
    vall_e_lm_sequence forward[2], prefill, step;
    int32_t            head_start, head_end, n_ctx, threads;
} lm_cases;

static size_t n_logits(const vall_e_lm_sequence * s, int n, const lm_cases * lc) {
    size_t rows = 0;
    for (int i = 0; i < n; ++i) rows += (size_t) s[i].n_outputs;
    return rows * (size_t) (lc->head_end - lc->head_start);
}

static vall_e_lm_context * lm_context(vall_e_lm * lm, int32_t n_ctx, int32_t threads, int32_t cache_type,
                                      const volatile int32_t * cancel) {
    vall_e_lm_context_params params = vall_e_lm_context_default_params();
    vall_e_lm_context *      ctx    = NULL;
    params.n_ctx                    = n_ctx;
    params.n_threads                = threads;
    params.cache_type               = cache_type;
    params.cancel                   = cancel;
    CHECK(vall_e_lm_context_init(lm, &params, &ctx) == VALL_E_OK && ctx, "context init: %s", vall_e_last_error());
    return ctx;
}

/* A forward, a prefill and one step, each against the TypeScript path; the step again on a copied cache. */
static void check_lm_values(vall_e_lm * lm, const cases * c, const lm_cases * lc) {
    vall_e_lm_context * ctx  = lm_context(lm, lc->n_ctx, lc->threads, 1, NULL);
    vall_e_lm_context * copy = lm_context(lm, lc->n_ctx, lc->threads, 1, NULL);
    float *             logits = malloc(sizeof(float) * n_logits(lc->forward, 2, lc));
    if (ctx && copy && logits) {
        size_t n = n_logits(lc->forward, 2, lc);
        CHECK(vall_e_lm_forward(ctx, lc->forward, 2, lc->head_start, lc->head_end, logits) == VALL_E_OK, "forward: %s",
              vall_e_last_error());
        check_close(c, "lm.forward.logits", logits, n, 1e-5);
        CHECK(vall_e_lm_cache_length(ctx) == 0, "a forward leaves the cache empty, got %d",
              vall_e_lm_cache_length(ctx));
        // Copying an empty cache (neither context has allocated one yet) copies nothing.
        CHECK(vall_e_lm_cache_copy(copy, ctx) == VALL_E_OK, "empty cache copy: %s", vall_e_last_error());
        CHECK(vall_e_lm_cache_length(copy) == 0, "an empty copy leaves length %d", vall_e_lm_cache_length(copy));

        n = n_logits(&lc->prefill, 1, lc);
        CHECK(vall_e_lm_cache_append(ctx, &lc->prefill, lc->head_start, lc->head_end, logits) == VALL_E_OK,
              "prefill: %s", vall_e_last_error());
        check_close(c, "lm.prefill.logits", logits, n, 1e-5);
        CHECK(vall_e_lm_cache_length(ctx) == lc->prefill.n_tokens, "cache length %d after the prefill",
              vall_e_lm_cache_length(ctx));

        CHECK(vall_e_lm_cache_copy(copy, ctx) == VALL_E_OK, "cache copy: %s", vall_e_last_error());
        CHECK(vall_e_lm_cache_length(copy) == lc->prefill.n_tokens, "copied cache length %d",
              vall_e_lm_cache_length(copy));
        n = n_logits(&lc->step, 1, lc);
        for (int i = 0; i < 2; ++i) {
            vall_e_lm_context * on = i == 0 ? ctx : copy;
            CHECK(vall_e_lm_cache_append(on, &lc->step, lc->head_start, lc->head_end, logits) == VALL_E_OK,
                  "step %d: %s", i, vall_e_last_error());
            check_close(c, "lm.step.logits", logits, n, 1e-5);
            CHECK(vall_e_lm_cache_length(on) == lc->prefill.n_tokens + lc->step.n_tokens,
                  "cache length %d after the step", vall_e_lm_cache_length(on));
        }
        vall_e_lm_cache_clear(copy);
        CHECK(vall_e_lm_cache_length(copy) == 0, "cache length %d after clear", vall_e_lm_cache_length(copy));
    }
    free(logits);
    vall_e_lm_context_free(ctx);
    vall_e_lm_context_free(copy);
}

/* A cancel flag set before the calls: CANCELLED, the cache unchanged; cleared, the context computes as before. */
static void check_lm_cancel(vall_e_lm * lm, const cases * c, const lm_cases * lc) {
    volatile int32_t    cancel = 1;
    vall_e_lm_context * ctx    = lm_context(lm, lc->n_ctx, lc->threads, 1, &cancel);
    float *             logits = malloc(sizeof(float) * n_logits(lc->forward, 2, lc));
    if (ctx && logits) {
        EXPECT_STATUS(vall_e_lm_forward(ctx, lc->forward, 2, lc->head_start, lc->head_end, logits),
                      VALL_E_ERR_CANCELLED, "cancelled");
        EXPECT_STATUS(vall_e_lm_cache_append(ctx, &lc->prefill, lc->head_start, lc->head_end, logits),
                      VALL_E_ERR_CANCELLED, "cancelled");
        CHECK(vall_e_lm_cache_length(ctx) == 0, "a cancelled append left %d tokens in the cache",
              vall_e_lm_cache_length(ctx));
        cancel = 0;
        CHECK(vall_e_lm_forward(ctx, lc->forward, 2, lc->head_start, lc->head_end, logits) == VALL_E_OK,
              "forward after a cancelled one: %s", vall_e_last_error());
        check_close(c, "lm.forward.logits", logits, n_logits(lc->forward, 2, lc), 1e-5);
    }
    free(logits);
    vall_e_lm_context_free(ctx);
}

/* Model files that must not load: missing, empty, not a GGUF, cut short, another architecture. */
static void check_lm_files(const char * path, const char * scratch) {
    char                   bad[1024];
    vall_e_lm *            lm     = (vall_e_lm *) &bad; /* any non-NULL value: a failed load must reset it */
    const vall_e_lm_params params = vall_e_lm_default_params();
    size_t                 size   = 0;
    unsigned char *        bytes  = read_file(path, &size);
    CHECK(bytes && size > 8192, "could not read %s", path);
    if (!bytes) return;

    EXPECT_INVALID(vall_e_lm_load(NULL, &params, &lm), "vall_e_lm_load: path and out must not be NULL");
    EXPECT_INVALID(vall_e_lm_load(path, &params, NULL), "vall_e_lm_load: path and out must not be NULL");

    snprintf(bad, sizeof(bad), "%s/missing.gguf", scratch);
    EXPECT_INVALID(vall_e_lm_load(bad, &params, &lm), bad);
    CHECK(lm == NULL, "a failed load leaves *out NULL");
    CHECK(strstr(vall_e_last_error(), "No such file") != NULL, "message: %s", vall_e_last_error());

    snprintf(bad, sizeof(bad), "%s/empty.gguf", scratch);
    write_file(bad, "", 0);
    EXPECT_INVALID(vall_e_lm_load(bad, &params, &lm), "empty.gguf is empty or unreadable");

    snprintf(bad, sizeof(bad), "%s/garbage.gguf", scratch);
    write_file(bad, "this is not a model, just some text", 35);
    EXPECT_INVALID(vall_e_lm_load(bad, &params, &lm), "garbage.gguf is not a GGUF file (no GGUF magic)");

    const int logged = atomic_load(&g_log_lines);
    snprintf(bad, sizeof(bad), "%s/truncated-header.gguf", scratch);
    write_file(bad, bytes, 200);
    EXPECT_INVALID(vall_e_lm_load(bad, &params, &lm), "truncated-header.gguf is not a readable GGUF file");
    CHECK(atomic_load(&g_log_lines) > logged, "ggml's reasons for refusing the header reach the log callback");

    snprintf(bad, sizeof(bad), "%s/truncated-data.gguf", scratch);
    write_file(bad, bytes, size - 4096);
    EXPECT_INVALID(vall_e_lm_load(bad, &params, &lm), "truncated-data.gguf is truncated: tensor");

    /* The first "llama" in the file is general.architecture's value (its keys come after it). */
    for (size_t i = 0; i + 5 <= size; ++i) {
        if (memcmp(bytes + i, "llama", 5) == 0) {
            memcpy(bytes + i, "gpt2x", 5);
            break;
        }
    }
    snprintf(bad, sizeof(bad), "%s/other-architecture.gguf", scratch);
    write_file(bad, bytes, size);
    EXPECT_INVALID(vall_e_lm_load(bad, &params, &lm), "architecture is \"gpt2x\", expected \"llama\"");
    free(bytes);

    vall_e_lm_params wrong = params;
    wrong.activation       = 7;
    EXPECT_INVALID(vall_e_lm_load(path, &wrong, &lm), "Expected 0 (gelu) or 1 (silu) for activation, got 7");
    wrong             = params;
    wrong.head_biases = 2;
    EXPECT_INVALID(vall_e_lm_load(path, &wrong, &lm), "Expected 0 or 1 for head_biases, got 2");
    wrong        = params;
    wrong.device = -2;
    EXPECT_INVALID(vall_e_lm_load(path, &wrong, &lm), "Expected -1 (the CPU) or a device index for device, got -2");
    wrong.device = vall_e_device_count();
    EXPECT_INVALID(vall_e_lm_load(path, &wrong, &lm), "Expected a device index from 0 to");
    CHECK(lm == NULL, "a failed load leaves *out NULL");
}

/* Contexts and evaluations with arguments out of their domain. The messages name the sizes of the cases
 * (test/c-api-cases.ts): vocabulary 384, head [100, 300), 6 tokens in the first forward sequence, 7 in the prefill,
 * contexts of 64. */
static void check_lm_arguments(vall_e_lm * lm, const char * path, const lm_cases * lc) {
    vall_e_lm_info info;
    vall_e_lm_get_info(lm, &info);
    const int32_t            V      = info.n_vocab;
    vall_e_lm_context_params params = vall_e_lm_context_default_params();
    vall_e_lm_context *      bad    = (vall_e_lm_context *) &params; /* a failed init must reset it */
    params.n_ctx                    = lc->n_ctx;
    params.n_threads                = lc->threads;
    EXPECT_INVALID(vall_e_lm_context_init(NULL, &params, &bad), "must not be NULL");
    EXPECT_INVALID(vall_e_lm_context_init(lm, NULL, &bad), "must not be NULL");
    params.n_ctx = 0;
    EXPECT_INVALID(vall_e_lm_context_init(lm, &params, &bad), "Expected from 1 to 1048576 for n_ctx, got 0");
    CHECK(bad == NULL, "a failed context init leaves *out NULL");
    params.n_ctx     = (1 << 20) + 1;
    EXPECT_INVALID(vall_e_lm_context_init(lm, &params, &bad), "for n_ctx, got 1048577");
    params.n_ctx     = lc->n_ctx;
    params.n_threads = -1;
    EXPECT_INVALID(vall_e_lm_context_init(lm, &params, &bad),
                   "Expected a thread count from 0 to 512 for threads, got -1");
    params.n_threads = 513;
    EXPECT_INVALID(vall_e_lm_context_init(lm, &params, &bad), "for threads, got 513");
    params.n_threads  = lc->threads;
    params.cache_type = 2;
    EXPECT_INVALID(vall_e_lm_context_init(lm, &params, &bad), "Expected 0 (f32) or 1 (f16) for cache_type, got 2");

    vall_e_lm_context * ctx    = lm_context(lm, lc->n_ctx, lc->threads, 1, NULL);
    const int32_t       hs     = lc->head_start, he = lc->head_end;
    float *             logits = malloc(sizeof(float) * (size_t) V * 128);
    if (ctx && logits) {
        EXPECT_INVALID(vall_e_lm_forward(NULL, lc->forward, 2, hs, he, logits), "must not be NULL");
        EXPECT_INVALID(vall_e_lm_forward(ctx, NULL, 2, hs, he, logits), "must not be NULL");
        EXPECT_INVALID(vall_e_lm_forward(ctx, lc->forward, 2, hs, he, NULL), "must not be NULL");
        EXPECT_INVALID(vall_e_lm_forward(ctx, lc->forward, 0, hs, he, logits),
                       "Expected from 1 to 64 sequences, got 0");
        EXPECT_INVALID(vall_e_lm_forward(ctx, lc->forward, 65, hs, he, logits),
                       "Expected from 1 to 64 sequences, got 65");
        EXPECT_INVALID(vall_e_lm_forward(ctx, lc->forward, 2, -1, he, logits),
                       "Expected a head range within [0, 384), got [-1,");
        EXPECT_INVALID(vall_e_lm_forward(ctx, lc->forward, 2, hs, V + 1, logits), "got [100, 385)");
        EXPECT_INVALID(vall_e_lm_forward(ctx, lc->forward, 2, hs, hs, logits), "got [100, 100)");

        /* one broken field at a time, in a copy of a good sequence */
        const vall_e_lm_sequence good = lc->forward[0];
        vall_e_lm_sequence       s;
        int32_t                  offsets[70], rows[70], positions[70];
        memcpy(offsets, good.row_offsets, sizeof(int32_t) * (size_t) (good.n_tokens + 1));
        memcpy(rows, good.row_ids, sizeof(int32_t) * (size_t) good.row_offsets[good.n_tokens]);
        memcpy(positions, good.positions, sizeof(int32_t) * (size_t) good.n_tokens);
#define WITH(field, value, needle)                                            \
    do {                                                                      \
        s             = good;                                                 \
        s.row_offsets = offsets;                                              \
        s.row_ids     = rows;                                                 \
        s.positions   = positions;                                            \
        s.field       = value;                                                \
        EXPECT_INVALID(vall_e_lm_forward(ctx, &s, 1, hs, he, logits), needle); \
    } while (0)
        WITH(n_tokens, 0, "sequence 0: Expected at least 1 token, got 0");
        WITH(n_tokens, (1 << 20) + 1, "got 1048577"); /* refused before any of its rows is read */
        WITH(row_offsets, NULL, "sequence 0: row_offsets, row_ids and positions must not be NULL");
        WITH(row_ids, NULL, "must not be NULL");
        WITH(positions, NULL, "must not be NULL");
        WITH(n_outputs, 0, "sequence 0: Expected from 1 to 6 outputs, got 0");
        WITH(n_outputs, good.n_tokens + 1, "Expected from 1 to 6 outputs, got 7");
#undef WITH
        s = good;
        s.row_offsets = offsets;
        s.row_ids     = rows;
        s.positions   = positions;
        offsets[0]    = 1;
        EXPECT_INVALID(vall_e_lm_forward(ctx, &s, 1, hs, he, logits), "sequence 0: row_offsets must start at 0");
        offsets[0] = 0;
        const int32_t saved = offsets[2];
        offsets[2]          = offsets[1]; /* token 1 sums no rows */
        EXPECT_INVALID(vall_e_lm_forward(ctx, &s, 1, hs, he, logits), "token 1 must sum 1 to 64 embedding rows");
        offsets[2] = saved;
        rows[0]    = -1;
        EXPECT_INVALID(vall_e_lm_forward(ctx, &s, 1, hs, he, logits),
                       "Expected embedding rows from 0 to 383, got -1 at token 0");
        rows[0] = V;
        EXPECT_INVALID(vall_e_lm_forward(ctx, &s, 1, hs, he, logits), "got 384 at token 0");
        rows[0]      = good.row_ids[0];
        positions[3] = -1;
        EXPECT_INVALID(vall_e_lm_forward(ctx, &s, 1, hs, he, logits),
                       "Expected positions from 0 to 16777216, got -1 at token 3");
        positions[3] = (1 << 24) + 1;
        EXPECT_INVALID(vall_e_lm_forward(ctx, &s, 1, hs, he, logits), "got 16777217 at token 3");
        positions[3] = good.positions[3];

        /* 65 one-row tokens: more rows than a token may sum, and more tokens than the context holds */
        for (int i = 0; i < 70; ++i) {
            offsets[i]   = i;
            rows[i]      = i;
            positions[i] = i;
        }
        vall_e_lm_sequence many = {65, offsets, rows, positions, 1, 1};
        EXPECT_INVALID(vall_e_lm_forward(ctx, &many, 1, hs, he, logits),
                       "The sequences hold 65 tokens, more than the context size 64");
        EXPECT_INVALID(vall_e_lm_cache_append(ctx, &many, hs, he, logits),
                       "The cache holds 0 tokens; 65 more exceed the context size 64");
        const int32_t wide[2] = {0, 65};
        vall_e_lm_sequence one = {1, wide, rows, positions, 1, 1};
        EXPECT_INVALID(vall_e_lm_forward(ctx, &one, 1, hs, he, logits), "token 0 must sum 1 to 64 embedding rows");
        EXPECT_INVALID(vall_e_lm_cache_append(NULL, &lc->step, hs, he, logits), "must not be NULL");
        EXPECT_INVALID(vall_e_lm_cache_append(ctx, &lc->step, hs, 0, logits), "Expected a head range");

        /* cache copies: another model's context, another cache type, a destination too small */
        vall_e_lm *            other        = NULL;
        const vall_e_lm_params model_params = vall_e_lm_default_params();
        CHECK(vall_e_lm_load(path, &model_params, &other) == VALL_E_OK, "second load: %s", vall_e_last_error());
        vall_e_lm_context * foreign = other ? lm_context(other, lc->n_ctx, lc->threads, 1, NULL) : NULL;
        vall_e_lm_context * f32     = lm_context(lm, lc->n_ctx, lc->threads, 0, NULL);
        vall_e_lm_context * small   = lm_context(lm, 4, lc->threads, 1, NULL);
        CHECK(vall_e_lm_cache_append(ctx, &lc->prefill, hs, he, logits) == VALL_E_OK, "prefill: %s",
              vall_e_last_error());
        EXPECT_INVALID(vall_e_lm_cache_copy(NULL, ctx), "must not be NULL");
        if (foreign && f32 && small) {
            EXPECT_INVALID(vall_e_lm_cache_copy(foreign, ctx),
                           "Cannot copy a cache between contexts of different models");
            EXPECT_INVALID(vall_e_lm_cache_copy(f32, ctx),
                           "Cannot copy a cache between contexts of different cache types");
            EXPECT_INVALID(vall_e_lm_cache_copy(small, ctx),
                           "The source cache holds 7 tokens, more than the context size 4");
        }
        const int32_t cached = vall_e_lm_cache_length(ctx);
        EXPECT_INVALID(vall_e_lm_cache_append(ctx, &many, hs, he, logits),
                       "The cache holds 7 tokens; 65 more exceed the context size 64");
        CHECK(vall_e_lm_cache_length(ctx) == cached, "a refused append changed the cache length");
        vall_e_lm_context_free(foreign);
        vall_e_lm_context_free(f32);
        vall_e_lm_context_free(small);
        vall_e_lm_free(other);
    }
    free(logits);
    vall_e_lm_context_free(ctx);
}

/* BUSY: one context, two threads. A worker runs long evaluations while this thread tries a short one until it finds
 * the context in use (each evaluation takes milliseconds, a try microseconds, so the first few tries meet it). */
typedef struct busy_worker {
    vall_e_lm_context *        ctx;
    const vall_e_lm_sequence * sequence;
    int32_t                    head_end;
    float *                    logits;
    atomic_int                 started, stop, done;
    int                        ok, busy, other;
} busy_worker;

static void * run_busy_worker(void * data) {
    busy_worker * w = data;
    atomic_store(&w->started, 1);
    for (int i = 0; i < 2000 && !atomic_load(&w->stop); ++i) {
        const vall_e_status status = vall_e_lm_forward(w->ctx, w->sequence, 1, 0, w->head_end, w->logits);
        if (status == VALL_E_OK) w->ok++;
        else if (status == VALL_E_ERR_BUSY) w->busy++; /* this thread's tries can hold it too */
        else w->other++;
    }
    atomic_store(&w->done, 1);
    return NULL;
}

static void check_lm_busy(vall_e_lm * lm, const lm_cases * lc) {
    enum { n = 256 };
    int32_t             offsets[n + 1], rows[n], positions[n];
    vall_e_lm_context * ctx = lm_context(lm, n, 1, 1, NULL);
    float *             logits = malloc(sizeof(float) * (size_t) lc->head_end * 2);
    for (int i = 0; i <= n; ++i) offsets[i] = i;
    for (int i = 0; i < n; ++i) {
        rows[i]      = (i * 37) % lc->head_end;
        positions[i] = i;
    }
    const vall_e_lm_sequence longer = {n, offsets, rows, positions, 0, 1};
    const vall_e_lm_sequence short1 = {1, offsets, rows, positions, 1, 1};
    if (!ctx || !logits) {
        free(logits);
        vall_e_lm_context_free(ctx);
        return;
    }
    busy_worker w;
    memset(&w, 0, sizeof(w));
    w.ctx      = ctx;
    w.sequence = &longer;
    w.head_end = lc->head_end;
    w.logits   = logits;
    atomic_init(&w.started, 0);
    atomic_init(&w.stop, 0);
    atomic_init(&w.done, 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, run_busy_worker, &w) == 0, "busy worker thread");
    while (!atomic_load(&w.started)) sched_yield();
    float         mine[1024];
    vall_e_status status = VALL_E_OK;
    while (!atomic_load(&w.done)) {
        prime_last_error();
        status = vall_e_lm_forward(ctx, &short1, 1, 0, lc->head_end, mine);
        if (status != VALL_E_OK) break;
    }
    expect_status(status, VALL_E_ERR_BUSY, "this LM context is already running an operation",
                  "vall_e_lm_forward on a context another thread is evaluating on", __LINE__);
    atomic_store(&w.stop, 1);
    pthread_join(thread, NULL);
    CHECK(w.other == 0 && w.ok >= 1, "busy worker: %d evaluations, %d busy, %d other failures", w.ok, w.busy, w.other);
    free(logits);
    vall_e_lm_context_free(ctx);
}

/* OUT_OF_MEMORY, provoked safely: an address-space limit 64 MiB above what the process maps now, around the first
 * cached call of a context whose f32 KV cache of 2^20 tokens needs 256 MiB (2 layers × K and V × 16 values × 4 bytes
 * × 2^20) — the init allocates no cache, the first call that writes it does — then the old limit back. Skipped where the limit would break the tool the program runs under (sanitizers reserve terabytes
 * of shadow memory; valgrind allocates inside the client's address space). */
static const char * out_of_memory_unsafe(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return "a sanitizer";
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
    return "a sanitizer";
#  endif
#endif
    const char * preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) return "valgrind";
    return NULL;
}

static int g_oom_skipped = 0;

static void check_lm_out_of_memory(vall_e_lm * lm) {
    const char * unsafe = out_of_memory_unsafe();
    if (unsafe) {
        printf("c-api-test: OUT_OF_MEMORY not provoked under %s\n", unsafe);
        g_oom_skipped = 1;
        return;
    }
    unsigned long long pages = 0;
    FILE *             statm = fopen("/proc/self/statm", "r");
    const int          known = statm && fscanf(statm, "%llu", &pages) == 1;
    if (statm) fclose(statm);
    struct rlimit old;
    CHECK(known && getrlimit(RLIMIT_AS, &old) == 0, "could not read the address space size or limit");
    if (!known) return;
    const rlim_t limit = (rlim_t) (pages * (unsigned long long) sysconf(_SC_PAGESIZE)) + ((rlim_t) 64 << 20);
    if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur <= limit) {
        printf("c-api-test: OUT_OF_MEMORY not provoked: the address space is already limited\n");
        g_oom_skipped = 1;
        return;
    }
    vall_e_lm_context_params params = vall_e_lm_context_default_params();
    vall_e_lm_context *      ctx    = NULL;
    params.n_ctx                    = 1 << 20;
    params.n_threads                = 1;
    params.cache_type               = 0;
    struct rlimit tight             = old;
    tight.rlim_cur                  = limit;
    const int32_t      offsets[2]   = {0, 1};
    const int32_t      ids[1]       = {0};
    const int32_t      positions[1] = {0};
    vall_e_lm_sequence one          = {1, offsets, ids, positions, 1, 1};
    float              logit[1]     = {0};
    prime_last_error();
    CHECK(setrlimit(RLIMIT_AS, &tight) == 0, "setrlimit");
    const vall_e_status init = vall_e_lm_context_init(lm, &params, &ctx);
    const vall_e_status forward =
        init == VALL_E_OK ? vall_e_lm_forward(ctx, &one, 1, 0, 1, logit) : init;
    const vall_e_status status = init == VALL_E_OK ? vall_e_lm_cache_append(ctx, &one, 0, 1, logit) : init;
    CHECK(setrlimit(RLIMIT_AS, &old) == 0, "could not restore the address space limit");
    CHECK(init == VALL_E_OK, "a context of 2^20 f32 tokens inits without its cache under a 64 MiB headroom: %d", init);
    CHECK(forward == VALL_E_OK, "a context without its cache evaluates without it under the headroom: %d", forward);
    expect_status(status, VALL_E_ERR_OUT_OF_MEMORY, "could not allocate a KV cache of 1048576 tokens",
                  "the first vall_e_lm_cache_append of a 2^20 f32-token context under a 64 MiB headroom", __LINE__);
    CHECK(vall_e_lm_cache_length(ctx) == 0, "a failed append leaves the cache empty");
    if (init == VALL_E_OK) { // with the limit lifted, the next append allocates the cache afresh
        CHECK(vall_e_lm_cache_append(ctx, &one, 0, 1, logit) == VALL_E_OK, "append after the failure: %s",
              vall_e_last_error());
        CHECK(vall_e_lm_cache_length(ctx) == 1, "one token cached after the retry, got %d", vall_e_lm_cache_length(ctx));
    }
    vall_e_lm_context_free(ctx);
}

static void check_lm(const char * path, const char * scratch, const cases * c) {
    lm_cases lc;
    memset(&lc, 0, sizeof(lc));
    lc.threads    = case_i32(c, "params", 0);
    lc.n_ctx      = case_i32(c, "params", 2);
    lc.head_start = case_i32(c, "lm.head", 0);
    lc.head_end   = case_i32(c, "lm.head", 1);
    if (!case_sequence(c, "lm.forward.0", &lc.forward[0]) || !case_sequence(c, "lm.forward.1", &lc.forward[1]) ||
        !case_sequence(c, "lm.prefill", &lc.prefill) || !case_sequence(c, "lm.step", &lc.step)) {
        return;
    }

    vall_e_lm *            lm     = NULL;
    const vall_e_lm_params params = vall_e_lm_default_params();
    CHECK(vall_e_lm_load(path, &params, &lm) == VALL_E_OK && lm, "load %s: %s", path, vall_e_last_error());
    if (!lm) return;
    vall_e_lm_info info;
    vall_e_lm_get_info(lm, &info);
    const int32_t got[8] = {info.n_embd, info.n_layer, info.n_head, info.n_head_kv, info.n_ff,
                            info.n_vocab, info.n_ctx_train, info.has_output_bias};
    for (uint32_t i = 0; i < 8; ++i) {
        CHECK(got[i] == case_i32(c, "lm.info", i), "lm info field %u: %d, the TypeScript path %d", i, got[i],
              case_i32(c, "lm.info", i));
    }
    CHECK(info.weight_type == 0 && info.file_bytes > 0 && info.weight_bytes > 0 && info.rms_eps > 0.0f &&
              info.rope_theta == 10000.0f,
          "lm info: type %d, %lld file bytes, %lld weight bytes", info.weight_type, (long long) info.file_bytes,
          (long long) info.weight_bytes);

    RUN(check_lm_values(lm, c, &lc));
    RUN(check_lm_cancel(lm, c, &lc));
    RUN(check_lm_files(path, scratch));
    RUN(check_lm_arguments(lm, path, &lc));
    RUN(check_lm_busy(lm, &lc));
    RUN(check_lm_out_of_memory(lm));
    vall_e_lm_free(lm);
}

/* ---- the codec -------------------------------------------------------------------------------------------- */

static void check_codec_files(const char * path, const char * scratch) {
    char            bad[1024];
    vall_e_codec *  codec = (vall_e_codec *) &bad;
    size_t          size  = 0;
    unsigned char * bytes = read_file(path, &size);
    CHECK(bytes && size > 4096, "could not read %s", path);
    if (!bytes) return;
    EXPECT_INVALID(vall_e_codec_init(NULL, &codec), "vall_e_codec_init: path and out must not be NULL");
    EXPECT_INVALID(vall_e_codec_init(path, NULL), "vall_e_codec_init: path and out must not be NULL");

    snprintf(bad, sizeof(bad), "%s/missing-encodec.bin", scratch);
    EXPECT_INVALID(vall_e_codec_init(bad, &codec), bad);
    CHECK(codec == NULL, "a failed init leaves *out NULL");
    CHECK(strstr(vall_e_last_error(), "Cannot open EnCodec weights") != NULL, "message: %s", vall_e_last_error());

    snprintf(bad, sizeof(bad), "%s/empty-encodec.bin", scratch);
    write_file(bad, "", 0);
    EXPECT_INVALID(vall_e_codec_init(bad, &codec), "are truncated: the magic number needs 4 bytes at offset 0, 0 left");

    snprintf(bad, sizeof(bad), "%s/garbage-encodec.bin", scratch);
    write_file(bad, "this is not a model, just some text", 35);
    EXPECT_INVALID(vall_e_codec_init(bad, &codec), "garbage-encodec.bin is not an EnCodec ggml weight file");

    snprintf(bad, sizeof(bad), "%s/truncated-encodec.bin", scratch);
    write_file(bad, bytes, size / 2);
    EXPECT_INVALID(vall_e_codec_init(bad, &codec), "truncated-encodec.bin are truncated: the data of tensor");

    const int32_t rate = 16000; /* the header's 8th field after the magic: sample_rate */
    memcpy(bytes + 4 * 8, &rate, 4);
    snprintf(bad, sizeof(bad), "%s/wrong-rate-encodec.bin", scratch);
    write_file(bad, bytes, size);
    EXPECT_INVALID(vall_e_codec_init(bad, &codec), "header field sample_rate is 16000, expected 24000");
    free(bytes);

    /* A device index that is not one (checked before the file is read); -1 is the CPU, as vall_e_codec_init. */
    EXPECT_INVALID(vall_e_codec_init_device(path, -2, &codec), "Expected -1 (the CPU) or a device index for device, got -2");
    EXPECT_INVALID(vall_e_codec_init_device(path, vall_e_device_count(), &codec), "Expected a device index from 0 to");
    CHECK(vall_e_codec_init_device(path, -1, &codec) == VALL_E_OK && codec, "init on device -1: %s", vall_e_last_error());
    vall_e_codec_info info;
    vall_e_codec_get_info(codec, &info);
    CHECK(info.device == -1, "the CPU codec's device is %d", info.device);
    vall_e_codec_free(codec);
    codec = NULL;
}

static void check_codec(const char * path, const char * scratch, const cases * c) {
    vall_e_codec * codec = NULL;
    CHECK(vall_e_codec_init(path, &codec) == VALL_E_OK && codec, "codec init %s: %s", path, vall_e_last_error());
    if (!codec) return;
    vall_e_codec_info info;
    vall_e_codec_get_info(codec, &info);
    const int32_t got[7] = {info.sample_rate, info.hop_length, info.hidden_dim, info.n_filters,
                            info.n_bins,      info.n_codebooks, info.weight_type};
    for (uint32_t i = 0; i < 7; ++i) {
        CHECK(got[i] == case_i32(c, "codec.info", i), "codec info field %u: %d, the TypeScript path %d", i, got[i],
              case_i32(c, "codec.info", i));
    }

    vall_e_codec_params params = vall_e_codec_default_params();
    params.n_threads           = case_i32(c, "params", 0);
    params.chunk_frames        = case_i32(c, "params", 1);
    const int32_t   codebooks  = case_i32(c, "codec.decode.shape", 0);
    const int64_t   frames     = case_i32(c, "codec.decode.shape", 1);
    uint32_t        n_codes = 0, n_samples = 0;
    const int16_t * codes   = case_get(c, "codec.decode.codes", CASE_I16, &n_codes);
    const float *   samples = case_get(c, "codec.encode.samples", CASE_F32, &n_samples);
    const int32_t   enc_books   = case_i32(c, "codec.encode.codebooks", 0);
    const int64_t   enc_frames  = ((int64_t) n_samples + info.hop_length - 1) / info.hop_length;
    float *         audio       = malloc(sizeof(float) * (size_t) (frames * info.hop_length));
    int16_t *       encoded     = malloc(sizeof(int16_t) * (size_t) (enc_books * enc_frames));
    float *         latent      = malloc(sizeof(float) * (size_t) (enc_frames * info.hidden_dim));
    if (codes && samples && codebooks <= 32 && n_codes == (uint32_t) (codebooks * frames) && audio && encoded &&
        latent) {
        CHECK(vall_e_codec_decode(codec, codes, codebooks, frames, &params, audio) == VALL_E_OK, "decode: %s",
              vall_e_last_error());
        check_close(c, "codec.decode.samples", audio, (size_t) (frames * info.hop_length), 1e-5);
        CHECK(vall_e_codec_encode(codec, samples, n_samples, enc_books, &params, encoded) == VALL_E_OK, "encode: %s",
              vall_e_last_error());
        check_codes_equal(c, "codec.encode.codes", encoded, (size_t) (enc_books * enc_frames));
        CHECK(vall_e_codec_encode_latent(codec, samples, n_samples, &params, latent) == VALL_E_OK, "latent: %s",
              vall_e_last_error());
        check_close(c, "codec.encode.latent", latent, (size_t) (enc_frames * info.hidden_dim), 1e-5);
        /* NULL params: the defaults (one chunk, the default threads); one frame, the first of each codebook */
        int16_t first[32];
        for (int32_t q = 0; q < codebooks; ++q) first[q] = codes[q * frames];
        CHECK(vall_e_codec_decode(codec, first, codebooks, 1, NULL, audio) == VALL_E_OK, "decode: %s",
              vall_e_last_error());

        /* a cancel flag set before each call; cleared, the codec decodes as before */
        volatile int32_t    cancel    = 1;
        vall_e_codec_params cancelled = params;
        cancelled.cancel              = &cancel;
        EXPECT_STATUS(vall_e_codec_decode(codec, codes, codebooks, frames, &cancelled, audio), VALL_E_ERR_CANCELLED,
                      "cancelled");
        EXPECT_STATUS(vall_e_codec_encode(codec, samples, n_samples, enc_books, &cancelled, encoded),
                      VALL_E_ERR_CANCELLED, "cancelled");
        EXPECT_STATUS(vall_e_codec_encode_latent(codec, samples, n_samples, &cancelled, latent), VALL_E_ERR_CANCELLED,
                      "cancelled");
        cancel = 0;
        CHECK(vall_e_codec_decode(codec, codes, codebooks, frames, &cancelled, audio) == VALL_E_OK,
              "decode after cancelled calls: %s", vall_e_last_error());
        check_close(c, "codec.decode.samples", audio, (size_t) (frames * info.hop_length), 1e-5);

        /* arguments out of their domain */
        int16_t * wrong = malloc(sizeof(int16_t) * n_codes);
        float *   noisy = malloc(sizeof(float) * n_samples);
        if (wrong && noisy) {
            memcpy(wrong, codes, sizeof(int16_t) * n_codes);
            memcpy(noisy, samples, sizeof(float) * n_samples);
            EXPECT_INVALID(vall_e_codec_decode(NULL, codes, codebooks, frames, &params, audio), "must not be NULL");
            EXPECT_INVALID(vall_e_codec_decode(codec, NULL, codebooks, frames, &params, audio), "must not be NULL");
            EXPECT_INVALID(vall_e_codec_decode(codec, codes, codebooks, frames, &params, NULL), "must not be NULL");
            EXPECT_INVALID(vall_e_codec_decode(codec, codes, 0, frames, &params, audio),
                           "Expected from 1 to 32 codebooks for n_codebooks, got 0");
            EXPECT_INVALID(vall_e_codec_decode(codec, codes, 33, frames, &params, audio), "got 33");
            EXPECT_INVALID(vall_e_codec_decode(codec, codes, codebooks, 0, &params, audio),
                           "Expected at least 1 frame for n_frames, got 0");
            EXPECT_INVALID(vall_e_codec_decode(codec, codes, codebooks, ((int64_t) 1 << 26) + 1, &params, audio),
                           "for n_frames, got 67108865");
            wrong[2 * frames + 3] = (int16_t) info.n_bins;
            EXPECT_INVALID(vall_e_codec_decode(codec, wrong, codebooks, frames, &params, audio),
                           "Expected codes from 0 to 15, got 16 at codebook 2, frame 3");
            wrong[2 * frames + 3] = -1;
            EXPECT_INVALID(vall_e_codec_decode(codec, wrong, codebooks, frames, &params, audio),
                           "got -1 at codebook 2, frame 3");

            EXPECT_INVALID(vall_e_codec_encode(codec, NULL, n_samples, enc_books, &params, encoded),
                           "must not be NULL");
            EXPECT_INVALID(vall_e_codec_encode(codec, samples, 0, enc_books, &params, encoded),
                           "Expected at least 1 sample for samples, got 0");
            EXPECT_INVALID(vall_e_codec_encode(codec, samples, ((int64_t) 1 << 34) + 1, enc_books, &params, encoded),
                           "for samples, got 17179869185");
            EXPECT_INVALID(vall_e_codec_encode(codec, samples, n_samples, 0, &params, encoded),
                           "for n_codebooks, got 0");
            EXPECT_INVALID(vall_e_codec_encode(codec, samples, n_samples, 33, &params, encoded),
                           "for n_codebooks, got 33");
            noisy[5] = NAN;
            EXPECT_INVALID(vall_e_codec_encode(codec, noisy, n_samples, enc_books, &params, encoded),
                           "Expected finite samples, got nan at sample 5");
            noisy[5] = INFINITY;
            EXPECT_INVALID(vall_e_codec_encode_latent(codec, noisy, n_samples, &params, latent), "got inf at sample 5");
            EXPECT_INVALID(vall_e_codec_encode_latent(codec, samples, n_samples, &params, NULL), "must not be NULL");

            vall_e_codec_params p = params;
            p.chunk_frames        = 3;
            EXPECT_INVALID(vall_e_codec_decode(codec, codes, codebooks, frames, &p, audio),
                           "Expected 0 (default) or from 8 to 1048576 for chunk_frames, got 3");
            p.chunk_frames = -1;
            EXPECT_INVALID(vall_e_codec_encode(codec, samples, n_samples, enc_books, &p, encoded),
                           "for chunk_frames, got -1");
            p           = params;
            p.n_threads = -1;
            EXPECT_INVALID(vall_e_codec_decode(codec, codes, codebooks, frames, &p, audio),
                           "Expected a thread count from 0 to 512 for threads, got -1");
            p.n_threads = 513;
            EXPECT_INVALID(vall_e_codec_encode_latent(codec, samples, n_samples, &p, latent), "for threads, got 513");
        }
        free(wrong);
        free(noisy);
    }
    free(audio);
    free(encoded);
    free(latent);
    RUN(check_codec_files(path, scratch));
    vall_e_codec_free(codec);
}

/* ---- main ------------------------------------------------------------------------------------------------- */

int main(int argc, char ** argv) {
    if (argc != 1 && argc != 5) {
        fprintf(stderr, "usage: %s [<lm.gguf> <encodec.bin> <cases.bin> <scratch-dir>]\n", argv[0]);
        return 2;
    }
    const char * verbose = getenv("VALL_E_C_API_TEST_VERBOSE");
    g_verbose            = verbose && strcmp(verbose, "1") == 0;
    atomic_init(&g_log_lines, 0);
    vall_e_log_set(count_log_line, NULL);

    vall_e_system_info info;
    vall_e_system_info_get(&info);
    CHECK(info.default_threads >= 1, "default_threads %d", info.default_threads);
    CHECK(info.physical_cores >= 1 && info.logical_cores >= info.physical_cores, "cores %d physical, %d logical",
          info.physical_cores, info.logical_cores);
    CHECK(strlen(info.ggml_version) > 0 && strlen(info.version) > 0, "empty version");
    CHECK(strcmp(info.build, "native") == 0 || strcmp(info.build, "portable") == 0, "build %s", info.build);
    CHECK(vall_e_last_error()[0] == '\0', "the last error before any failure is \"%s\"", vall_e_last_error());

    RUN(check_status_names());
    check_matmul(VALL_E_TYPE_F32, 1e-4);
    check_matmul(VALL_E_TYPE_F16, 5e-2);
    check_matmul(VALL_E_TYPE_Q8_0, 1e-1);
    RUN(check_concurrent_matmuls());
    RUN(check_devices());
    RUN(check_small_errors());
    RUN(check_espeak());
    RUN(check_last_error_per_thread());

    const int models = argc == 5;
    if (models) {
        cases c;
        if (!cases_load(&c, argv[3])) {
            fprintf(stderr, "FAIL: could not read the cases file %s\n", argv[3]);
            g_failures++;
        } else {
            RUN(check_lm(argv[1], argv[4], &c));
            RUN(check_codec(argv[2], argv[4], &c));
            cases_free(&c);
        }
        /* every status a caller can provoke was seen (COMPUTE and INTERNAL cannot be: see check_status_names) */
        CHECK(g_seen[VALL_E_ERR_INVALID_ARGUMENT] > 0, "no INVALID_ARGUMENT seen");
        CHECK(g_seen[VALL_E_ERR_CANCELLED] > 0, "no CANCELLED seen");
        CHECK(g_seen[VALL_E_ERR_BUSY] > 0, "no BUSY seen");
        CHECK(g_seen[VALL_E_ERR_OUT_OF_MEMORY] > 0 || g_oom_skipped, "no OUT_OF_MEMORY seen");
    }
    vall_e_log_set(NULL, NULL);

    if (g_failures) {
        fprintf(stderr, "%d of %d check(s) failed\n", g_failures, g_checks);
        return 1;
    }
    printf("c-api-test: all checks passed (%d checks; errors seen: %d INVALID_ARGUMENT, %d CANCELLED, %d BUSY, "
           "%d OUT_OF_MEMORY, %d UNAVAILABLE%s; ggml %s, %s build, %d threads by default)\n",
           g_checks, g_seen[VALL_E_ERR_INVALID_ARGUMENT], g_seen[VALL_E_ERR_CANCELLED], g_seen[VALL_E_ERR_BUSY],
           g_seen[VALL_E_ERR_OUT_OF_MEMORY], g_seen[VALL_E_ERR_UNAVAILABLE], models ? "" : "; no model files given, so no LM or codec checks",
           info.ggml_version, info.build, info.default_threads);
    return 0;
}
