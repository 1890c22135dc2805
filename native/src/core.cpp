// Error reporting, logging and the small ggml helpers every part of the core uses.
#include "core.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace vall_e {

namespace {

thread_local std::string t_last_error;

std::mutex          g_log_mutex;
vall_e_log_callback g_log_callback  = nullptr;
void *              g_log_user_data = nullptr;

vall_e_log_level from_ggml_level(ggml_log_level level) {
    switch (level) {
        case GGML_LOG_LEVEL_ERROR: return VALL_E_LOG_ERROR;
        case GGML_LOG_LEVEL_WARN: return VALL_E_LOG_WARN;
        case GGML_LOG_LEVEL_INFO: return VALL_E_LOG_INFO;
        default: return VALL_E_LOG_DEBUG;
    }
}

void ggml_log_bridge(ggml_log_level level, const char * text, void * /*user_data*/) {
    // GGML_LOG_LEVEL_CONT continues the previous line; we forward it at debug level, which the default drops.
    vall_e_log_callback callback;
    void *              user_data;
    {
        std::lock_guard<std::mutex> lock(g_log_mutex);
        callback  = g_log_callback;
        user_data = g_log_user_data;
    }
    const vall_e_log_level ours = from_ggml_level(level);
    if (callback) {
        callback(ours, text, user_data);
    } else if (ours >= VALL_E_LOG_WARN) {
        std::fputs(text, stderr);
    }
}

}  // namespace

void fail(vall_e_status status, const char * format, ...) {
    char    buffer[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buffer, sizeof(buffer), format, args);
    va_end(args);
    throw error(status, buffer);
}

void set_last_error(const std::string & message) { t_last_error = message; }

int32_t resolve_threads(int32_t n) {
    if (n < 0 || n > 512) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected a thread count from 0 to 512 for threads, got %d", n);
    }
    if (n == 0) {
        vall_e_system_info info;
        vall_e_system_info_get(&info);
        return info.default_threads;
    }
    return n;
}

void install_ggml_logger() {
    static std::once_flag once;
    std::call_once(once, [] { ggml_log_set(ggml_log_bridge, nullptr); });
}

ggml_context_ptr make_meta_context(size_t n_tensors, size_t graph_size) {
    ggml_init_params params = {
        /*.mem_size   =*/ggml_tensor_overhead() * n_tensors + ggml_graph_overhead_custom(graph_size, false),
        /*.mem_buffer =*/nullptr,
        /*.no_alloc   =*/true,
    };
    ggml_context_ptr ctx(ggml_init(params));
    if (!ctx) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not create a ggml context");
    }
    return ctx;
}

void check_cancel(const volatile int32_t * cancel) {
    if (cancel_requested(cancel)) {
        fail(VALL_E_ERR_CANCELLED, "the computation was cancelled");
    }
}

std::string shape_string(const int64_t * ne, size_t n) {
    std::string out = "[";
    for (size_t i = 0; i < n; ++i) out += (i ? ", " : "") + std::to_string(ne[i]);
    return out + "]";
}

void check_codes(const int16_t * codes, int32_t n_codebooks, int64_t n_frames, int32_t n_bins) {
    for (int64_t i = 0; i < (int64_t) n_codebooks * n_frames; ++i) {
        if (codes[i] < 0 || codes[i] >= n_bins) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected codes from 0 to %d, got %d at codebook %lld, frame %lld", n_bins - 1,
                 codes[i], (long long) (i / n_frames), (long long) (i % n_frames));
        }
    }
}

}  // namespace vall_e

extern "C" {

const char * vall_e_last_error(void) { return vall_e::t_last_error.c_str(); }

const char * vall_e_status_name(vall_e_status status) {
    switch (status) {
        case VALL_E_OK: return "VALL_E_OK";
        case VALL_E_ERR_INVALID_ARGUMENT: return "VALL_E_ERR_INVALID_ARGUMENT";
        case VALL_E_ERR_OUT_OF_MEMORY: return "VALL_E_ERR_OUT_OF_MEMORY";
        case VALL_E_ERR_COMPUTE: return "VALL_E_ERR_COMPUTE";
        case VALL_E_ERR_CANCELLED: return "VALL_E_ERR_CANCELLED";
        case VALL_E_ERR_BUSY: return "VALL_E_ERR_BUSY";
        case VALL_E_ERR_INTERNAL: return "VALL_E_ERR_INTERNAL";
        case VALL_E_ERR_UNAVAILABLE: return "VALL_E_ERR_UNAVAILABLE";
    }
    return "VALL_E_ERR_UNKNOWN";
}

void vall_e_log_set(vall_e_log_callback callback, void * user_data) {
    {
        std::lock_guard<std::mutex> lock(vall_e::g_log_mutex);
        vall_e::g_log_callback  = callback;
        vall_e::g_log_user_data = user_data;
    }
    vall_e::install_ggml_logger();
}

}  // extern "C"
