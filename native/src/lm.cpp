// The VALL-E decoder (vall_e/models/arch/llama.py under vall_e/models/base.py Base, with base.py's
// inputs_to_position_ids and its attention masks): a Llama-style stack over the GGUF's weights, built as our own ggml
// graph so that positions and masks are exactly the reference's:
//
//   x = Σ embedding rows per token                               (inputs, computed on the host)
//   per layer:  h = RMSNorm(x)·w;  q, k = RoPE(Wq·h, Wk·h, positions);  v = Wv·h
//               x += Wo · softmax(q·kᵀ/√d + mask) · v            (mask: causal by sequence index, or full;
//                                                                  block-diagonal between sequences)
//               h = RMSNorm(x)·w;  x += W_down · (act(W_gate·h) ⊙ W_up·h)   (act: exact GELU or SiLU)
//   logits = output[head rows] · (RMSNorm(x)·w) for the requested rows only
//
// RoPE is ggml's normal (interleaved) mode: the GGUF converter permuted the q/k rows for it. The KV cache
// (f16 by default, f32 on request) serves causal passes: tokens appended to it attend to everything cached and
// causally to each other.
#include "cpu-compute.h"
#include "device.h"
#include "lm-model.h"

#include <algorithm>
#include <ggml-cpu.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

struct vall_e_lm {
    vall_e::lm_model model;
};

struct vall_e_lm_context {
    vall_e_lm *                   lm = nullptr;
    int32_t                       n_ctx = 0;
    int32_t                       n_threads = 0;
    const volatile int32_t *      cancel = nullptr;
    vall_e::cpu_compute           cpu;
    vall_e::ggml_gallocr_ptr      galloc;  // the CPU path's
    std::unique_ptr<vall_e::device_compute> device; // a GPU model's: graphs scheduled on its device (and the CPU)
    vall_e::ggml_context_ptr      kv_ctx;
    vall_e::ggml_backend_buffer_ptr kv_buffer;
    std::vector<ggml_tensor *>    k_cache; // per layer [n_embd_kv, n_ctx], f16 or f32
    std::vector<ggml_tensor *>    v_cache; // per layer: [n_ctx, n_embd_kv] on the CPU (transposed: values of a key strided), [n_embd_kv, n_ctx] on a device
    int32_t                       n_past = 0;
    mutable std::atomic<bool>     busy{false};
    bool                          dump = false;
    struct dumped {
        std::string        name;
        int64_t            n_per_row = 0, n_rows = 0;
        std::vector<float> data;
    };
    std::vector<dumped> dumps; // the named intermediates of the last evaluation, when dump is on
};

