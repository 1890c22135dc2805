// EnCodec 24 kHz encode and decode (spec encodec-vocos §3–§7), in chunks of bounded size whose results equal the
// whole-signal computation:
//
//   encode:  samples ─[A: convs at sample rate, 4-frame left context]→ LSTM input X ─[host LSTM, state carried]→
//            Y = LSTM(X) + X ─[B: ELU + conv k7 at frame rate, 6 frames of left context]→ latent ─[host RVQ]→ codes
//   decode:  codes ─[host RVQ sum]→ latent ─[C: conv k7, 6 frames of context]→ X ─[host LSTM]→ Y
//            ─[D: transposed convs up to sample rate, 4-frame left context]→ samples
//
// Activations are [C, T] (channels fastest). Every layer is causal, so a chunk computed with enough left context (its receptive field; the reflect padding a
// chunk start adds only disturbs outputs inside that context) reproduces the whole signal's values exactly. Chunk
// boundaries are multiples of 320 samples, so only the last chunk gets the right padding the whole signal gets.
// Convolutions are sums of f32 matmuls over shifted views (ggml_conv_1d would round activations to f16);
// transposed convolutions a matmul and a shifted add; the LSTM recurrence and the RVQ run on the host in f32 (ties go to the lowest index, as in
// PyTorch).
#include "encodec-model.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>

#if defined(__F16C__)
#include <immintrin.h>
#endif

struct vall_e_codec {
    vall_e::encodec_model model;
    vall_e::cpu_compute   cpu;
    vall_e::ggml_gallocr_ptr galloc;
    std::atomic<bool>     busy{false};
};

namespace vall_e {
namespace {

constexpr int64_t k_context_frames_a = 4; // encoder sample-rate stage: receptive field 797 samples < 4 × 320
constexpr int64_t k_context_frames_d = 4; // decoder sample-rate stage: receptive field < 2 frames
constexpr int64_t k_default_chunk    = 375;
constexpr int64_t k_min_chunk        = 8;
constexpr size_t  k_graph_size       = 1024;

// ---- graph pieces (activations are [C, T]: channels are ne0, so a time window is contiguous) ---------------------

// A graph under construction: its context, and the index tensors (reflect padding) to fill once it is allocated.
struct graph_builder {
    ggml_context_ptr                                              owner;
    ggml_context *                                                ctx;
    std::vector<std::pair<ggml_tensor *, std::vector<int32_t>>> indices;

    explicit graph_builder(size_t n_tensors) : owner(make_meta_context(n_tensors, k_graph_size)), ctx(owner.get()) {}

