/* Exercises the public C API without Node: valid C, system info, matmul in each weight type against a naive
 * product, and errors reported as a status plus a message. Exit status 0 when every check passes. */
#include "vall_e.h"

#include <math.h>
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

int main(void) {
    vall_e_system_info info;
    vall_e_system_info_get(&info);
    CHECK(info.default_threads >= 1, "default_threads %d", info.default_threads);
    CHECK(strlen(info.ggml_version) > 0, "empty ggml version");

    check_matmul(VALL_E_TYPE_F32, 1e-4);
    check_matmul(VALL_E_TYPE_F16, 5e-2);
    check_matmul(VALL_E_TYPE_Q8_0, 1e-1);

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