namespace vall_e {
namespace {

constexpr size_t k_lm_graph_size = 8192;

// The KV cache's memory, on the model's device, allocated the first time a call writes to the cache.
void ensure_kv_cache(vall_e_lm_context & c) {
    if (c.kv_buffer) return;
    c.kv_buffer.reset(ggml_backend_alloc_ctx_tensors(c.kv_ctx.get(), c.device ? c.device->backend() : c.cpu.backend()));
    if (!c.kv_buffer) {
        // ggml frees what it allocated before the failing buffer, but leaves those tensors pointing into it: detach
        // every cache tensor, so that a later call allocates afresh rather than writing freed memory.
        for (ggml_tensor * t = ggml_get_first_tensor(c.kv_ctx.get()); t; t = ggml_get_next_tensor(c.kv_ctx.get(), t)) {
            t->data   = nullptr;
            t->buffer = nullptr;
        }
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate a KV cache of %d tokens", c.n_ctx);
    }
}

// The most nodes a graph of this model can have (up to 64 sequences, each its own attention per layer).
size_t max_graph_size(const lm_hparams & hp) { return k_lm_graph_size + 64 * (size_t) hp.n_layer * 16; }

// What one evaluation computes, prepared on the host.
struct lm_plan {
    int64_t              n_tokens = 0;  // new tokens
    int64_t              n_kv     = 0;  // keys attended (cached + new)
    int64_t              n_past   = 0;  // cached tokens before this call (cache path)
    bool                 use_cache = false;
    std::vector<float>   embd;          // [n_tokens][n_embd]
    std::vector<int32_t> positions;     // [n_tokens]
    std::vector<float>   mask;          // [n_tokens][n_kv]: 0 or −∞
    std::vector<int32_t> outputs;       // token indices whose logits are wanted
    int64_t              extra_outputs = 0; // trailing entries of `outputs` computed but not returned
    // Several sequences without the cache: each attends only to itself, so attention is computed per sequence
    // (its own [n][n] block and mask) instead of over all tokens with a block-diagonal mask — the same result with
    // Σ nᵢ² scores instead of (Σ nᵢ)².
    struct block {
        int64_t            start = 0, n = 0;
        std::vector<float> mask;  // [n][n]: 0 or −∞
    };
    std::vector<block> blocks;
};

void check_sequence(const vall_e_lm_sequence & s, const lm_hparams & hp, int index) {
    if (s.n_tokens < 1 || s.n_tokens > (1 << 20)) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "sequence %d: Expected at least 1 token, got %d", index, s.n_tokens);
    }
    if (!s.row_offsets || !s.row_ids || !s.positions) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "sequence %d: row_offsets, row_ids and positions must not be NULL", index);
    }
    if (s.row_offsets[0] != 0) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "sequence %d: row_offsets must start at 0", index);
    }
    for (int32_t i = 0; i < s.n_tokens; ++i) {
        if (s.row_offsets[i + 1] <= s.row_offsets[i] || s.row_offsets[i + 1] - s.row_offsets[i] > 64) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "sequence %d: token %d must sum 1 to 64 embedding rows", index, i);
        }
        for (int32_t r = s.row_offsets[i]; r < s.row_offsets[i + 1]; ++r) {
            if (s.row_ids[r] < 0 || s.row_ids[r] >= hp.n_vocab) {
                fail(VALL_E_ERR_INVALID_ARGUMENT, "sequence %d: Expected embedding rows from 0 to %d, got %d at token %d",
                     index, hp.n_vocab - 1, s.row_ids[r], i);
            }
        }
        if (s.positions[i] < 0 || s.positions[i] > (1 << 24)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "sequence %d: Expected positions from 0 to %d, got %d at token %d", index,
                 1 << 24, s.positions[i], i);
        }
    }
    if (s.n_outputs < 1 || s.n_outputs > s.n_tokens) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "sequence %d: Expected from 1 to %d outputs, got %d", index, s.n_tokens,
             s.n_outputs);
    }
}

void check_head(const lm_hparams & hp, int32_t head_start, int32_t head_end) {
    if (head_start < 0 || head_end > hp.n_vocab || head_end <= head_start) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected a head range within [0, %d), got [%d, %d)", hp.n_vocab, head_start,
             head_end);
    }
}

// Token embeddings (sums of rows), positions, and the sequence's outputs appended to the plan.
void add_sequence(lm_plan & plan, const lm_model & model, const vall_e_lm_sequence & s) {
    const int64_t      n_embd = model.hparams.n_embd;
    const int64_t      base   = plan.n_tokens;
    std::vector<float> scratch;
    plan.embd.resize((size_t) ((base + s.n_tokens) * n_embd), 0.0f);
    for (int32_t i = 0; i < s.n_tokens; ++i) {
        float * row = plan.embd.data() + (base + i) * n_embd;
        for (int32_t r = s.row_offsets[i]; r < s.row_offsets[i + 1]; ++r) lm_add_embedding(model, s.row_ids[r], row, scratch);
        plan.positions.push_back(s.positions[i]);
    }
    for (int32_t i = s.n_tokens - s.n_outputs; i < s.n_tokens; ++i) plan.outputs.push_back((int32_t) (base + i));
    plan.n_tokens += s.n_tokens;
}

