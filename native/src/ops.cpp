// The EnCodec graphs' building blocks. Convolutions follow encodec/modules/conv.py (SConv1d, SConvTranspose1d, pad1d)
// in a layout of our own: sums of f32 matmuls over contiguous views instead of im2col.
#include "ops.h"

namespace vall_e {

void graph_builder::upload() const {
    for (const auto & item : indices) {
        ggml_backend_tensor_set(item.first, item.second.data(), 0, item.second.size() * sizeof(int32_t));
    }
}

graph_builder::graph_builder(const compute_state & state, size_t n_tensors, size_t graph_size)
    : graph_builder(n_tensors, graph_size) {
    on_device = state.device != nullptr;
}

// EnCodec and Vocos graphs stay small (a chunk's stage); the scheduler is sized for the largest.
constexpr size_t k_device_graph_nodes = 8192;

compute_state::compute_state(ggml_backend_dev_t dev) {
    if (dev) {
        device = std::make_unique<device_compute>(dev, k_device_graph_nodes);
    } else {
        galloc = make_graph_allocator(cpu);
    }
}

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

// As a sum of matmuls over contiguous views, no im2col copy: seen as [s·in, L/s], the padded input's column t holds
// frames t·s … t·s + s − 1, so tap group m (taps m·s … m·s + s − 1) of output t reads column t + m.
ggml_tensor * conv1d(graph_builder & g, ggml_tensor * x, const conv1d_weights & conv, int64_t extra) {
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
        return ggml_add(g.ctx, mul_mat_f32(g.ctx, conv.gathered, cols), conv.b);
    }
    ggml_tensor * padded  = pad_reflect(g, x, conv.k - s, extra);
    const int64_t columns = padded->ne[1] / s;
    const int64_t frames  = columns - (int64_t) conv.groups.size() + 1;
    ggml_tensor * grouped = ggml_reshape_2d(g.ctx, padded, s * conv.in, columns);
    ggml_tensor * y       = nullptr;
    for (size_t m = 0; m < conv.groups.size(); ++m) {
        ggml_tensor * view = ggml_view_2d(g.ctx, grouped, s * conv.in, frames, grouped->nb[1], m * grouped->nb[1]);
        ggml_tensor * part = mul_mat_f32(g.ctx, conv.groups[m], view);
        y                  = y ? ggml_add(g.ctx, y, part) : part;
    }
    return ggml_add(g.ctx, y, conv.b);
}

// One matmul gives, per input frame, the 2s output steps it touches; output block t is the first half of frame t's
// plus the second half of frame t − 1's. With a zero frame put before the input, both halves are strided views of
// the same product and one add finishes the layer.
ggml_tensor * conv_transpose(graph_builder & g, ggml_tensor * x, const conv_transpose_weights & up) {
    ggml_context * ctx    = g.ctx;
    const int64_t  frames = x->ne[1];
    const int64_t  half   = up.stride * up.out;
    ggml_tensor *  x0     = ggml_pad_ext(ctx, x, 0, 0, 1, 0, 0, 0, 0, 0); // [in, 1 + T], column 0 zero
    ggml_tensor *  cols   = mul_mat_f32(ctx, up.w, x0);                 // [2s·out, 1 + T]
    ggml_tensor *  first  = ggml_view_2d(ctx, cols, half, frames, cols->nb[1], cols->nb[1]);
    ggml_tensor *  second = ggml_view_2d(ctx, cols, half, frames, cols->nb[1], (size_t) half * sizeof(float));
    ggml_tensor *  y      = ggml_reshape_2d(ctx, ggml_add(ctx, first, second), up.out, frames * up.stride);
    return ggml_add(ctx, y, up.b);
}

namespace {

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

}  // namespace

ggml_tensor * elu(graph_builder & g, ggml_tensor * x) {
    // A device runs ggml's own (expm1f: the same values within 1.2e-7); a custom op would run on the CPU.
    return g.on_device ? ggml_elu(g.ctx, x) : ggml_map_custom1(g.ctx, x, elu_op, GGML_N_TASKS_MAX, nullptr);
}

ggml_tensor * columns(ggml_context * ctx, ggml_tensor * x, int64_t from, int64_t count) {
    return ggml_cont(ctx, ggml_view_2d(ctx, x, x->ne[0], count, x->nb[1], (size_t) from * x->nb[1]));
}

ggml_tensor * input_tensor(ggml_context * ctx, int64_t ne0, int64_t ne1, const char * name) {
    ggml_tensor * t = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, ne0, ne1);
    ggml_set_name(t, name);
    ggml_set_input(t);
    return t;
}

ggml_cgraph * allocate_graph(compute_state & state, graph_builder & g, ggml_tensor * out) {
    ggml_set_output(out);
    ggml_cgraph * graph = ggml_new_graph_custom(g.ctx, g.graph_size, false);
    ggml_build_forward_expand(graph, out);
    if (state.device) {
        state.device->alloc(graph);
    } else if (!ggml_gallocr_alloc_graph(state.galloc.get(), graph)) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate an EnCodec graph");
    }
    return graph;
}

}  // namespace vall_e
