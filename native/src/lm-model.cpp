// Loading a VALL-E GGUF: ggml's GGUF reader for the header and tensor table (no data read), our own checks of
// everything the graph relies on, the file memory-mapped so weights stay in the page cache, and the embedding
// table dequantized once. Nothing user-controlled reaches a ggml assert: key types are checked before reading them,
// tensor types, shapes and data ranges before the graph ever sees them.
#include "lm-model.h"

#include "device.h"

#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <gguf.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

namespace vall_e {

namespace {

struct gguf_deleter {
    void operator()(gguf_context * ctx) const { gguf_free(ctx); }
};

// The CPU backend's extra buffer type that stores a quantized matrix re-laid-out for its tiled kernels ("CPU_REPACK":
// Q4_0, Q4_K, IQ4_NL, MXFP4 with AVX2, Q2_K with AVX-512, more on ARM), as llama.cpp's weight placement
// (llama-model.cpp, make_cpu_buft_list) finds it: through the CPU registry's ggml_backend_dev_get_extra_bufts.
// VALL_E_NO_REPACK=1 leaves every weight in the mapping (to measure the difference).
ggml_backend_buffer_type_t repack_buffer_type() {
    const char * off = std::getenv("VALL_E_NO_REPACK");
    if (off && off[0] && std::strcmp(off, "0") != 0) return nullptr;
    ggml_backend_reg_t reg = ggml_backend_cpu_reg();
    auto get_extra = (ggml_backend_dev_get_extra_bufts_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
    if (!get_extra) return nullptr;
    for (ggml_backend_buffer_type_t * buft = get_extra(ggml_backend_reg_dev_get(reg, 0)); buft && *buft; ++buft) {
        if (std::strcmp(ggml_backend_buft_name(*buft), "CPU_REPACK") == 0) return *buft;
    }
    return nullptr;
}

// Whether the CPU backend runs `weight` · x (x f32, [n_embd-like, rows]) from `buft`: the device's own check of a
// matrix product whose weight lives in that buffer type (a zero-size buffer stands for it), as llama.cpp asks.
bool runs_from(ggml_backend_buffer_type_t buft, const ggml_tensor * weight) {
    ggml_init_params params = { 4 * ggml_tensor_overhead(), nullptr, true }; // w, x, y
    ggml_context_ptr ctx(ggml_init(params));
    ggml_backend_buffer_ptr probe(ggml_backend_buft_alloc_buffer(buft, 0));
    if (!ctx || !probe) return false;
    ggml_tensor * w = ggml_dup_tensor(ctx.get(), weight);
    w->buffer       = probe.get();
    ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, weight->ne[0], 512);
    ggml_tensor * y = ggml_mul_mat(ctx.get(), w, x);
    return ggml_backend_dev_supports_op(ggml_backend_buft_get_device(buft), y);
}

int64_t key_id(gguf_context * g, const std::string & key) { return gguf_find_key(g, key.c_str()); }

uint32_t required_u32(gguf_context * g, const std::string & path, const std::string & key) {
    const int64_t id = key_id(g, key);
    if (id < 0) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: metadata key %s is missing", path.c_str(), key.c_str());
    }
    switch (gguf_get_kv_type(g, id)) {
        case GGUF_TYPE_UINT32: return gguf_get_val_u32(g, id);
        case GGUF_TYPE_INT32: {
            const int32_t v = gguf_get_val_i32(g, id);
            if (v < 0) fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: metadata key %s is negative", path.c_str(), key.c_str());
            return (uint32_t) v;
        }
        case GGUF_TYPE_UINT64: {
            const uint64_t v = gguf_get_val_u64(g, id);
            if (v > UINT32_MAX) fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: metadata key %s is out of range", path.c_str(), key.c_str());
            return (uint32_t) v;
        }
        default: fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: metadata key %s is not an integer", path.c_str(), key.c_str());
    }
}

float optional_f32(gguf_context * g, const std::string & path, const std::string & key, float fallback) {
    const int64_t id = key_id(g, key);
    if (id < 0) {
        return fallback;
    }
    if (gguf_get_kv_type(g, id) != GGUF_TYPE_FLOAT32) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: metadata key %s is not a float32", path.c_str(), key.c_str());
    }
    return gguf_get_val_f32(g, id);
}

const std::set<ggml_type> & matrix_types() {
    static const std::set<ggml_type> types = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_BF16, GGML_TYPE_Q8_0,
                                              GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
                                              GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
                                              GGML_TYPE_Q6_K};
    return types;
}

}  // namespace