// Build, allocate and run the graph for a plan; write logits [outputs][head].
void evaluate(vall_e_lm_context & c, const lm_plan & plan, int32_t head_start, int32_t head_end, float * logits) {
    const lm_model &   model = c.lm->model;
    const lm_hparams & hp    = model.hparams;
    const int64_t      E = hp.n_embd, D = hp.head_dim(), H = hp.n_head, HKV = hp.n_head_kv, EKV = hp.n_embd_kv();
    const int64_t      N = plan.n_tokens, NKV = plan.n_kv, NOUT = (int64_t) plan.outputs.size();

    const bool       split      = !plan.use_cache && plan.blocks.size() > 1;
    const size_t     graph_size = k_lm_graph_size + (split ? plan.blocks.size() * (size_t) hp.n_layer * 16 : 0);
    ggml_context_ptr owner      = make_meta_context(graph_size, graph_size);
    ggml_context *   ctx        = owner.get();
    ggml_cgraph *    graph      = ggml_new_graph_custom(ctx, graph_size, false);

    ggml_tensor * inp = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, E, N);
    ggml_set_name(inp, "inp_embd");
    ggml_set_input(inp);
    ggml_tensor * pos = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, N);
    ggml_set_name(pos, "inp_pos");
    ggml_set_input(pos);
    // Without the cache, attention is ggml's flash attention (its CPU backend's tiled kernel: scores, softmax and the
    // weighted values per tile, never the whole [keys × queries × heads] score matrix; llama.cpp's choice on CPU), whose
    // mask is F16 — and absent where nothing is masked (full attention: NAR, NAR-len). The cached path (an AR step, a
    // prefill into the cache) keeps, on the CPU, the explicit product against the cache's transposed values; on a
    // device it is flash attention too, over a cache of untransposed values (as llama.cpp's with flash attention).
    const bool flash = !plan.use_cache || c.device;
    auto       any_masked = [](const std::vector<float> & m) {
        return std::any_of(m.begin(), m.end(), [](float value) { return value != 0.0f; });
    };
    ggml_tensor *              mask = nullptr;
    std::vector<ggml_tensor *> block_masks;
    if (split) {
        for (size_t b = 0; b < plan.blocks.size(); ++b) {
            const int64_t n = plan.blocks[b].n;
            ggml_tensor * m = nullptr;
            if (any_masked(plan.blocks[b].mask)) {
                m = ggml_new_tensor_2d(ctx, GGML_TYPE_F16, n, n);
                ggml_format_name(m, "inp_mask_%zu", b);
                ggml_set_input(m);
            }
            block_masks.push_back(m);
        }
    } else if (!flash || any_masked(plan.mask)) {
        mask = ggml_new_tensor_2d(ctx, flash ? GGML_TYPE_F16 : GGML_TYPE_F32, NKV, N);
        ggml_set_name(mask, "inp_mask");
        ggml_set_input(mask);
    }
    ggml_tensor * out_ids = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, NOUT);
    ggml_set_name(out_ids, "inp_out_ids");
    ggml_set_input(out_ids);

    // Named intermediates a debug dump copies out (marked as outputs so the allocator keeps them).
    // Each with the dimension that counts tokens (q and k are [head_dim, heads, tokens]).
    std::vector<std::pair<ggml_tensor *, int>> named;
    auto keep = [&](ggml_tensor * t, int row_dim = 1) {
        if (c.dump) {
            ggml_set_output(t);
            named.emplace_back(t, row_dim);
        }
    };
    keep(inp);

    const float   scale = 1.0f / std::sqrt((float) D);
    ggml_tensor * x     = inp;
    for (int il = 0; il < hp.n_layer; ++il) {
        const lm_layer & L = model.layers[(size_t) il];

        // attention
        ggml_tensor * h = ggml_mul(ctx, ggml_rms_norm(ctx, x, hp.rms_eps), L.attn_norm);
        ggml_tensor * q = ggml_reshape_3d(ctx, mul_mat_f32(ctx, L.wq, h), D, H, N);
        ggml_tensor * k = ggml_reshape_3d(ctx, mul_mat_f32(ctx, L.wk, h), D, HKV, N);
        ggml_tensor * v = mul_mat_f32(ctx, L.wv, h); // [EKV, N]
        q = ggml_rope_ext(ctx, q, pos, nullptr, (int) D, GGML_ROPE_TYPE_NORMAL, 0, hp.rope_theta, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
        k = ggml_rope_ext(ctx, k, pos, nullptr, (int) D, GGML_ROPE_TYPE_NORMAL, 0, hp.rope_theta, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
        ggml_format_name(q, "l%d.q", il);
        ggml_format_name(k, "l%d.k", il);
        keep(q, 2);
        keep(k, 2);

        // Flash attention of the tokens [start, start + n) among themselves: [E, n].
        auto flash_attention = [&](int64_t start, int64_t n, ggml_tensor * m) {
            ggml_tensor * qb = ggml_view_3d(ctx, q, D, H, n, q->nb[1], q->nb[2], (size_t) start * q->nb[2]);
            ggml_tensor * kb = ggml_view_3d(ctx, k, D, HKV, n, k->nb[1], k->nb[2], (size_t) start * k->nb[2]);
            ggml_tensor * vb = ggml_view_3d(ctx, v, D, HKV, n, D * ggml_element_size(v), v->nb[1], (size_t) start * v->nb[1]);
            ggml_tensor * o  = ggml_flash_attn_ext(ctx, ggml_permute(ctx, qb, 0, 2, 1, 3), ggml_permute(ctx, kb, 0, 2, 1, 3),
                                                   ggml_permute(ctx, vb, 0, 2, 1, 3), m, scale, 0.0f, 0.0f); // [D, H, n]
            ggml_prec_set_acc(o, GGML_PREC_F32);
            return ggml_reshape_2d(ctx, o, E, n);
        };
        ggml_tensor * attn = nullptr; // [E, N]
        if (split) {
            // Per sequence: its queries against its own keys and values, then the outputs side by side.
            for (size_t b = 0; b < plan.blocks.size(); ++b) {
                ggml_tensor * out = flash_attention(plan.blocks[b].start, plan.blocks[b].n, block_masks[b]);
                attn              = attn ? ggml_concat(ctx, attn, out, 1) : out;
            }
        } else if (!plan.use_cache) {
            attn = flash_attention(0, N, mask);
        } else if (c.device) {
            // Against the cache on a device: the new keys and values written into it, then flash attention over all
            // NKV of them.
            ggml_tensor * kc = c.k_cache[(size_t) il];
            ggml_tensor * vc = c.v_cache[(size_t) il];
            const size_t  f  = ggml_type_size(kc->type);
            ggml_build_forward_expand(graph, ggml_cpy(ctx, ggml_reshape_2d(ctx, k, EKV, N),
                                                      ggml_view_2d(ctx, kc, EKV, N, kc->nb[1], (size_t) plan.n_past * kc->nb[1])));
            ggml_build_forward_expand(graph, ggml_cpy(ctx, v, ggml_view_2d(ctx, vc, EKV, N, vc->nb[1], (size_t) plan.n_past * vc->nb[1])));
            ggml_tensor * keys   = ggml_permute(ctx, ggml_view_3d(ctx, kc, D, HKV, NKV, D * f, EKV * f, 0), 0, 2, 1, 3); // [D, NKV, HKV]
            ggml_tensor * values = ggml_permute(ctx, ggml_view_3d(ctx, vc, D, HKV, NKV, D * f, EKV * f, 0), 0, 2, 1, 3);
            ggml_tensor * o      = ggml_flash_attn_ext(ctx, ggml_permute(ctx, q, 0, 2, 1, 3), keys, values, mask, scale, 0.0f, 0.0f);
            ggml_prec_set_acc(o, GGML_PREC_F32);
            attn = ggml_reshape_2d(ctx, o, E, N);
        } else {
            // Against the cache: the new keys and (transposed) values written into it, then all NKV of them.
            ggml_tensor * kc = c.k_cache[(size_t) il];
            ggml_tensor * vc = c.v_cache[(size_t) il];
            const size_t  f  = ggml_type_size(kc->type);
            ggml_build_forward_expand(graph, ggml_cpy(ctx, ggml_reshape_2d(ctx, k, EKV, N),
                                                      ggml_view_2d(ctx, kc, EKV, N, kc->nb[1], (size_t) plan.n_past * kc->nb[1])));
            ggml_build_forward_expand(graph, ggml_cpy(ctx, ggml_transpose(ctx, v),
                                                      ggml_view_2d(ctx, vc, N, EKV, vc->nb[1], (size_t) plan.n_past * f)));
            ggml_tensor * keys   = ggml_permute(ctx, ggml_view_3d(ctx, kc, D, HKV, NKV, D * f, EKV * f, 0), 0, 2, 1, 3); // [D, NKV, HKV]
            ggml_tensor * values = ggml_view_3d(ctx, vc, NKV, D, HKV, vc->nb[1], vc->nb[1] * D, 0);                 // [NKV, D, HKV]
            ggml_tensor * kq = ggml_mul_mat(ctx, keys, ggml_permute(ctx, q, 0, 2, 1, 3)); // [NKV, N, H]
            kq               = ggml_soft_max_ext(ctx, kq, mask, scale, 0.0f);
            ggml_tensor * kqv = ggml_mul_mat(ctx, values, kq);                            // [D, N, H]
            attn              = ggml_cont_2d(ctx, ggml_permute(ctx, kqv, 0, 2, 1, 3), E, N);
        }
        x = ggml_add(ctx, x, mul_mat_f32(ctx, L.wo, attn));
        ggml_format_name(x, "l%d.attn_out", il);
        keep(x);

        // gated MLP
        h                = ggml_mul(ctx, ggml_rms_norm(ctx, x, hp.rms_eps), L.ffn_norm);
        ggml_tensor * gate = mul_mat_f32(ctx, L.ffn_gate, h);
        gate = model.activation == VALL_E_LM_SILU ? ggml_silu(ctx, gate) : ggml_gelu_erf(ctx, gate);
        x    = ggml_add(ctx, x, mul_mat_f32(ctx, L.ffn_down, ggml_mul(ctx, gate, mul_mat_f32(ctx, L.ffn_up, h))));
        ggml_format_name(x, "l%d.out", il);
        keep(x);
    }
    // Only the requested rows, only the head's rows of the output matrix.
    ggml_tensor * rows = ggml_get_rows(ctx, x, out_ids);
    rows               = ggml_mul(ctx, ggml_rms_norm(ctx, rows, hp.rms_eps), model.output_norm);
    ggml_set_name(rows, "out_norm");
    keep(rows);
    ggml_tensor * head = ggml_view_2d(ctx, model.output, E, head_end - head_start, model.output->nb[1],
                                      (size_t) head_start * model.output->nb[1]);
    ggml_tensor * out  = mul_mat_f32(ctx, head, rows); // [head, NOUT]
    if (model.output_bias) {
        out = ggml_add(ctx, out, ggml_view_1d(ctx, model.output_bias, head_end - head_start,
                                              (size_t) head_start * model.output_bias->nb[0]));
    }
    ggml_set_name(out, "logits");
    ggml_set_output(out);
    for (const auto & [t, row_dim] : named) ggml_build_forward_expand(graph, t);
    ggml_build_forward_expand(graph, out);

    if (c.device) {
        c.device->alloc(graph);
    } else if (!ggml_gallocr_alloc_graph(c.galloc.get(), graph)) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate the LM graph for %lld tokens", (long long) N);
    }
    ggml_backend_tensor_set(inp, plan.embd.data(), 0, plan.embd.size() * sizeof(float));
    ggml_backend_tensor_set(pos, plan.positions.data(), 0, plan.positions.size() * sizeof(int32_t));
    auto set_mask = [](ggml_tensor * m, const std::vector<float> & values) {
        if (!m) return; // nothing masked
        if (m->type == GGML_TYPE_F32) {
            ggml_backend_tensor_set(m, values.data(), 0, values.size() * sizeof(float));
            return;
        }
        std::vector<ggml_fp16_t> half(values.size());
        ggml_fp32_to_fp16_row(values.data(), half.data(), (int64_t) values.size());
        ggml_backend_tensor_set(m, half.data(), 0, half.size() * sizeof(ggml_fp16_t));
    };
    if (split) {
        for (size_t b = 0; b < plan.blocks.size(); ++b) set_mask(block_masks[b], plan.blocks[b].mask);
    } else {
        set_mask(mask, plan.mask);
    }
    ggml_backend_tensor_set(out_ids, plan.outputs.data(), 0, plan.outputs.size() * sizeof(int32_t));
    if (c.device) {
        c.device->compute(graph, c.n_threads, c.cancel);
    } else {
        c.cpu.compute(graph, c.n_threads, c.cancel);
    }
    const int64_t returned = NOUT - plan.extra_outputs;
    ggml_backend_tensor_get(out, logits, 0, (size_t) returned * out->nb[1]);

    c.dumps.clear();
    if (c.dump) {
        named.emplace_back(out, 1);
        for (const auto & [t, row_dim] : named) {
            vall_e_lm_context::dumped d;
            d.name = ggml_get_name(t);
            // The output rows' tensors without the rows computed only to be dropped.
            const bool per_output = t == rows || t == out;
            d.n_rows    = per_output ? returned : t->ne[row_dim];
            d.n_per_row = ggml_nelements(t) / t->ne[row_dim];
            d.data.resize((size_t) (d.n_rows * d.n_per_row));
            ggml_backend_tensor_get(t, d.data.data(), 0, d.data.size() * sizeof(float));
            c.dumps.push_back(std::move(d));
        }
    }
}

}  // namespace
}  // namespace vall_e

