// One LSTM layer over T frames, PyTorch's gate order (i, f, g, o) and arithmetic: z = (W_ih·x_t + b_ih + b_hh) +
// W_hh·h_{t−1}; c_t = σ(f)·c_{t−1} + σ(i)·tanh(g); h_t = σ(o)·tanh(c_t).
//
// The recurrence is sequential in time, so the work of each step is split by hidden unit: thread k owns units
// [j0, j1) and computes their four gate rows of W_hh·h, their gates and their new h and c. Each thread always
// touches the same rows, which stay in its core's cache (W_hh is 4 MB at D = 512); one barrier per step publishes
// the new h (double-buffered). The threads are those of the ggml graph the op is a node of: ggml runs every node on
// all of the graph's threads at once (ggml-cpu.c ggml_graph_compute_thread), so the op's threads meet at the barrier,
// and on the process's persistent pool no thread is started per layer or per chunk.
#include "lstm.h"

#include <ggml-cpu.h>

#include <atomic>
#include <memory>

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace vall_e {
namespace {

class spin_barrier {
  public:
    explicit spin_barrier(int n) : n_(n) {}

    void arrive_and_wait() {
        const int generation = generation_.load(std::memory_order_acquire);
        if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
            count_.store(0, std::memory_order_relaxed);
            generation_.store(generation + 1, std::memory_order_release);
            return;
        }
        while (generation_.load(std::memory_order_acquire) == generation) {
#if defined(__x86_64__) || defined(_M_X64)
            __builtin_ia32_pause();
#endif
        }
    }

  private:
    const int        n_;
    std::atomic<int> count_{0};
    std::atomic<int> generation_{0};
};

// Σ w[i]·x[i] for f16 weights and f32 activations (the activations are not rounded).
float dot_f16_f32(int64_t n, const ggml_fp16_t * w, const float * x) {
    int64_t i   = 0;
    float   sum = 0.0f;
#if defined(__F16C__) && defined(__FMA__)
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    for (; i + 16 <= n; i += 16) {
        const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(w + i)));
        const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(w + i + 8)));
        acc0            = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
        acc1            = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), acc1);
    }
    const __m256 acc  = _mm256_add_ps(acc0, acc1);
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    const __m128 quad = _mm_add_ps(half, _mm_movehl_ps(half, half));
    sum               = _mm_cvtss_f32(_mm_add_ss(quad, _mm_movehdup_ps(quad)));
#endif
    for (; i < n; ++i) sum += ggml_fp16_to_fp32(w[i]) * x[i];
    return sum;
}

// What one layer's recurrence node reads and writes besides its input and output tensors.
struct lstm_recurrence {
    const encodec_lstm_layer * layer = nullptr;
    float *                    h     = nullptr; // [D], the layer's carried state, updated in place
    float *                    c     = nullptr; // [D]
    std::vector<float>         h_next;          // [D], the other half of h's double buffer
    int                        workers;
    spin_barrier               barrier;

    lstm_recurrence(const encodec_lstm_layer & l, std::vector<float> & hs, std::vector<float> & cs, int n)
        : layer(&l), h(hs.data()), c(cs.data()), h_next(hs.size()), workers(n), barrier(n) {}
};

