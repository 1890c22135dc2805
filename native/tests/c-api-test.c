/* Exercises the public C API without Node: valid C, system info, matmul in each weight type against a naive
 * product, handles computing from several threads at once on the shared thread pool, and errors reported as a
 * status plus a message. Exit status 0 when every check passes. */
#include "vall_e.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures = 0;

#define CHECK(cond, ...)                         \
    do {                                         \
        if (!(cond)) {                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);        \
            fprintf(stderr, "\n");               \
            g_failures++;                        \
        }                                        \
    } while (0)

static float next_uniform(uint32_t * state) {
    *state = *state * 1664525u + 1013904223u;
    return (float) ((*state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

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

int main(void) {
    vall_e_system_info info;
    vall_e_system_info_get(&info);
    CHECK(info.default_threads >= 1, "default_threads %d", info.default_threads);
    CHECK(strlen(info.ggml_version) > 0, "empty ggml version");

    check_matmul(VALL_E_TYPE_F32, 1e-4);
    check_matmul(VALL_E_TYPE_F16, 5e-2);
    check_matmul(VALL_E_TYPE_Q8_0, 1e-1);
    check_concurrent_matmuls();

    /* errors: a status and a message naming the parameter, never an abort */
    float                weights[32 * 33];
    vall_e_matmul_params params = vall_e_matmul_default_params();
    vall_e_matmul *      mm = NULL;
    memset(weights, 0, sizeof(weights));
    params.m = 32;
    params.k = 33;
    params.type = VALL_E_TYPE_Q8_0;
    CHECK(vall_e_matmul_init(&params, weights, &mm) == VALL_E_ERR_INVALID_ARGUMENT && mm == NULL, "q8_0 with k=33");
    CHECK(strcmp(vall_e_last_error(), "Expected k to be a multiple of 32 for q8_0 weights, got 33") == 0, "message: %s",
          vall_e_last_error());
    params.type = 7;
    CHECK(vall_e_matmul_init(&params, weights, &mm) == VALL_E_ERR_INVALID_ARGUMENT, "unknown type");
    params.type = VALL_E_TYPE_F32;
    params.m = 0;
    CHECK(vall_e_matmul_init(&params, weights, &mm) == VALL_E_ERR_INVALID_ARGUMENT, "m = 0");
    CHECK(strcmp(vall_e_last_error(), "Expected an integer from 1 to 16777216 for m, got 0") == 0, "message: %s",
          vall_e_last_error());
    CHECK(strcmp(vall_e_status_name(VALL_E_ERR_BUSY), "VALL_E_ERR_BUSY") == 0, "status name");

    if (g_failures) {
        fprintf(stderr, "%d check(s) failed\n", g_failures);
        return 1;
    }
    printf("c-api-test: all checks passed (ggml %s, %s build, %d threads by default)\n", info.ggml_version, info.build,
           info.default_threads);
    return 0;
}
