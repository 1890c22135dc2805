// A VALL-E GGUF (llama architecture) memory-mapped and validated: hparams, the backbone's tensors in place in the
// mapping, and the token embedding table dequantized once to f32 (inputs are sums of its rows).
#pragma once

#include "core.h"
#include "mapped-file.h"

#include <string>
#include <vector>

namespace vall_e {

struct lm_hparams {
    int32_t n_embd      = 0;
    int32_t n_layer     = 0;
    int32_t n_head      = 0;
    int32_t n_head_kv   = 0;
    int32_t n_ff        = 0;
    int32_t n_vocab     = 0;
    int32_t n_ctx_train = 0;
    float   rms_eps     = 1e-6f;
    float   rope_theta  = 10000.0f;

    int32_t head_dim() const { return n_embd / n_head; }
    int32_t n_embd_kv() const { return head_dim() * n_head_kv; }
};

struct lm_layer {
    ggml_tensor * attn_norm = nullptr;
    ggml_tensor * wq        = nullptr;
    ggml_tensor * wk        = nullptr;
    ggml_tensor * wv        = nullptr;
    ggml_tensor * wo        = nullptr;
    ggml_tensor * ffn_norm  = nullptr;
    ggml_tensor * ffn_gate  = nullptr;
    ggml_tensor * ffn_up    = nullptr;
    ggml_tensor * ffn_down  = nullptr;
};

struct lm_model {
    lm_hparams                   hparams;
    int32_t                      activation = VALL_E_LM_GELU;
    std::vector<lm_layer>        layers;
    ggml_tensor *                output_norm = nullptr;
    ggml_tensor *                output_bias = nullptr; // [n_vocab] f32, per-head classifier biases (optional)
    bool                         has_output_bias = false;
    ggml_tensor *                output      = nullptr; // [n_embd, n_vocab]
    const uint8_t *              token_embd = nullptr;  // the table in the mapping, in its stored type
    ggml_type                    token_embd_type = GGML_TYPE_F32;
    size_t                       token_embd_row  = 0;   // bytes per row
    std::unique_ptr<mapped_file> file;
    ggml_context_ptr             ctx;
    ggml_backend_buffer_ptr      buffer; // over the mapping
    ggml_context_ptr             repack_ctx;     // the matrices the CPU backend runs re-laid-out (none for F16/Q8_0 on x86)
    ggml_backend_buffer_ptr      repack_buffer;  // their CPU_REPACK buffer
    int64_t                      repacked_bytes = 0;
    int64_t                      weight_bytes = 0;
    ggml_backend_dev_t           device = nullptr; // a device beside the CPU holding the weights (nullptr: the CPU path)
    int32_t                      device_index = -1;
    int64_t                      device_bytes = 0;
};

// device_index −1: the CPU (weights in the mapping, quantized layers repacked); otherwise every tensor but the
// embedding table is copied into that device's memory.
void lm_model_load(lm_model & model, const std::string & path, int32_t activation, bool head_biases, int32_t device_index);

// Add embedding row `row` (dequantized) to out[0 … n_embd).
void lm_add_embedding(const lm_model & model, int32_t row, float * out, std::vector<float> & scratch);

}  // namespace vall_e