    void upload() const {
        for (const auto & item : indices) {
            ggml_backend_tensor_set(item.first, item.second.data(), 0, item.second.size() * sizeof(int32_t));
        }
    }
};

// Reflect padding along time (spec §3.3) as one get_rows over precomputed frame indices, with the reference's
// short-input rule: an input not longer than the padding is zero-extended (an extra zero frame at index L),
// reflected, and the extension dropped again.
std::vector<int32_t> reflect_index(int64_t length, int64_t left, int64_t right) {
    const int64_t        widest    = std::max(left, right);
    const int64_t        extension = length > widest ? 0 : widest - length + 1;
    const int64_t        extended  = length + extension;
    std::vector<int32_t> index((size_t) (length + left + right));
    for (int64_t p = 0; p < (int64_t) index.size(); ++p) {
        int64_t i = p - left;
        if (i < 0) i = -i;
        if (i >= extended) i = 2 * (extended - 1) - i;
        index[(size_t) p] = (int32_t) std::min(i, length); // `length` is the zero frame
    }
    return index;
}

// Frames of x by index; index L (one past the end) is a zero frame.
ggml_tensor * gather(graph_builder & g, ggml_tensor * x, std::vector<int32_t> index) {
    const bool zero = std::any_of(index.begin(), index.end(), [&](int32_t i) { return i == x->ne[1]; });
    ggml_tensor * source = zero ? ggml_pad(g.ctx, x, 0, 1, 0, 0) : x;
    ggml_tensor * rows   = ggml_new_tensor_1d(g.ctx, GGML_TYPE_I32, (int64_t) index.size());
    ggml_set_input(rows);
    g.indices.emplace_back(rows, std::move(index));
    return ggml_get_rows(g.ctx, source, rows);
}

ggml_tensor * pad_reflect(graph_builder & g, ggml_tensor * x, int64_t left, int64_t right) {
    if (left == 0 && right == 0) {
        return x;
    }
    return gather(g, x, reflect_index(x->ne[1], left, right));
}

// Causal strided conv (SConv1d): reflect-pad k − s on the left and `extra` on the right, then convolve as a sum of
// matmuls over contiguous views, no im2col copy: seen as [s·in, L/s], the padded input's column t holds frames
// t·s … t·s + s − 1, so tap group m (taps m·s … m·s + s − 1) of output t reads column t + m.
ggml_tensor * conv1d(graph_builder & g, ggml_tensor * x, const encodec_conv & conv, int64_t extra) {
    const int64_t s = conv.stride;
    if (conv.gathered) {
        // Few input channels (the first encoder conv reads one): matmuls with a tiny inner dimension are slow, so
        // gather each output's k input frames (reflect padding included) into one [k·in, T_out] matrix instead.
        const int64_t        left   = conv.k - s;
        const int64_t        frames = (x->ne[1] + left + extra - conv.k) / s + 1;
        std::vector<int32_t> index((size_t) (frames * conv.k));
        const std::vector<int32_t> reflect = reflect_index(x->ne[1], left, extra);
        for (int64_t t = 0; t < frames; ++t) {
            for (int64_t j = 0; j < conv.k; ++j) index[(size_t) (t * conv.k + j)] = reflect[(size_t) (t * s + j)];
        }
        ggml_tensor * cols = ggml_reshape_2d(g.ctx, gather(g, x, std::move(index)), conv.k * conv.in, frames);
        return ggml_add(g.ctx, ggml_mul_mat(g.ctx, conv.gathered, cols), conv.b);
    }
    ggml_tensor * padded  = pad_reflect(g, x, conv.k - s, extra);
    const int64_t columns = padded->ne[1] / s;
    const int64_t frames  = columns - (int64_t) conv.groups.size() + 1;
    ggml_tensor * grouped = ggml_reshape_2d(g.ctx, padded, s * conv.in, columns);
    ggml_tensor * y       = nullptr;
    for (size_t m = 0; m < conv.groups.size(); ++m) {
        ggml_tensor * view = ggml_view_2d(g.ctx, grouped, s * conv.in, frames, grouped->nb[1], m * grouped->nb[1]);
        ggml_tensor * part = ggml_mul_mat(g.ctx, conv.groups[m], view);
        y                  = y ? ggml_add(g.ctx, y, part) : part;
    }
    return ggml_add(g.ctx, y, conv.b);
}

// ELU (alpha 1) as a custom op: ggml's scalar expm1f costs ~5 ns per element; this loop vectorises (exp by range
// reduction and a degree-6 polynomial, ~1 ulp; exp(x) − 1 differs from expm1 by < 1.2e-7 absolute for x ≤ 0).
// Also used for the LSTM gates. Inputs are clamped to [−87, 88], the range where e^x is a normal float.
inline float exp_minus_one(float x) {
    x              = std::min(std::max(x, -87.0f), 88.0f);
    const float n  = std::nearbyint(x * 1.44269504088896341f);
    const float r  = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;
    float       p  = 1.0f / 720.0f;
    p              = p * r + 1.0f / 120.0f;
    p              = p * r + 1.0f / 24.0f;
    p              = p * r + 1.0f / 6.0f;
    p              = p * r + 0.5f;
    p              = p * r + 1.0f;
    p              = p * r + 1.0f;
    int32_t bits   = ((int32_t) n + 127) << 23;
    float   scale;
    std::memcpy(&scale, &bits, sizeof(scale));
    return p * scale - 1.0f;
}

void elu_op(ggml_tensor * dst, const ggml_tensor * a, int ith, int nth, void * /*userdata*/) {
    const int64_t n     = ggml_nelements(dst);
    const int64_t chunk = (n + nth - 1) / nth;
    const int64_t start = std::min(n, chunk * ith);
    const int64_t end   = std::min(n, start + chunk);
    const float * x     = static_cast<const float *>(a->data);
    float *       y     = static_cast<float *>(dst->data);
    for (int64_t i = start; i < end; ++i) {
        const float v = x[i];
        const float e = exp_minus_one(std::min(v, 0.0f));
        y[i]          = v > 0.0f ? v : e;
    }
}

ggml_tensor * elu(graph_builder & g, ggml_tensor * x) { return ggml_map_custom1(g.ctx, x, elu_op, GGML_N_TASKS_MAX, nullptr); }

// Extra right padding of a causal down-sampling conv so that every frame is complete: ceil(L/s)·s − L.
int64_t extra_padding(int64_t length, int64_t stride) { return (length + stride - 1) / stride * stride - length; }

// Transposed conv with the k − s trailing samples trimmed (SConvTranspose1d, causal, k = 2s). One matmul gives,
// per input frame, the 2s output steps it touches; output block t is the first half of frame t's plus the second
// half of frame t − 1's. With a zero frame put before the input, both halves are strided views of the same
// product and one add finishes the layer.
ggml_tensor * conv_transpose(graph_builder & g, ggml_tensor * x, const encodec_convtr & up) {
    ggml_context * ctx    = g.ctx;
    const int64_t  frames = x->ne[1];
    const int64_t  half   = up.stride * up.out;
    ggml_tensor *  x0     = ggml_pad_ext(ctx, x, 0, 0, 1, 0, 0, 0, 0, 0); // [in, 1 + T], column 0 zero
    ggml_tensor *  cols   = ggml_mul_mat(ctx, up.w, x0);                 // [2s·out, 1 + T]
    ggml_tensor *  first  = ggml_view_2d(ctx, cols, half, frames, cols->nb[1], cols->nb[1]);
    ggml_tensor *  second = ggml_view_2d(ctx, cols, half, frames, cols->nb[1], (size_t) half * sizeof(float));
    ggml_tensor *  y      = ggml_reshape_2d(ctx, ggml_add(ctx, first, second), up.out, frames * up.stride);
    return ggml_add(ctx, y, up.b);
}

ggml_tensor * resblock(graph_builder & g, ggml_tensor * x, const encodec_resblock & block) {
    ggml_tensor * y = conv1d(g, elu(g, x), block.a, 0);
    y               = conv1d(g, elu(g, y), block.b, 0);
    return ggml_add(g.ctx, conv1d(g, x, block.shortcut, 0), y);
}

// LSTM input-side product for all frames: [4D, T] = W_ih · X + (b_ih + b_hh), X: [D, T].
ggml_tensor * lstm_input(ggml_context * ctx, ggml_tensor * x, const encodec_lstm_layer & layer) {
    return ggml_add(ctx, ggml_mul_mat(ctx, layer.w_ih, x), layer.bias);
}

// The columns [from, from + count) of a [C, T] tensor, as a new contiguous tensor.
ggml_tensor * columns(ggml_context * ctx, ggml_tensor * x, int64_t from, int64_t count) {
    return ggml_cont(ctx, ggml_view_2d(ctx, x, x->ne[0], count, x->nb[1], (size_t) from * x->nb[1]));
}

// ---- host parts ---------------------------------------------------------------------------------------------------

// One LSTM layer over T frames (PyTorch gate order i, f, g, o), continuing from (h, c).
//
// The recurrence is sequential in time, so the work of each step is split by hidden unit: thread k owns units
// [j0, j1) and computes their four gate rows of W_hh·h, their gates and their new h and c. Each thread always
// touches the same rows, which stay in its core's cache (W_hh is 4 MB at D = 512); one barrier per step publishes
// the new h (double-buffered).
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

void lstm_recur(const encodec_lstm_layer & layer, const float * pre, int64_t frames, int64_t dim, std::vector<float> & h,
                std::vector<float> & c, float * out, int32_t threads) {
    const ggml_vec_dot_t dot     = ggml_get_type_traits_cpu(GGML_TYPE_F32)->vec_dot;
    const bool           half    = !layer.w_hh_f16.empty();
    const int            workers = (int) std::max<int64_t>(1, std::min<int64_t>(threads, dim / 16));
    std::vector<float>   h_next((size_t) dim);
    spin_barrier         barrier(workers);

    auto work = [&](int k) {
        const int64_t      j0 = dim * k / workers;
        const int64_t      j1 = dim * (k + 1) / workers;
        const int64_t      n  = j1 - j0;
        std::vector<float> z((size_t) (4 * n));
        for (int64_t t = 0; t < frames; ++t) {
            const float * p    = pre + t * 4 * dim;
            const float * hin  = (t % 2 == 0) ? h.data() : h_next.data();
            float *       hout = (t % 2 == 0) ? h_next.data() : h.data();
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
            float *       cc = c.data() + j0;
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
            barrier.arrive_and_wait();
        }
    };
    std::vector<std::thread> pool;
    for (int k = 1; k < workers; ++k) pool.emplace_back(work, k);
    work(0);
    for (std::thread & thread : pool) thread.join();
    if (frames % 2 == 1) h.swap(h_next); // the last step wrote h_next
}

struct lstm_state {
    std::vector<float> h[2];
    std::vector<float> c[2];