extern "C" {

vall_e_lm_params vall_e_lm_default_params(void) {
    vall_e_lm_params params;
    params.activation  = VALL_E_LM_GELU;
    params.head_biases = 1;
    params.device      = -1;
    return params;
}

vall_e_status vall_e_lm_load(const char * path, const vall_e_lm_params * params, vall_e_lm ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!path || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_lm_load: path and out must not be NULL");
        }
        *out    = nullptr;
        auto lm = std::make_unique<vall_e_lm>();
        install_ggml_logger();
        const vall_e_lm_params defaults = vall_e_lm_default_params();
        if (!params) params = &defaults;
        if (params->head_biases != 0 && params->head_biases != 1) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected 0 or 1 for head_biases, got %d", params->head_biases);
        }
        lm_model_load(lm->model, path, params->activation, params->head_biases == 1, params->device);
        *out = lm.release();
    });
}

void vall_e_lm_get_info(const vall_e_lm * lm, vall_e_lm_info * info) {
    const vall_e::lm_hparams & hp = lm->model.hparams;
    info->n_embd                  = hp.n_embd;
    info->n_layer                 = hp.n_layer;
    info->n_head                  = hp.n_head;
    info->n_head_kv               = hp.n_head_kv;
    info->n_ff                    = hp.n_ff;
    info->n_vocab                 = hp.n_vocab;
    info->n_ctx_train             = hp.n_ctx_train;
    info->rms_eps                 = hp.rms_eps;
    info->rope_theta              = hp.rope_theta;
    info->weight_type             = (int32_t) lm->model.layers[0].wq->type;
    info->file_bytes              = (int64_t) lm->model.file->size();
    info->weight_bytes            = lm->model.weight_bytes;
    info->repacked_bytes          = lm->model.repacked_bytes;
    info->has_output_bias         = lm->model.has_output_bias ? 1 : 0;
    info->device                  = lm->model.device_index;
    info->device_bytes            = lm->model.device_bytes;
}