void lm_model_load(lm_model & model, const std::string & path, int32_t activation, bool head_biases, int32_t device_index) {
    model.device       = device_or_cpu(device_index);
    model.device_index = model.device ? device_index : -1;
    if (activation != VALL_E_LM_GELU && activation != VALL_E_LM_SILU) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected 0 (gelu) or 1 (silu) for activation, got %d", activation);
    }
    model.activation = activation;
    model.file       = std::make_unique<mapped_file>(path);
    const uint8_t * bytes = model.file->data();
    const size_t    size  = model.file->size();
    if (size == 0) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s is empty or unreadable", path.c_str());
    }
    if (size < 8 || std::memcmp(bytes, "GGUF", 4) != 0) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s is not a GGUF file (no GGUF magic)", path.c_str());
    }

    ggml_context *   meta = nullptr;
    gguf_init_params gp   = {/*.no_alloc =*/true, /*.ctx =*/&meta};
    std::unique_ptr<gguf_context, gguf_deleter> g(gguf_init_from_file(path.c_str(), gp));
    if (!g) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s is not a readable GGUF file (malformed or truncated header)", path.c_str());
    }
    ggml_context_ptr meta_owner(meta);

    const int64_t arch_id = key_id(g.get(), "general.architecture");
    if (arch_id < 0 || gguf_get_kv_type(g.get(), arch_id) != GGUF_TYPE_STRING) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: general.architecture is missing", path.c_str());
    }
    const std::string arch = gguf_get_val_str(g.get(), arch_id);
    if (arch != "llama") {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: architecture is \"%s\", expected \"llama\" (a VALL-E export)", path.c_str(),
             arch.c_str());
    }
    lm_hparams & hp = model.hparams;
    hp.n_embd       = (int32_t) required_u32(g.get(), path, "llama.embedding_length");
    hp.n_layer      = (int32_t) required_u32(g.get(), path, "llama.block_count");
    hp.n_head       = (int32_t) required_u32(g.get(), path, "llama.attention.head_count");
    hp.n_head_kv    = key_id(g.get(), "llama.attention.head_count_kv") >= 0
                          ? (int32_t) required_u32(g.get(), path, "llama.attention.head_count_kv")
                          : hp.n_head;
    hp.n_ff         = (int32_t) required_u32(g.get(), path, "llama.feed_forward_length");
    hp.n_ctx_train  = key_id(g.get(), "llama.context_length") >= 0
                          ? (int32_t) required_u32(g.get(), path, "llama.context_length")
                          : 0;
    hp.rms_eps      = optional_f32(g.get(), path, "llama.attention.layer_norm_rms_epsilon", 1e-6f);
    hp.rope_theta   = optional_f32(g.get(), path, "llama.rope.freq_base", 10000.0f);
    auto bad_hparam = [&](const char * what) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: invalid hyperparameters (%s): width %d, layers %d, heads %d/%d, FFN %d",
             path.c_str(), what, hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv, hp.n_ff);
    };
    if (hp.n_embd < 1 || hp.n_embd > 65536 || hp.n_layer < 1 || hp.n_layer > 1024 || hp.n_ff < 1 || hp.n_ff > 1 << 20) bad_hparam("size");
    if (hp.n_head < 1 || hp.n_embd % hp.n_head != 0 || hp.head_dim() % 2 != 0) bad_hparam("heads");
    if (hp.n_head_kv < 1 || hp.n_head % hp.n_head_kv != 0) bad_hparam("KV heads");
    if (!(hp.rms_eps > 0.0f) || !(hp.rope_theta > 0.0f)) bad_hparam("epsilon or RoPE theta");

    // Every tensor: known name, expected shape, usable type, data inside the file.
    const size_t data_offset = gguf_get_data_offset(g.get());
    std::map<std::string, std::vector<int64_t>> expected;
    const int64_t E = hp.n_embd, KV = hp.n_embd_kv(), F = hp.n_ff;
    ggml_tensor * embd = ggml_get_tensor(meta, "token_embd.weight");
    if (!embd) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: tensor 'token_embd.weight' is missing", path.c_str());
    }
    hp.n_vocab = (int32_t) embd->ne[1];
    const int64_t V = hp.n_vocab;
    expected["token_embd.weight"]  = {E, V};
    expected["output.weight"]      = {E, V};
    expected["output_norm.weight"] = {E};
    for (int i = 0; i < hp.n_layer; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        expected[b + "attn_norm.weight"]   = {E};
        expected[b + "attn_q.weight"]      = {E, E};
        expected[b + "attn_k.weight"]      = {E, KV};
        expected[b + "attn_v.weight"]      = {E, KV};
        expected[b + "attn_output.weight"] = {E, E};
        expected[b + "ffn_norm.weight"]    = {E};
        expected[b + "ffn_gate.weight"]    = {E, F};
        expected[b + "ffn_up.weight"]      = {E, F};
        expected[b + "ffn_down.weight"]    = {F, E};
    }
    // Optional: the per-head classifier biases laid out along the unified output rows (our own name).
    const bool with_bias = ggml_get_tensor(meta, "vall_e.output_bias") != nullptr;
    if (with_bias) expected["vall_e.output_bias"] = {V};
    for (const auto & item : expected) {
        ggml_tensor * t = ggml_get_tensor(meta, item.first.c_str());
        if (!t) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: tensor '%s' is missing", path.c_str(), item.first.c_str());
        }
        const std::vector<int64_t> & want = item.second;
        bool same = ggml_n_dims(t) <= (int) want.size();
        for (int d = 0; d < GGML_MAX_DIMS; ++d) same = same && t->ne[d] == (d < (int) want.size() ? want[d] : 1);
        if (!same) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has shape %s, expected %s", path.c_str(), item.first.c_str(),
                 shape_string(t->ne, (size_t) ggml_n_dims(t)).c_str(), shape_string(want.data(), want.size()).c_str());
        }
        const bool vector = want.size() == 1;
        if (vector ? t->type != GGML_TYPE_F32 : !matrix_types().count(t->type)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has type %s, which this engine does not run%s", path.c_str(),
                 item.first.c_str(), ggml_type_name(t->type), vector ? " (norm weights and biases must be F32)" : "");
        }
    }
    for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) {
        const std::string name = gguf_get_tensor_name(g.get(), i);
        if (!expected.count(name)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: unexpected tensor '%s'", path.c_str(), name.c_str());
        }
        const size_t offset = data_offset + gguf_get_tensor_offset(g.get(), i);
        const size_t bytes_needed = gguf_get_tensor_size(g.get(), i);
        if (offset > size || bytes_needed > size - offset) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "%s is truncated: tensor '%s' needs bytes %zu … %zu, the file has %zu",
                 path.c_str(), name.c_str(), offset, offset + bytes_needed, size);
        }
    }

    if (model.device) {
        // Every tensor but the embedding table (read on the host) in one buffer of the device, copied from the mapping,
        // whose pages are then released.
        model.ctx = make_meta_context(expected.size() + 4, 0);
        for (const auto & item : expected) {
            if (item.first == "token_embd.weight" || (item.first == "vall_e.output_bias" && !head_biases)) continue;
            ggml_tensor * t = ggml_dup_tensor(model.ctx.get(), ggml_get_tensor(meta, item.first.c_str()));
            ggml_set_name(t, item.first.c_str());
        }
        model.buffer.reset(ggml_backend_alloc_ctx_tensors_from_buft(model.ctx.get(), ggml_backend_dev_buffer_type(model.device)));
        if (!model.buffer) {
            fail(VALL_E_ERR_OUT_OF_MEMORY, "%s: could not allocate the weights on %s", path.c_str(),
                 device_label(model.device).c_str());
        }
        ggml_backend_buffer_set_usage(model.buffer.get(), GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
        for (ggml_tensor * t = ggml_get_first_tensor(model.ctx.get()); t; t = ggml_get_next_tensor(model.ctx.get(), t)) {
            const int64_t   id   = gguf_find_tensor(g.get(), ggml_get_name(t));
            const size_t    at   = data_offset + gguf_get_tensor_offset(g.get(), id);
            ggml_backend_tensor_set(t, model.file->data() + at, 0, ggml_nbytes(t));
            model.file->release(at, ggml_nbytes(t));
        }
        model.device_bytes = (int64_t) ggml_backend_buffer_get_size(model.buffer.get());
    } else {
        // Weights in place in the mapping (a CPU buffer over the whole file).
        model.ctx = make_meta_context(expected.size() + 4, 0);
        model.buffer.reset(ggml_backend_cpu_buffer_from_ptr(model.file->data(), model.file->size()));
        if (!model.buffer) {
            fail(VALL_E_ERR_OUT_OF_MEMORY, "could not wrap the mapping of %s", path.c_str());
        }
    }
    auto place = [&](const std::string & name) {
        if (model.device) return ggml_get_tensor(model.ctx.get(), name.c_str());
        ggml_tensor * source = ggml_get_tensor(meta, name.c_str());
        ggml_tensor * t      = ggml_dup_tensor(model.ctx.get(), source);
        ggml_set_name(t, name.c_str());
        const int64_t id = gguf_find_tensor(g.get(), name.c_str());
        void * addr = model.file->data() + data_offset + gguf_get_tensor_offset(g.get(), id);
        if (ggml_backend_tensor_alloc(model.buffer.get(), t, addr) != GGML_STATUS_SUCCESS) {
            fail(VALL_E_ERR_INTERNAL, "could not place tensor '%s'", name.c_str());
        }
        return t;
    };
    // The layers' matrices the CPU backend can run re-laid-out go to its repack buffer (copied from the mapping and
    // repacked once, here); the rest, and the output head (used through row views, which a repacked layout cannot
    // serve), stay in the mapping.
    ggml_backend_buffer_type_t repack = model.device ? nullptr : repack_buffer_type();
    std::vector<std::string>   repacked;
    if (repack) {
        for (int i = 0; i < hp.n_layer; ++i) {
            const std::string b = "blk." + std::to_string(i) + ".";
            for (const char * n : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
                const std::string name = b + n + ".weight";
                if (runs_from(repack, ggml_get_tensor(meta, name.c_str()))) repacked.push_back(name);
            }
        }
    }
    std::map<std::string, ggml_tensor *> repacked_tensors;
    if (!repacked.empty()) {
        model.repack_ctx = make_meta_context(repacked.size(), 0);
        for (const std::string & name : repacked) {
            ggml_tensor * t = ggml_dup_tensor(model.repack_ctx.get(), ggml_get_tensor(meta, name.c_str()));
            ggml_set_name(t, name.c_str());
            repacked_tensors[name] = t;
        }
        model.repack_buffer.reset(ggml_backend_alloc_ctx_tensors_from_buft(model.repack_ctx.get(), repack));
        if (!model.repack_buffer) {
            fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate the repacked weights of %s", path.c_str());
        }
        ggml_backend_buffer_set_usage(model.repack_buffer.get(), GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
        for (auto & item : repacked_tensors) {
            const int64_t id = gguf_find_tensor(g.get(), item.first.c_str());
            const uint8_t * data = model.file->data() + data_offset + gguf_get_tensor_offset(g.get(), id);
            ggml_backend_tensor_set(item.second, data, 0, ggml_nbytes(item.second));
            model.file->release((size_t) (data - model.file->data()), ggml_nbytes(item.second));
        }
        model.repacked_bytes = (int64_t) ggml_backend_buffer_get_size(model.repack_buffer.get());
    }
    auto weight = [&](const std::string & name) {
        const auto found = repacked_tensors.find(name);
        return found != repacked_tensors.end() ? found->second : place(name);
    };

    model.output      = place("output.weight");
    model.output_norm = place("output_norm.weight");
    model.has_output_bias = with_bias;
    if (with_bias && head_biases) model.output_bias = place("vall_e.output_bias");
    model.weight_bytes = (int64_t) ggml_nbytes(model.output);
    for (int i = 0; i < hp.n_layer; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        lm_layer          layer;
        layer.attn_norm = place(b + "attn_norm.weight");
        layer.wq        = weight(b + "attn_q.weight");
        layer.wk        = weight(b + "attn_k.weight");
        layer.wv        = weight(b + "attn_v.weight");
        layer.wo        = weight(b + "attn_output.weight");
        layer.ffn_norm  = place(b + "ffn_norm.weight");
        layer.ffn_gate  = weight(b + "ffn_gate.weight");
        layer.ffn_up    = weight(b + "ffn_up.weight");
        layer.ffn_down  = weight(b + "ffn_down.weight");
        for (ggml_tensor * t : {layer.wq, layer.wk, layer.wv, layer.wo, layer.ffn_gate, layer.ffn_up, layer.ffn_down}) {
            model.weight_bytes += (int64_t) ggml_nbytes(t);
        }
        model.layers.push_back(layer);
    }

    // The embedding table stays in the mapping; rows are dequantized as tokens use them.
    ggml_tensor * source   = ggml_get_tensor(meta, "token_embd.weight");
    model.token_embd       = model.file->data() + data_offset + gguf_get_tensor_offset(g.get(), gguf_find_tensor(g.get(), "token_embd.weight"));
    model.token_embd_type  = source->type;
    model.token_embd_row   = source->nb[1];
    if (source->type != GGML_TYPE_F32 && !ggml_get_type_traits(source->type)->to_float) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s: token_embd.weight has type %s, which cannot be dequantized", path.c_str(),
             ggml_type_name(source->type));
    }
}

void lm_add_embedding(const lm_model & model, int32_t row, float * out, std::vector<float> & scratch) {
    const int64_t   n   = model.hparams.n_embd;
    const uint8_t * src = model.token_embd + (size_t) row * model.token_embd_row;
    const float *   values;
    if (model.token_embd_type == GGML_TYPE_F32) {
        values = reinterpret_cast<const float *>(src);
    } else {
        scratch.resize((size_t) n);
        ggml_get_type_traits(model.token_embd_type)->to_float(src, scratch.data(), n);
        values = scratch.data();
    }
    for (int64_t d = 0; d < n; ++d) out[d] += values[d];
}

}  // namespace vall_e
