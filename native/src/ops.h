// ggml helpers the EnCodec graphs are built from (activations [C, T]: channels are ne0, so a time window of a
// tensor is a contiguous run of memory): a graph under construction, reflect padding as a gather, causal strided and
// transposed convolutions as sums of f32 matmuls over views (ggml_conv_1d would round activations to f16), a
// vectorised ELU, and building, allocating and running a graph on one operation's compute state.
#pragma once

#include "core.h"
#include "cpu-compute.h"
#include "device.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace vall_e {

constexpr size_t k_graph_size = 1024; // nodes of one EnCodec graph (a chunk's stage)

// A causal strided conv's weights (encodec/modules/conv.py SConv1d, weight norm folded) as conv1d() reads them.
struct conv1d_weights {
    // The taps in groups of `stride` (the conv's stride: a down-sampling conv has k = 2s, so two groups; a stride-1
    // conv has k groups of one): group m is [stride*in, out], element (j*in + c, o) = PyTorch weight[o][c][m*stride + j].
    std::vector<ggml_tensor *> groups;
    ggml_tensor *              gathered = nullptr; // [k*in, out], all taps, for convs with few input channels
    ggml_tensor *              b = nullptr;        // [out]
    int64_t                    k = 0;
    int64_t                    in = 0;
    int64_t                    out = 0;
    int64_t                    stride = 1;
};

// A causal transposed conv's weights (encodec/modules/conv.py SConvTranspose1d, k = 2 * stride).
struct conv_transpose_weights {
    ggml_tensor * w = nullptr; // [in, k*out]: element (i, j*out + o) is PyTorch weight[i][o][j]
    ggml_tensor * b = nullptr; // [out]
    int64_t       k = 0;       // always 2 * stride
    int64_t       in = 0;
    int64_t       out = 0;
    int32_t       stride = 0;
};

// A graph under construction: its context, the index tensors (reflect padding) to fill once it is allocated, and
// what its custom ops read while it runs.
struct graph_builder {
    size_t                                                      graph_size;
    ggml_context_ptr                                            owner;
    ggml_context *                                              ctx;
    std::vector<std::pair<ggml_tensor *, std::vector<int32_t>>> indices;
    std::vector<std::shared_ptr<void>>                          op_data;

    // Room for n_tensors tensors and a graph of graph_size nodes.
    explicit graph_builder(size_t n_tensors, size_t graph_size = k_graph_size)
        : graph_size(graph_size), owner(make_meta_context(n_tensors + graph_size, graph_size)), ctx(owner.get()) {}
    // For a graph run on `state`: ops chosen for its device (ggml's ELU instead of our CPU kernel).
    graph_builder(const struct compute_state & state, size_t n_tensors, size_t graph_size = k_graph_size);

    bool on_device = false;

    // Keep `data` alive as long as the graph (a custom op's userdata); returns it.
    template <typename T> T * keep(std::shared_ptr<T> data) {
        T * raw = data.get();
        op_data.push_back(std::move(data));
        return raw;
    }

    void upload() const;
};

// What one operation computes with, for its duration: a CPU backend (work buffer, abort callback; threads come from
// the process's pool) and a graph allocator — or, for weights on a device, that device's scheduler (with the CPU for
// what the device lacks: the LSTM recurrence). Each call owns one, so calls on shared weights run side by side.
struct compute_state {
    cpu_compute                     cpu;
    ggml_gallocr_ptr                galloc; // the CPU path's
    std::unique_ptr<device_compute> device;

    explicit compute_state(ggml_backend_dev_t dev = nullptr);
};

// The compute state of the last call on a model that finished, lent to the next call that starts (a call that finds
// none makes its own). Not shared: each state serves one call at a time. Reusing one saves the next call from
// faulting in its compute buffers afresh (measured on EnCodec: ~58 000 page faults per 10 s decode, ~230 MB);
// keeping at most one bounds what an idle model holds to what a single call needs.
class compute_state_pool {
  public:
    // One call's state: the pool's idle one or a new one; given back only after a call that succeeded (a failed
    // allocation or an aborted evaluation may leave it in any state).
    class lease {
      public:
        explicit lease(compute_state_pool & pool) : pool_(pool) {
            {
                std::lock_guard<std::mutex> lock(pool_.mutex_);
                state_ = std::move(pool_.idle_);
            }
            if (!state_) state_ = std::make_unique<compute_state>(pool_.device_);
        }
        ~lease() {
            if (done_) {
                std::lock_guard<std::mutex> lock(pool_.mutex_);
                if (!pool_.idle_) pool_.idle_ = std::move(state_);
            }
        }
        lease(const lease &)             = delete;
        lease & operator=(const lease &) = delete;