void vall_e_lm_free(vall_e_lm * lm) { delete lm; }

vall_e_lm_context_params vall_e_lm_context_default_params(void) {
    vall_e_lm_context_params params;
    params.n_ctx      = 4096;
    params.n_threads  = 0;
    params.cache_type = 1;
    params.cancel     = nullptr;
    return params;
}

vall_e_status vall_e_lm_context_init(vall_e_lm * lm, const vall_e_lm_context_params * params, vall_e_lm_context ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!lm || !params || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_lm_context_init: arguments must not be NULL");
        }
        *out = nullptr;
        if (params->n_ctx < 1 || params->n_ctx > (1 << 20)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 1 to %d for n_ctx, got %d", 1 << 20, params->n_ctx);
        }
        auto c       = std::make_unique<vall_e_lm_context>();
        c->lm        = lm;
        c->n_ctx     = params->n_ctx;
        c->n_threads = resolve_threads(params->n_threads);
        c->cancel    = params->cancel;
        if (lm->model.device) {
            c->device = std::make_unique<device_compute>(lm->model.device, max_graph_size(lm->model.hparams));
        } else {
            c->galloc = make_graph_allocator(c->cpu);
        }
        if (params->cache_type != 0 && params->cache_type != 1) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected 0 (f32) or 1 (f16) for cache_type, got %d", params->cache_type);
        }
        const ggml_type    type = params->cache_type == 1 ? GGML_TYPE_F16 : GGML_TYPE_F32;
        const lm_hparams & hp   = lm->model.hparams;
        c->kv_ctx               = make_meta_context((size_t) (2 * hp.n_layer), 0);
        for (int il = 0; il < hp.n_layer; ++il) {
            c->k_cache.push_back(ggml_new_tensor_2d(c->kv_ctx.get(), type, hp.n_embd_kv(), c->n_ctx));
            // Values transposed on the CPU (its explicit product reads a key's values as one row); as the keys on a device.
            c->v_cache.push_back(c->device ? ggml_new_tensor_2d(c->kv_ctx.get(), type, hp.n_embd_kv(), c->n_ctx)
                                           : ggml_new_tensor_2d(c->kv_ctx.get(), type, c->n_ctx, hp.n_embd_kv()));
        }
        // The cache's memory is allocated by the first call that writes it (ensure_kv_cache): a context that only
        // evaluates without the cache (NAR-len, NAR, a batch of sentences) never holds one.
        *out = c.release();
    });
}