    explicit lstm_state(int64_t dim) {
        for (int l = 0; l < 2; ++l) {
            h[l].assign((size_t) dim, 0.0f);
            c[l].assign((size_t) dim, 0.0f);
        }
    }
};

void check_cancel(const vall_e_codec_params & params) {
    if (params.cancel && *params.cancel) {
        fail(VALL_E_ERR_CANCELLED, "the computation was cancelled");
    }
}

bool abort_requested(void * data) {
    const volatile int32_t * cancel = static_cast<const volatile int32_t *>(data);
    return cancel && *cancel;
}

// Build, allocate and run a graph whose output is `out`; inputs are set by `set_inputs` after allocation.
template <typename SetInputs>
void run_graph(vall_e_codec & codec, graph_builder & g, ggml_tensor * out, int32_t threads,
               const vall_e_codec_params & params, SetInputs && set_inputs) {
    ggml_set_output(out);
    ggml_cgraph * graph = ggml_new_graph_custom(g.ctx, k_graph_size, false);
    ggml_build_forward_expand(graph, out);
    if (!ggml_gallocr_alloc_graph(codec.galloc.get(), graph)) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate an EnCodec graph");
    }
    set_inputs();
    g.upload();
    ggml_backend_cpu_set_abort_callback(codec.cpu.backend(), abort_requested, (void *) params.cancel);
    codec.cpu.compute(graph, threads);
}

// A [ne0, ne1] f32 graph input.
ggml_tensor * input_tensor(ggml_context * ctx, int64_t ne0, int64_t ne1, const char * name) {
    ggml_tensor * t = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, ne0, ne1);
    ggml_set_name(t, name);
    ggml_set_input(t);
    return t;
}

