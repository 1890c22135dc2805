// Micro-benchmarks of the machine through ggml, for the ratios later benchmarks report against.
#include "cpu-compute.h"

#include <chrono>
#include <vector>

extern "C" vall_e_status vall_e_bench_vector_add(int64_t n_bytes, int32_t n_threads, int32_t n_iter, double * seconds) {
    using namespace vall_e;
    return guard([&] {
        if (!seconds) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_bench_vector_add: seconds must not be NULL");
        }
        if (n_bytes < 4096 || n_bytes > (int64_t(1) << 34)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 4096 to 17179869184 bytes for n_bytes, got %lld",
                 (long long) n_bytes);
        }
        if (n_iter < 1 || n_iter > 1000) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 1 to 1000 for n_iter, got %d", n_iter);
        }
        const int32_t threads = resolve_threads(n_threads);
        const int64_t n       = n_bytes / (int64_t) sizeof(float);

        cpu_compute      cpu;
        ggml_context_ptr ctx     = make_meta_context(3, 8);
        ggml_tensor *    a       = ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, n);
        ggml_tensor *    b       = ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, n);
        ggml_tensor *    c       = ggml_add(ctx.get(), a, b);
        ggml_cgraph *    graph   = ggml_new_graph_custom(ctx.get(), 8, false);
        ggml_build_forward_expand(graph, c);

        ggml_backend_buffer_ptr buffer(ggml_backend_alloc_ctx_tensors(ctx.get(), cpu.backend()));
        if (!buffer) {
            fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate 3 x %lld bytes", (long long) n_bytes);
        }
        // Touch every page before timing so that first-touch faults are not measured.
        ggml_backend_buffer_clear(buffer.get(), 0);

        double best = 0.0;
        for (int32_t i = 0; i < n_iter; ++i) {
            const auto start = std::chrono::steady_clock::now();
            cpu.compute(graph, threads);
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (i == 0 || elapsed < best) {
                best = elapsed;
            }
        }
        *seconds = best;
    });
}