void vall_e_lm_context_free(vall_e_lm_context * ctx) { delete ctx; }

void vall_e_lm_set_dump(vall_e_lm_context * ctx, int32_t enabled) {
    ctx->dump = enabled != 0;
    if (!ctx->dump) ctx->dumps.clear();
}

int32_t vall_e_lm_dump_count(const vall_e_lm_context * ctx) { return (int32_t) ctx->dumps.size(); }

const char * vall_e_lm_dump_get(const vall_e_lm_context * ctx, int32_t index, const float ** data, int64_t * n_per_row,
                                int64_t * n_rows) {
    if (index < 0 || (size_t) index >= ctx->dumps.size()) return nullptr;
    const auto & d = ctx->dumps[(size_t) index];
    if (data) *data = d.data.data();
    if (n_per_row) *n_per_row = d.n_per_row;
    if (n_rows) *n_rows = d.n_rows;
    return d.name.c_str();
}

vall_e_status vall_e_lm_forward(vall_e_lm_context * ctx, const vall_e_lm_sequence * sequences, int32_t n_sequences,
                                int32_t head_start, int32_t head_end, float * logits) {
    using namespace vall_e;
    return guard([&] {
        if (!ctx || !sequences || !logits) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_lm_forward: arguments must not be NULL");
        }
        if (n_sequences < 1 || n_sequences > 64) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 1 to 64 sequences, got %d", n_sequences);
        }
        const lm_model & model = ctx->lm->model;
        check_head(model.hparams, head_start, head_end);
        int64_t total = 0;
        for (int i = 0; i < n_sequences; ++i) {
            check_sequence(sequences[i], model.hparams, i);
            total += sequences[i].n_tokens;
        }
        if (total > ctx->n_ctx) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "The sequences hold %lld tokens, more than the context size %d",
                 (long long) total, ctx->n_ctx);
        }
        busy_scope busy(ctx->busy, "LM context");
        lm_plan    plan;
        for (int i = 0; i < n_sequences; ++i) add_sequence(plan, model, sequences[i]);
        plan.n_kv = plan.n_tokens;
        // Each sequence attends to itself only: causal by index, or full.
        const float minus_inf = -std::numeric_limits<float>::infinity();
        int64_t     start     = 0;
        for (int i = 0; i < n_sequences; ++i) {
            lm_plan::block block;
            block.start = start;
            block.n     = sequences[i].n_tokens;
            block.mask.assign((size_t) (block.n * block.n), minus_inf);
            for (int64_t q = 0; q < block.n; ++q) {
                const int64_t last = sequences[i].causal ? q : block.n - 1;
                for (int64_t kk = 0; kk <= last; ++kk) block.mask[(size_t) (q * block.n + kk)] = 0.0f;
            }
            start += block.n;
            plan.blocks.push_back(std::move(block));
        }
        if (plan.blocks.size() == 1) {
            plan.mask = std::move(plan.blocks[0].mask);
            plan.blocks.clear();
        }
        // One output row takes ggml-cpu's vector-dot path for the head's product, two or more its tiled GEMM
        // (llamafile_sgemm declines n < 2), which rounds differently: a single output is computed as a pair (the
        // second dropped), so that a sequence's logits are the same alone as in a batch with others.
        if (plan.outputs.size() == 1) {
            plan.outputs.push_back(plan.outputs[0]);
            plan.extra_outputs = 1;
        }
        evaluate(*ctx, plan, head_start, head_end, logits);
    });
}