// Run both LSTM layers over X [T][D] (frame-major) with carried state; returns Y = LSTM(X) + X, frame-major.
std::vector<float> run_lstm(vall_e_codec & codec, const std::array<encodec_lstm_layer, 2> & layers, const std::vector<float> & x,
                            int64_t frames, lstm_state & state, int32_t threads, const vall_e_codec_params & params) {
    const int64_t      dim = codec.model.hparams.lstm_dim();
    std::vector<float> layer_in = x;
    std::vector<float> layer_out((size_t) (frames * dim));
    std::vector<float> pre((size_t) (frames * 4 * dim));
    for (int l = 0; l < 2; ++l) {
        graph_builder g(8);
        ggml_tensor * in  = input_tensor(g.ctx, dim, frames, "lstm_in");
        ggml_tensor * out = lstm_input(g.ctx, in, layers[l]);
        run_graph(codec, g, out, threads, params,
                  [&] { ggml_backend_tensor_set(in, layer_in.data(), 0, layer_in.size() * sizeof(float)); });
        ggml_backend_tensor_get(out, pre.data(), 0, pre.size() * sizeof(float));
        check_cancel(params);
        lstm_recur(layers[l], pre.data(), frames, dim, state.h[l], state.c[l], layer_out.data(), threads);
        std::swap(layer_in, layer_out);
    }
    for (size_t i = 0; i < layer_in.size(); ++i) layer_in[i] += x[i];
    return layer_in;
}

