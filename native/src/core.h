// Internal helpers shared by the core's translation units: error reporting, ggml ownership, cancel flags and the
// shape strings loader messages print. The CPU backend and the process's thread pool are in cpu-compute.h.
#pragma once

#include "vall_e.h"

#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

namespace vall_e {

// An error with a status, thrown inside the core and turned into a vall_e_status at the C API boundary.
class error : public std::runtime_error {
  public:
    error(vall_e_status status, const std::string & message) : std::runtime_error(message), status_(status) {}
    vall_e_status status() const { return status_; }

  private:
    vall_e_status status_;
};

[[noreturn]] void fail(vall_e_status status, const char * format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// Record the message for vall_e_last_error() on this thread.
void set_last_error(const std::string & message);

// Run `body` and map any exception to a status (and a last-error message). Nothing escapes.
template <typename F> vall_e_status guard(F && body) noexcept {
    try {
        body();
        return VALL_E_OK;
    } catch (const error & e) {
        set_last_error(e.what());
        return e.status();
    } catch (const std::bad_alloc &) {
        set_last_error("out of memory");
        return VALL_E_ERR_OUT_OF_MEMORY;
    } catch (const std::exception & e) {
        set_last_error(std::string("internal error: ") + e.what());
        return VALL_E_ERR_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return VALL_E_ERR_INTERNAL;
    }
}

// Marks a handle busy for the duration of one operation; a concurrent one fails with VALL_E_ERR_BUSY naming `what`.
class busy_scope {
  public:
    busy_scope(std::atomic<bool> & flag, const char * what) : flag_(flag) {
        bool expected = false;
        if (!flag_.compare_exchange_strong(expected, true)) {
            fail(VALL_E_ERR_BUSY, "this %s is already running an operation", what);
        }
    }
    ~busy_scope() { flag_.store(false); }
    busy_scope(const busy_scope &)             = delete;
    busy_scope & operator=(const busy_scope &) = delete;

  private:
    std::atomic<bool> & flag_;
};

// Thread count actually used for a request of n (0 = default).
int32_t resolve_threads(int32_t n);

// Route ggml's logger through vall_e_log_set's callback (idempotent).
void install_ggml_logger();

// ggml objects with one owner each, so that error paths do not leak.
struct ggml_context_deleter {
    void operator()(ggml_context * ctx) const { ggml_free(ctx); }
};
struct ggml_backend_deleter {
    void operator()(ggml_backend_t backend) const { ggml_backend_free(backend); }
};
struct ggml_backend_buffer_deleter {
    void operator()(ggml_backend_buffer_t buffer) const { ggml_backend_buffer_free(buffer); }
};
struct ggml_gallocr_deleter {
    void operator()(ggml_gallocr_t galloc) const { ggml_gallocr_free(galloc); }
};

using ggml_context_ptr        = std::unique_ptr<ggml_context, ggml_context_deleter>;
using ggml_backend_ptr        = std::unique_ptr<ggml_backend, ggml_backend_deleter>;
using ggml_backend_buffer_ptr = std::unique_ptr<ggml_backend_buffer, ggml_backend_buffer_deleter>;
using ggml_gallocr_ptr        = std::unique_ptr<ggml_gallocr, ggml_gallocr_deleter>;

// A matrix product accumulated in f32 on every backend: the CPU always does, but GPU backends (Vulkan's f16acc
// pipelines) otherwise may accumulate in half precision, an error of ~1e-2 on the LM's logits (llama.cpp asks for
// f32 the same way where it matters, llama-graph.cpp's attention products).
inline ggml_tensor * mul_mat_f32(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b) {
    ggml_tensor * product = ggml_mul_mat(ctx, a, b);
    ggml_prec_set_acc(product, GGML_PREC_F32);
    return product;
}

// A context for tensor metadata only (data lives in backend buffers).
ggml_context_ptr make_meta_context(size_t n_tensors, size_t graph_size);

// A caller's cancel flag (NULL: none). Non-zero asks the operation to stop.
inline bool cancel_requested(const volatile int32_t * cancel) { return cancel && *cancel; }

// Between graph evaluations: fail with VALL_E_ERR_CANCELLED when the flag is set.
void check_cancel(const volatile int32_t * cancel);

// Codes [n_codebooks][n_frames] must each be 0 … n_bins − 1 (VALL_E_ERR_INVALID_ARGUMENT naming the first that is not).
void check_codes(const int16_t * codes, int32_t n_codebooks, int64_t n_frames, int32_t n_bins);

// A tensor shape as loader messages print it: "[7, 1, 32]" (innermost first).
std::string shape_string(const int64_t * ne, size_t n);

}  // namespace vall_e