vall_e_status vall_e_lm_cache_append(vall_e_lm_context * ctx, const vall_e_lm_sequence * sequence, int32_t head_start,
                                     int32_t head_end, float * logits) {
    using namespace vall_e;
    return guard([&] {
        if (!ctx || !sequence || !logits) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_lm_cache_append: arguments must not be NULL");
        }
        const lm_model & model = ctx->lm->model;
        check_head(model.hparams, head_start, head_end);
        check_sequence(*sequence, model.hparams, 0);
        if ((int64_t) ctx->n_past + sequence->n_tokens > ctx->n_ctx) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "The cache holds %d tokens; %d more exceed the context size %d", ctx->n_past,
                 sequence->n_tokens, ctx->n_ctx);
        }
        busy_scope busy(ctx->busy, "LM context");
        ensure_kv_cache(*ctx);
        lm_plan    plan;
        add_sequence(plan, model, *sequence);
        plan.use_cache = true;
        plan.n_past    = ctx->n_past;
        plan.n_kv      = ctx->n_past + plan.n_tokens;
        plan.mask.assign((size_t) (plan.n_tokens * plan.n_kv), -std::numeric_limits<float>::infinity());
        for (int64_t q = 0; q < plan.n_tokens; ++q) {
            for (int64_t kk = 0; kk <= plan.n_past + q; ++kk) plan.mask[(size_t) (q * plan.n_kv + kk)] = 0.0f;
        }
        evaluate(*ctx, plan, head_start, head_end, logits);
        ctx->n_past += sequence->n_tokens;
    });
}