// ---- encode ------------------------------------------------------------------------------------------------------

// Encode to codes (when `codes` is set) and/or to the encoder's latents [hidden, frames] frame-major (when `latent`
// is set).
void encode(vall_e_codec & codec, const float * samples, int64_t n_samples, int32_t n_q, const vall_e_codec_params & params,
            int16_t * codes, float * latent_out) {
    const encodec_model &   model   = codec.model;
    const encodec_hparams & hp      = model.hparams;
    const int64_t           dim     = hp.lstm_dim();
    const int64_t           latent  = hp.hidden_dim;
    const int64_t           k_last  = model.encoder.last.k;
    const int64_t           total   = (n_samples + k_encodec_hop - 1) / k_encodec_hop;
    const int64_t           chunk   = params.chunk_frames > 0 ? params.chunk_frames : k_default_chunk;
    const int32_t           threads = resolve_threads(params.n_threads);
    const ggml_vec_dot_t    dot     = ggml_get_type_traits_cpu(GGML_TYPE_F32)->vec_dot;

    lstm_state         state(dim);
    std::vector<float> history; // the last (k_last − 1) frames of Y, frame-major, for stage B's left context

    for (int64_t f0 = 0; f0 < total; f0 += chunk) {
        check_cancel(params);
        const int64_t frames    = std::min(chunk, total - f0);
        const int64_t ctx_frames = std::min(k_context_frames_a, f0);
        const int64_t s0        = (f0 - ctx_frames) * k_encodec_hop;
        const int64_t s1        = std::min(n_samples, (f0 + frames) * k_encodec_hop);

        // Stage A: samples → LSTM input X [D, frames] (the context's frames dropped).
        std::vector<float> x((size_t) (frames * dim));
        {
            graph_builder g(256);
            ggml_tensor * in = input_tensor(g.ctx, 1, s1 - s0, "samples");
            ggml_tensor * h  = conv1d(g, in, model.encoder.first, 0);
            for (int i = 0; i < 4; ++i) {
                const int64_t stride = k_encodec_strides[i];
                h                    = resblock(g, h, model.encoder.res[i]);
                h = conv1d(g, elu(g, h), model.encoder.down[i], extra_padding(h->ne[1], stride));
            }
            ggml_tensor * out = columns(g.ctx, h, ctx_frames, frames); // X: [D, frames]
            run_graph(codec, g, out, threads, params,
                      [&] { ggml_backend_tensor_set(in, samples + s0, 0, (size_t) (s1 - s0) * sizeof(float)); });
            ggml_backend_tensor_get(out, x.data(), 0, x.size() * sizeof(float));
        }
        check_cancel(params);
        std::vector<float> y = run_lstm(codec, model.encoder.lstm, x, frames, state, threads, params);

        // Stage B: ELU + last conv over [history | Y] → latent [latent, frames].
        const int64_t      prefix = (int64_t) history.size() / dim;
        std::vector<float> z((size_t) (frames * latent));
        {
            graph_builder g(64);
            ggml_tensor * in  = input_tensor(g.ctx, dim, prefix + frames, "lstm_out");
            ggml_tensor * h   = conv1d(g, elu(g, in), model.encoder.last, 0); // [latent, prefix + frames]
            ggml_tensor * out = columns(g.ctx, h, prefix, frames);
            run_graph(codec, g, out, threads, params, [&] {
                ggml_backend_tensor_set(in, history.data(), 0, history.size() * sizeof(float));
                ggml_backend_tensor_set(in, y.data(), history.size() * sizeof(float), y.size() * sizeof(float));
            });
            ggml_backend_tensor_get(out, z.data(), 0, z.size() * sizeof(float));
        }
        history.insert(history.end(), y.begin(), y.end());
        const int64_t keep = std::min<int64_t>((k_last - 1), (int64_t) history.size() / dim);
        history.erase(history.begin(), history.end() - keep * dim);
        if (latent_out) {
            std::memcpy(latent_out + f0 * latent, z.data(), z.size() * sizeof(float));
        }
        if (!codes) {
            continue;
        }

        // RVQ: nearest code by Euclidean distance, residual per level (spec §6).
        std::vector<float> residual((size_t) latent);
        for (int64_t t = 0; t < frames; ++t) {
            std::memcpy(residual.data(), z.data() + t * latent, (size_t) latent * sizeof(float));
            for (int32_t q = 0; q < n_q; ++q) {
                const std::vector<float> & book  = model.codebooks[(size_t) q];
                const std::vector<float> & norms = model.codebook_norms[(size_t) q];
                float                      r2    = 0.0f;
                dot((int) latent, &r2, 0, residual.data(), 0, residual.data(), 0, 1);
                int32_t best      = 0;
                float   best_dist = 0.0f;
                for (int32_t j = 0; j < hp.n_bins; ++j) {
                    float rd = 0.0f;
                    dot((int) latent, &rd, 0, residual.data(), 0, book.data() + (size_t) j * latent, 0, 1);
                    // As the reference: (‖r‖² − 2·r·e) + ‖e‖², the first index wins a tie.
                    const float dist = (r2 - 2.0f * rd) + norms[(size_t) j];
                    if (j == 0 || dist < best_dist) {
                        best      = j;
                        best_dist = dist;
                    }
                }
                codes[(size_t) q * (size_t) total + (size_t) (f0 + t)] = (int16_t) best;
                const float * e = book.data() + (size_t) best * latent;
                for (int64_t d = 0; d < latent; ++d) residual[(size_t) d] -= e[d];
            }
        }
    }
}

