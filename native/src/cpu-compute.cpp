// The process's one ggml thread pool, lent to one graph evaluation at a time.
#include "cpu-compute.h"

#include <ggml-cpu.h>

#include <condition_variable>
#include <mutex>

namespace vall_e {
namespace {

struct ggml_threadpool_deleter {
    void operator()(ggml_threadpool_t pool) const { ggml_threadpool_free(pool); }
};
using ggml_threadpool_ptr = std::unique_ptr<ggml_threadpool, ggml_threadpool_deleter>;

// The pool and whose turn it is. A ticket lock rather than a plain mutex: turns are served in arrival order, so a
// handle evaluating graph after graph (an AR loop, a long decode) cannot starve the others.
class shared_pool {
  public:
    // Never destroyed: a worker thread may still be evaluating when the process exits, and freeing the pool from a
    // static destructor would join threads under it. The OS reclaims the parked threads.
    static shared_pool & instance() {
        static shared_pool * pool = new shared_pool();
        return *pool;
    }

    // Wait for this caller's turn, then return the pool, holding at least n_threads workers (the caller included).
    ggml_threadpool_t acquire(int32_t n_threads) {
        std::unique_lock<std::mutex> lock(mutex_);
        const uint64_t ticket = next_ticket_++;
        turn_.wait(lock, [&] { return serving_ == ticket; });
        lock.unlock();
        // Only the turn's holder touches the pool: no evaluation runs on it now, and no backend points at it.
        if (!pool_ || n_threads > n_threads_) {
            pool_.reset();
            ggml_threadpool_params params = ggml_threadpool_params_default(n_threads);
            params.paused                 = true;
            params.poll                   = 0; // idle workers sleep at once: no spinning core taken from host-side work
            pool_.reset(ggml_threadpool_new(&params));
            n_threads_ = pool_ ? n_threads : 0;
            if (!pool_) {
                release();
                fail(VALL_E_ERR_OUT_OF_MEMORY, "could not create a pool of %d threads", n_threads);
            }
        }
        return pool_.get();
    }

    void release() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++serving_;
        }
        turn_.notify_all();
    }

  private:
    std::mutex              mutex_;
    std::condition_variable turn_;
    uint64_t                next_ticket_ = 0;
    uint64_t                serving_     = 0;
    ggml_threadpool_ptr     pool_;
    int32_t                 n_threads_ = 0;
};

// One turn on the shared pool, for the duration of one evaluation.
class pool_turn {
  public:
    explicit pool_turn(int32_t n_threads) : pool_(shared_pool::instance().acquire(n_threads)) {}
    ~pool_turn() { shared_pool::instance().release(); }
    pool_turn(const pool_turn &)             = delete;
    pool_turn & operator=(const pool_turn &) = delete;
    ggml_threadpool_t pool() const { return pool_; }

  private:
    ggml_threadpool_t pool_;
};

bool abort_requested(void * data) { return cancel_requested(static_cast<const volatile int32_t *>(data)); }

}  // namespace

cpu_compute::cpu_compute() {
    install_ggml_logger();
    backend_.reset(ggml_backend_cpu_init());
    if (!backend_) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not create the ggml CPU backend");
    }
}

ggml_gallocr_ptr make_graph_allocator(const cpu_compute & cpu) {
    ggml_gallocr_ptr galloc(ggml_gallocr_new(ggml_backend_get_default_buffer_type(cpu.backend())));
    if (!galloc) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not create the graph allocator");
    }
    return galloc;
}

void cpu_compute::compute(ggml_cgraph * graph, int32_t n_threads, const volatile int32_t * cancel) {
    run(n_threads, cancel, [&] { return ggml_backend_graph_compute(backend_.get(), graph); }); // resumes the pool
}

void cpu_compute::run(int32_t n_threads, const volatile int32_t * cancel, const std::function<ggml_status()> & body) {
    ggml_backend_t backend = backend_.get();
    ggml_backend_cpu_set_n_threads(backend, n_threads);
    ggml_backend_cpu_set_abort_callback(backend, cancel ? abort_requested : nullptr, (void *) cancel);
    ggml_status status;
    {
        pool_turn turn(n_threads);
        ggml_backend_cpu_set_threadpool(backend, turn.pool());
        // Paused and unset however `body` ends (a device backend's failure may throw through the scheduler).
        struct lend_back {
            ggml_backend_t    backend;
            ggml_threadpool_t pool;
            ~lend_back() {
                ggml_threadpool_pause(pool);
                ggml_backend_cpu_set_threadpool(backend, nullptr); // the pool may be re-made before the next turn
            }
        } lent{backend, turn.pool()};
        status = body();
    }
    check_compute_status(status);
}

void check_compute_status(ggml_status status) {
    switch (status) {
        case GGML_STATUS_SUCCESS: return;
        case GGML_STATUS_ABORTED: fail(VALL_E_ERR_CANCELLED, "the computation was cancelled");
        case GGML_STATUS_ALLOC_FAILED: fail(VALL_E_ERR_OUT_OF_MEMORY, "ggml could not allocate the graph's buffers");
        default: fail(VALL_E_ERR_COMPUTE, "ggml failed to compute the graph (status %d)", (int) status);
    }
}

}  // namespace vall_e
