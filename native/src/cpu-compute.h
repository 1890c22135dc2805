// Graph evaluation on the CPU: each handle's own ggml CPU backend, computing on the process's one thread pool.
#pragma once

#include "core.h"

#include <functional>

namespace vall_e {

// The CPU backend of one handle (an LM context, one codec call, a matmul kernel), with no threads of its own.
//
// Every handle keeps its own backend — its work buffer and abort callback — but all of them compute on one
// persistent ggml thread pool shared by the process, so concurrent requests share the machine's cores instead of
// each starting a pool of every core. Evaluations take turns on the pool in arrival order, each on its own thread
// count; the pool is re-made larger when a larger count is asked for, never smaller. The pool is persistent because
// without one ggml creates and joins its worker threads on every graph evaluation, which on small graphs costs
// milliseconds (measured: 7.4 ms instead of 0.4 ms for a 1024x1024 matvec on 2 threads). Between evaluations it is
// paused and polls 0 rounds, so idle workers sleep instead of spinning.
class cpu_compute {
  public:
    cpu_compute();

    // Evaluate `graph` on exactly n_threads (already resolved, >= 1): every node runs with nth = n_threads, which
    // custom ops that synchronise their threads rely on. `cancel` (may be NULL) is polled after every node; non-zero
    // stops the evaluation with VALL_E_ERR_CANCELLED.
    void compute(ggml_cgraph * graph, int32_t n_threads, const volatile int32_t * cancel = nullptr);

    // Run `body` (which computes on this backend, e.g. through a backend scheduler) during one turn on the shared
    // pool, with n_threads and the cancel flag set as compute() sets them; its status is mapped as compute()'s is.
    void run(int32_t n_threads, const volatile int32_t * cancel, const std::function<ggml_status()> & body);

    ggml_backend_t backend() const { return backend_.get(); }

  private:
    ggml_backend_ptr backend_;
};

// Fail with the status matching a ggml compute status (nothing for success).
void check_compute_status(ggml_status status);

// A graph allocator for buffers of `cpu`'s backend (fails with VALL_E_ERR_OUT_OF_MEMORY).
ggml_gallocr_ptr make_graph_allocator(const cpu_compute & cpu);

}  // namespace vall_e