        compute_state & state() { return *state_; }
        void            succeeded() { done_ = true; }

      private:
        compute_state_pool &           pool_;
        std::unique_ptr<compute_state> state_;
        bool                           done_ = false;
    };

    // The device the model's weights are on (nullptr: the CPU).
    explicit compute_state_pool(ggml_backend_dev_t device = nullptr) : device_(device) {}
    void set_device(ggml_backend_dev_t device) { device_ = device; }

  private:
    std::mutex                     mutex_;
    std::unique_ptr<compute_state> idle_;
    ggml_backend_dev_t             device_ = nullptr;
};

// Frame indices of reflect padding along time (encodec/modules/conv.py pad1d), with its short-input rule: an input
// not longer than the padding is zero-extended (an extra zero frame at index `length`), reflected, and the
// extension dropped again.
std::vector<int32_t> reflect_index(int64_t length, int64_t left, int64_t right);

// Frames of x [C, L] by index; index L (one past the end) is a zero frame.
ggml_tensor * gather(graph_builder & g, ggml_tensor * x, std::vector<int32_t> index);

ggml_tensor * pad_reflect(graph_builder & g, ggml_tensor * x, int64_t left, int64_t right);

// Causal strided conv (SConv1d.forward): reflect-pad k − s on the left and `extra` on the right, then convolve.
ggml_tensor * conv1d(graph_builder & g, ggml_tensor * x, const conv1d_weights & conv, int64_t extra);

// Extra right padding of a causal down-sampling conv so that every frame is complete: ceil(L/s)·s − L
// (conv.py get_extra_padding_for_conv1d).
inline int64_t extra_padding(int64_t length, int64_t stride) { return (length + stride - 1) / stride * stride - length; }

// Transposed conv with the k − s trailing samples trimmed (SConvTranspose1d.forward, causal).
ggml_tensor * conv_transpose(graph_builder & g, ggml_tensor * x, const conv_transpose_weights & up);

// e^x − 1 for the ELU and the LSTM gates: ggml's scalar expm1f costs ~5 ns per element; this vectorises (exp by
// range reduction and a degree-6 polynomial, ~1 ulp; exp(x) − 1 differs from expm1 by < 1.2e-7 absolute for x ≤ 0).
// Inputs are clamped to [−87, 88], the range where e^x is a normal float.
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

// ELU (alpha 1) as a custom op over all threads.
ggml_tensor * elu(graph_builder & g, ggml_tensor * x);

// The columns [from, from + count) of a [C, T] tensor, as a new contiguous tensor.
ggml_tensor * columns(ggml_context * ctx, ggml_tensor * x, int64_t from, int64_t count);

// A [ne0, ne1] f32 graph input.
ggml_tensor * input_tensor(ggml_context * ctx, int64_t ne0, int64_t ne1, const char * name);

// Build and allocate the graph whose output is `out`.
ggml_cgraph * allocate_graph(compute_state & state, graph_builder & g, ggml_tensor * out);

// Build, allocate and run the graph whose output is `out` on `threads`; inputs are set by `set_inputs` once the
// graph is allocated; `cancel` (may be NULL) stops it between nodes.
template <typename SetInputs>
void run_graph(compute_state & state, graph_builder & g, ggml_tensor * out, int32_t threads, const volatile int32_t * cancel,
               SetInputs && set_inputs) {
    ggml_cgraph * graph = allocate_graph(state, g, out);
    set_inputs();
    g.upload();
    if (state.device) {
        state.device->compute(graph, threads, cancel);
    } else {
        state.cpu.compute(graph, threads, cancel);
    }
}

}  // namespace vall_e