// ---- decode ------------------------------------------------------------------------------------------------------

void decode(vall_e_codec & codec, const int16_t * codes, int32_t n_q, int64_t total, const vall_e_codec_params & params,
            float * samples) {
    const encodec_model &   model   = codec.model;
    const encodec_hparams & hp      = model.hparams;
    const int64_t           dim     = hp.lstm_dim();
    const int64_t           latent  = hp.hidden_dim;
    const int64_t           k_first = model.decoder.first.k;
    const int64_t           chunk   = params.chunk_frames > 0 ? params.chunk_frames : k_default_chunk;
    const int32_t           threads = resolve_threads(params.n_threads);

    lstm_state         state(dim);
    std::vector<float> z_history; // the last (k_first − 1) latent frames, frame-major
    std::vector<float> y_history; // the last k_context_frames_d frames of Y, frame-major

    for (int64_t f0 = 0; f0 < total; f0 += chunk) {
        check_cancel(params);
        const int64_t frames = std::min(chunk, total - f0);

        // RVQ decode: the sum of each level's code vectors (spec §6).
        std::vector<float> z = z_history;
        const size_t       base = z.size();
        z.resize(base + (size_t) (frames * latent), 0.0f);
        for (int64_t t = 0; t < frames; ++t) {
            float * zt = z.data() + base + (size_t) (t * latent);
            for (int32_t q = 0; q < n_q; ++q) {
                const int16_t code = codes[(size_t) q * (size_t) total + (size_t) (f0 + t)];
                const float * e    = model.codebooks[(size_t) q].data() + (size_t) code * latent;
                for (int64_t d = 0; d < latent; ++d) zt[d] += e[d];
            }
        }
        const int64_t z_prefix = (int64_t) base / latent;

        // Stage C: first conv over [history | z] → LSTM input X [D, frames].
        std::vector<float> x((size_t) (frames * dim));
        {
            graph_builder g(64);
            ggml_tensor * in  = input_tensor(g.ctx, latent, z_prefix + frames, "latent");
            ggml_tensor * h   = conv1d(g, in, model.decoder.first, 0); // [D, z_prefix + frames]
            ggml_tensor * out = columns(g.ctx, h, z_prefix, frames);
            run_graph(codec, g, out, threads, params,
                      [&] { ggml_backend_tensor_set(in, z.data(), 0, z.size() * sizeof(float)); });
            ggml_backend_tensor_get(out, x.data(), 0, x.size() * sizeof(float));
        }
        z_history.assign(z.end() - std::min<int64_t>(k_first - 1, z_prefix + frames) * latent, z.end());
        check_cancel(params);
        std::vector<float> y = run_lstm(codec, model.decoder.lstm, x, frames, state, threads, params);

        // Stage D: [context | Y] up to sample rate; the context's samples are dropped.
        const int64_t y_prefix = (int64_t) y_history.size() / dim;
        {
            graph_builder g(256);
            ggml_tensor * in = input_tensor(g.ctx, dim, y_prefix + frames, "lstm_out");
            ggml_tensor * h  = in;
            for (int i = 0; i < 4; ++i) {
                h = conv_transpose(g, elu(g, h), model.decoder.up[i]);
                h = resblock(g, h, model.decoder.res[i]);
            }
            h                 = conv1d(g, elu(g, h), model.decoder.last, 0); // [1, (y_prefix + frames)·320]
            ggml_tensor * out = columns(g.ctx, h, y_prefix * k_encodec_hop, frames * k_encodec_hop);
            run_graph(codec, g, out, threads, params, [&] {
                ggml_backend_tensor_set(in, y_history.data(), 0, y_history.size() * sizeof(float));
                ggml_backend_tensor_set(in, y.data(), y_history.size() * sizeof(float), y.size() * sizeof(float));
            });
            ggml_backend_tensor_get(out, samples + f0 * k_encodec_hop, 0, (size_t) (frames * k_encodec_hop) * sizeof(float));
        }
        y_history.insert(y_history.end(), y.begin(), y.end());
        const int64_t keep = std::min<int64_t>(k_context_frames_d, (int64_t) y_history.size() / dim);
        y_history.erase(y_history.begin(), y_history.end() - keep * dim);
    }
}

