// A weight matrix held in a ggml type and multiplied by f32 activations on the CPU backend.
// Used to measure the machine's matmul peak and to check that each weight type computes correctly.
#include "cpu-compute.h"

#include <ggml-cpu.h>

#include <atomic>
#include <cstring>
#include <vector>

struct vall_e_matmul {
    int64_t                         m = 0;
    int64_t                         k = 0;
    ggml_type                       type = GGML_TYPE_F32;
    vall_e::cpu_compute             cpu;
    vall_e::ggml_context_ptr        weights_ctx;
    vall_e::ggml_backend_buffer_ptr weights_buffer;
    ggml_tensor *                   weights = nullptr; // ne = [k, m]
    vall_e::ggml_gallocr_ptr        galloc;
    std::atomic<bool>               busy{false};
};

namespace vall_e {
namespace {

constexpr int64_t k_max_dim      = int64_t(1) << 24;
constexpr int64_t k_max_elements = int64_t(1) << 32;

ggml_type to_ggml_type(int32_t type) {
    switch (type) {
        case VALL_E_TYPE_F32: return GGML_TYPE_F32;
        case VALL_E_TYPE_F16: return GGML_TYPE_F16;
        case VALL_E_TYPE_Q8_0: return GGML_TYPE_Q8_0;
        default: fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected a weight type of 0 (f32), 1 (f16) or 2 (q8_0) for type, got %d", type);
    }
}

void check_dim(int64_t value, const char * name) {
    if (value < 1 || value > k_max_dim) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected an integer from 1 to %lld for %s, got %lld", (long long) k_max_dim,
             name, (long long) value);
    }
}

// The weights converted to `type`, laid out as ggml stores rows of k elements.
std::vector<uint8_t> convert_weights(const float * weights, int64_t m, int64_t k, ggml_type type) {
    const size_t         row_bytes = ggml_row_size(type, k);
    std::vector<uint8_t> data(row_bytes * (size_t) m);
    switch (type) {
        case GGML_TYPE_F32: std::memcpy(data.data(), weights, data.size()); break;
        case GGML_TYPE_F16:
            ggml_fp32_to_fp16_row(weights, reinterpret_cast<ggml_fp16_t *>(data.data()), m * k);
            break;
        default: ggml_quantize_chunk(type, weights, data.data(), 0, m, k, nullptr); break;
    }
    return data;
}

}  // namespace
}  // namespace vall_e

extern "C" {

vall_e_matmul_params vall_e_matmul_default_params(void) {
    vall_e_matmul_params params;
    params.m    = 1;
    params.k    = 1;
    params.type = VALL_E_TYPE_F32;
    return params;
}

vall_e_status vall_e_matmul_init(const vall_e_matmul_params * params, const float * weights, vall_e_matmul ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!params || !weights || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_matmul_init: params, weights and out must not be NULL");
        }
        *out = nullptr;
        check_dim(params->m, "m");
        check_dim(params->k, "k");
        if (params->m * params->k > k_max_elements) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at most %lld weight elements (m * k), got %lld",
                 (long long) k_max_elements, (long long) (params->m * params->k));
        }
        const ggml_type type = to_ggml_type(params->type);
        if (params->k % ggml_blck_size(type) != 0) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected k to be a multiple of %lld for %s weights, got %lld",
                 (long long) ggml_blck_size(type), ggml_type_name(type), (long long) params->k);
        }

        auto mm         = std::make_unique<vall_e_matmul>();
        mm->m           = params->m;
        mm->k           = params->k;
        mm->type        = type;
        mm->weights_ctx = make_meta_context(1, 0);
        mm->weights     = ggml_new_tensor_2d(mm->weights_ctx.get(), type, params->k, params->m);
        ggml_set_name(mm->weights, "weights");
        mm->weights_buffer.reset(ggml_backend_alloc_ctx_tensors(mm->weights_ctx.get(), mm->cpu.backend()));
        if (!mm->weights_buffer) {
            fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate %zu bytes for the weights", ggml_nbytes(mm->weights));
        }
        const std::vector<uint8_t> data = convert_weights(weights, params->m, params->k, type);
        ggml_backend_tensor_set(mm->weights, data.data(), 0, data.size());

        mm->galloc = make_graph_allocator(mm->cpu);
        *out = mm.release();
    });
}

vall_e_status vall_e_matmul_compute(vall_e_matmul * mm, const float * input, int64_t n, float * output,
                                    int32_t n_threads) {
    using namespace vall_e;
    return guard([&] {
        if (!mm || !input || !output) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_matmul_compute: mm, input and output must not be NULL");
        }
        check_dim(n, "n");
        if (n * mm->k > k_max_elements || n * mm->m > k_max_elements) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at most %lld input and output elements, got n = %lld",
                 (long long) k_max_elements, (long long) n);
        }
        const int32_t threads = resolve_threads(n_threads);
        busy_scope    busy(mm->busy, "matmul");

        // out[m, n] (ggml order) = mul_mat(weights[k, m], x[k, n]): each output row is x_row · weightsᵀ.
        ggml_context_ptr ctx = make_meta_context(2, 8);
        ggml_tensor *    x   = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, mm->k, n);
        ggml_set_name(x, "input");
        ggml_set_input(x);
        ggml_tensor * y = ggml_mul_mat(ctx.get(), mm->weights, x);
        ggml_set_name(y, "output");
        ggml_set_output(y);
        ggml_cgraph * graph = ggml_new_graph_custom(ctx.get(), 8, false);
        ggml_build_forward_expand(graph, y);

        if (!ggml_gallocr_alloc_graph(mm->galloc.get(), graph)) {
            fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate the matmul graph for n = %lld", (long long) n);
        }
        ggml_backend_tensor_set(x, input, 0, ggml_nbytes(x));
        mm->cpu.compute(graph, threads);
        ggml_backend_tensor_get(y, output, 0, ggml_nbytes(y));
    });
}

size_t vall_e_matmul_weight_bytes(const vall_e_matmul * mm) { return mm ? ggml_nbytes(mm->weights) : 0; }

void vall_e_matmul_free(vall_e_matmul * mm) { delete mm; }

}  // extern "C"