vall_e_status vall_e_lm_cache_copy(vall_e_lm_context * dst, const vall_e_lm_context * src) {
    using namespace vall_e;
    return guard([&] {
        if (!dst || !src) fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_lm_cache_copy: arguments must not be NULL");
        if (dst == src) return;
        if (dst->lm != src->lm) fail(VALL_E_ERR_INVALID_ARGUMENT, "Cannot copy a cache between contexts of different models");
        if (dst->k_cache.empty() || dst->k_cache[0]->type != src->k_cache[0]->type) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Cannot copy a cache between contexts of different cache types");
        }
        if (src->n_past > dst->n_ctx) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "The source cache holds %d tokens, more than the context size %d", src->n_past,
                 dst->n_ctx);
        }
        busy_scope busy(dst->busy, "LM context");
        busy_scope busy_src(src->busy, "LM context");
        const size_t n = (size_t) src->n_past;
        if (n == 0) { // nothing cached (and perhaps no cache allocated on either side)
            dst->n_past = 0;
            return;
        }
        ensure_kv_cache(*dst); // a source with cached tokens has its cache
        std::vector<uint8_t> staging;
        for (size_t il = 0; il < dst->k_cache.size(); ++il) {
            // Keys: one row of n_embd_kv per token, the first n rows.
            ggml_tensor * kd = dst->k_cache[il];
            ggml_tensor * ks = src->k_cache[il];
            staging.resize(n * ks->nb[1]);
            ggml_backend_tensor_get(ks, staging.data(), 0, staging.size());
            ggml_backend_tensor_set(kd, staging.data(), 0, staging.size());
            ggml_tensor * vd = dst->v_cache[il];
            ggml_tensor * vs = src->v_cache[il];
            if (dst->device) { // values laid out as the keys
                ggml_backend_tensor_get(vs, staging.data(), 0, staging.size());
                ggml_backend_tensor_set(vd, staging.data(), 0, staging.size());
                continue;
            }
            // Values (transposed): per channel a row of n_ctx entries, the first n of each (row strides may differ).
            const size_t  f  = ggml_type_size(vs->type);
            staging.resize(n * f);
            for (int64_t row = 0; row < vs->ne[1]; ++row) {
                ggml_backend_tensor_get(vs, staging.data(), (size_t) row * vs->nb[1], staging.size());
                ggml_backend_tensor_set(vd, staging.data(), (size_t) row * vd->nb[1], staging.size());
            }
        }
        dst->n_past = src->n_past;
    });
}

void vall_e_lm_cache_clear(vall_e_lm_context * ctx) {
    if (ctx) {
        ctx->n_past = 0;
    }
}

int32_t vall_e_lm_cache_length(const vall_e_lm_context * ctx) { return ctx ? ctx->n_past : 0; }

vall_e_status vall_e_quantize(int32_t type, const float * values, int64_t n_rows, int64_t n_per_row, void * out,
                              size_t capacity, size_t * written) {
    using namespace vall_e;
    return guard([&] {
        if (!values || !out || !written) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_quantize: arguments must not be NULL");
        }
        if (type < 0 || type >= GGML_TYPE_COUNT || ggml_type_size((ggml_type) type) == 0 ||
            ggml_quantize_requires_imatrix((ggml_type) type)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected a ggml type that quantizes without an importance matrix, got %d", type);
        }
        const ggml_type t = (ggml_type) type;
        if (n_rows < 1 || n_per_row < 1 || n_per_row % ggml_blck_size(t) != 0) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected rows of a multiple of %lld values for %s, got %lld",
                 (long long) ggml_blck_size(t), ggml_type_name(t), (long long) n_per_row);
        }
        const size_t bytes = ggml_row_size(t, n_per_row) * (size_t) n_rows;
        if (bytes > capacity) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_quantize: %zu bytes needed, %zu given", bytes, capacity);
        }
        if (t == GGML_TYPE_F32) {
            std::memcpy(out, values, bytes);
        } else if (t == GGML_TYPE_F16) {
            ggml_fp32_to_fp16_row(values, static_cast<ggml_fp16_t *>(out), n_rows * n_per_row);
        } else if (t == GGML_TYPE_BF16) {
            ggml_fp32_to_bf16_row(values, static_cast<ggml_bf16_t *>(out), n_rows * n_per_row);
        } else {
            ggml_quantize_chunk(t, values, out, 0, n_rows, n_per_row, nullptr);
        }
        *written = bytes;
    });
}

}  // extern "C"