void check_samples(const float * samples, int64_t n_samples) {
    for (int64_t i = 0; i < n_samples; ++i) {
        if (!std::isfinite(samples[i])) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected finite samples, got %f at sample %lld", (double) samples[i],
                 (long long) i);
        }
    }
}

void check_params(const vall_e_codec_params * params) {
    if (!params) {
        return;
    }
    // Reflect padding at the start of the signal reads up to 6 frames ahead (the k = 7 convs at frame rate), so the
    // first chunk must hold them for chunked results to equal the whole signal's.
    if (params->chunk_frames != 0 && (params->chunk_frames < k_min_chunk || params->chunk_frames > (1 << 20))) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected 0 (default) or from %d to %d for chunk_frames, got %d", (int) k_min_chunk,
             1 << 20, params->chunk_frames);
    }
    resolve_threads(params->n_threads);
}

}  // namespace
}  // namespace vall_e

extern "C" {

vall_e_codec_params vall_e_codec_default_params(void) {
    vall_e_codec_params params;
    params.n_threads    = 0;
    params.chunk_frames = 0;
    params.cancel       = nullptr;
    return params;
}

vall_e_status vall_e_codec_init(const char * path, vall_e_codec ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!path || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_init: path and out must not be NULL");
        }
        *out       = nullptr;
        auto codec = std::make_unique<vall_e_codec>();
        encodec_model_load(codec->model, path);
        codec->galloc.reset(ggml_gallocr_new(ggml_backend_get_default_buffer_type(codec->cpu.backend())));
        if (!codec->galloc) {
            fail(VALL_E_ERR_OUT_OF_MEMORY, "could not create the graph allocator");
        }
        *out = codec.release();
    });
}