// dst [D, T] = h_1 … h_T; src[0] [4D, T] = W_ih·x_t + b_ih + b_hh for every frame. Threads ith ≥ workers have no units.
void lstm_recur_op(ggml_tensor * dst, int ith, int /*nth*/, void * userdata) {
    lstm_recurrence & r = *static_cast<lstm_recurrence *>(userdata);
    if (ith >= r.workers) {
        return;
    }
    const encodec_lstm_layer & layer  = *r.layer;
    const ggml_tensor *        input  = dst->src[0];
    const int64_t              dim    = dst->ne[0];
    const int64_t              frames = dst->ne[1];
    const float *              pre    = static_cast<const float *>(input->data);
    float *                    out    = static_cast<float *>(dst->data);
    const ggml_vec_dot_t       dot    = ggml_get_type_traits_cpu(GGML_TYPE_F32)->vec_dot;
    const bool                 half   = !layer.w_hh_f16.empty();
    float *                    h      = r.h;
    float *                    h_next = r.h_next.data();

    const int          k  = ith;
    const int64_t      j0 = dim * k / r.workers;
    const int64_t      j1 = dim * (k + 1) / r.workers;
    const int64_t      n  = j1 - j0;
    std::vector<float> z((size_t) (4 * n));
    for (int64_t t = 0; t < frames; ++t) {
        const float * p    = pre + t * 4 * dim;
        const float * hin  = (t % 2 == 0) ? h : h_next;
        float *       hout = (t % 2 == 0) ? h_next : h;
        for (int gate = 0; gate < 4; ++gate) {
            for (int64_t j = j0; j < j1; ++j) {
                const int64_t row = gate * dim + j;
                float         sum = 0.0f;
                if (half) {
                    sum = dot_f16_f32(dim, layer.w_hh_f16.data() + row * dim, hin);
                } else {
                    dot((int) dim, &sum, 0, layer.w_hh.data() + row * dim, 0, hin, 0, 1);
                }
                z[(size_t) (gate * n + (j - j0))] = p[row] + sum;
            }
        }
        // Gates, vectorisable: sigmoid(x) = 1 / (1 + e^−x), tanh(x) = 2·sigmoid(2x) − 1.
        const float * zi = z.data();
        const float * zf = zi + n;
        const float * zg = zf + n;
        const float * zo = zg + n;
        float *       cc = r.c + j0;
        for (int64_t u = 0; u < n; ++u) {
            const float i  = 1.0f / (2.0f + exp_minus_one(-zi[u]));
            const float f  = 1.0f / (2.0f + exp_minus_one(-zf[u]));
            const float g  = 2.0f / (2.0f + exp_minus_one(-2.0f * zg[u])) - 1.0f;
            const float o  = 1.0f / (2.0f + exp_minus_one(-zo[u]));
            cc[u]          = f * cc[u] + i * g;
            const float th = 2.0f / (2.0f + exp_minus_one(-2.0f * cc[u])) - 1.0f;
            hout[j0 + u]   = o * th;
        }
        std::memcpy(out + t * dim + j0, hout + j0, (size_t) n * sizeof(float));
        r.barrier.arrive_and_wait();
    }
    // An odd number of steps left the last h in h_next: carry this thread's units of it over.
    if (frames % 2 == 1) {
        std::memcpy(h + j0, h_next + j0, (size_t) n * sizeof(float));
    }
}

}  // namespace

lstm_state::lstm_state(int64_t dim) {
    for (int l = 0; l < 2; ++l) {
        h[l].assign((size_t) dim, 0.0f);
        c[l].assign((size_t) dim, 0.0f);
    }
}

ggml_tensor * lstm_forward(graph_builder & g, const std::array<encodec_lstm_layer, 2> & layers, ggml_tensor * x,
                           lstm_state & state, int32_t threads) {
    const int64_t dim     = x->ne[0];
    const int64_t frames  = x->ne[1];
    const int     workers = (int) std::max<int64_t>(1, std::min<int64_t>(threads, dim / 16));
    ggml_tensor * h       = x;
    for (int l = 0; l < 2; ++l) {
        // Input side for all frames: [4D, T] = W_ih · X + (b_ih + b_hh).
        ggml_tensor * pre = ggml_add(g.ctx, mul_mat_f32(g.ctx, layers[l].w_ih, h), layers[l].bias);
        ggml_format_name(pre, "lstm%d.input", l);
        lstm_recurrence * r = g.keep(std::make_shared<lstm_recurrence>(layers[l], state.h[l], state.c[l], workers));
        ggml_tensor * args[] = {pre};
        h = ggml_custom_4d(g.ctx, GGML_TYPE_F32, dim, frames, 1, 1, args, 1, lstm_recur_op, workers, r);
        ggml_format_name(h, "lstm%d.out", l);
    }
    ggml_tensor * y = ggml_add(g.ctx, h, x);
    ggml_set_name(y, "lstm.y");
    return y;
}

}  // namespace vall_e