void vall_e_codec_get_info(const vall_e_codec * codec, vall_e_codec_info * info) {
    const vall_e::encodec_hparams & hp = codec->model.hparams;
    info->sample_rate                  = hp.sample_rate;
    info->hop_length                   = vall_e::k_encodec_hop;
    info->hidden_dim                   = hp.hidden_dim;
    info->n_filters                    = hp.n_filters;
    info->n_bins                       = hp.n_bins;
    info->n_codebooks                  = hp.n_codebooks();
    info->weight_type                  = hp.ftype;
    info->file_bytes                   = (int64_t) codec->model.file_bytes;
}

vall_e_status vall_e_codec_encode(vall_e_codec * codec, const float * samples, int64_t n_samples, int32_t n_codebooks,
                                  const vall_e_codec_params * params, int16_t * codes) {
    using namespace vall_e;
    return guard([&] {
        if (!codec || !samples || !codes) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_encode: codec, samples and codes must not be NULL");
        }
        if (n_samples < 1 || n_samples > (int64_t(1) << 34)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at least 1 sample for samples, got %lld", (long long) n_samples);
        }
        const int32_t available = codec->model.hparams.n_codebooks();
        if (n_codebooks < 1 || n_codebooks > available) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 1 to %d codebooks for n_codebooks, got %d", available, n_codebooks);
        }
        check_samples(samples, n_samples);
        check_params(params);
        const vall_e_codec_params p = params ? *params : vall_e_codec_default_params();
        busy_scope                busy(codec->busy, "codec");
        encode(*codec, samples, n_samples, n_codebooks, p, codes, nullptr);
    });
}

vall_e_status vall_e_codec_encode_latent(vall_e_codec * codec, const float * samples, int64_t n_samples,
                                         const vall_e_codec_params * params, float * latent) {
    using namespace vall_e;
    return guard([&] {
        if (!codec || !samples || !latent) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_encode_latent: codec, samples and latent must not be NULL");
        }
        if (n_samples < 1 || n_samples > (int64_t(1) << 34)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at least 1 sample for samples, got %lld", (long long) n_samples);
        }
        check_samples(samples, n_samples);
        check_params(params);
        const vall_e_codec_params p = params ? *params : vall_e_codec_default_params();
        busy_scope                busy(codec->busy, "codec");
        encode(*codec, samples, n_samples, 0, p, nullptr, latent);
    });
}

vall_e_status vall_e_codec_decode(vall_e_codec * codec, const int16_t * codes, int32_t n_codebooks, int64_t n_frames,
                                  const vall_e_codec_params * params, float * samples) {
    using namespace vall_e;
    return guard([&] {
        if (!codec || !codes || !samples) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_decode: codec, codes and samples must not be NULL");
        }
        const int32_t available = codec->model.hparams.n_codebooks();
        if (n_codebooks < 1 || n_codebooks > available) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 1 to %d codebooks for n_codebooks, got %d", available, n_codebooks);
        }
        if (n_frames < 1 || n_frames > (int64_t(1) << 26)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at least 1 frame for n_frames, got %lld", (long long) n_frames);
        }
        const int32_t bins = codec->model.hparams.n_bins;
        for (int64_t i = 0; i < (int64_t) n_codebooks * n_frames; ++i) {
            if (codes[i] < 0 || codes[i] >= bins) {
                fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected codes from 0 to %d, got %d at codebook %lld, frame %lld", bins - 1,
                     codes[i], (long long) (i / n_frames), (long long) (i % n_frames));
            }
        }
        check_params(params);
        const vall_e_codec_params p = params ? *params : vall_e_codec_default_params();
        busy_scope                busy(codec->busy, "codec");
        decode(*codec, codes, n_codebooks, n_frames, p, samples);
    });
}

void vall_e_codec_free(vall_e_codec * codec) { delete codec; }

}  // extern "C"
