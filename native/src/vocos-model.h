// Vocos for EnCodec codes (charactr/vocos-encodec-24khz; vocos/pretrained.py Vocos with EncodecFeatures,
// vocos/models.py VocosBackbone, vocos/heads.py ISTFTHead) held as f32 ggml tensors on the CPU backend, laid out for
// the graph in vocos-graph.cpp. The caller hands over the state dict as named f32 arrays (@vall-e/codec reads the
// hub's pytorch_model.bin); every key and shape is checked here again, so the C API takes nothing on trust.
// Loaded once and read-only afterwards: any number of calls use one model at a time.
#pragma once

#include "ops.h"

#include <string>
#include <vector>

namespace vall_e {

struct vocos_hparams {
    int32_t input_channels   = 128;  // feature (codebook) dimension
    int32_t dim              = 384;
    int32_t intermediate_dim = 1152;
    int32_t n_layers         = 8;    // ConvNeXt blocks
    int32_t n_adanorm        = 4;    // AdaLayerNorm embeddings: one per bandwidth
    int32_t n_fft            = 1280;
    int32_t hop_length       = 320;
    int32_t n_codebooks      = 16;   // codebooks in feature_extractor.codebook_weights
    int32_t n_bins           = 1024;

    int32_t n_freq() const { return n_fft / 2 + 1; }
};

constexpr int32_t k_vocos_kernel    = 7;     // embed conv and every depthwise conv (zero padding 3 each side)
constexpr int32_t k_vocos_hop       = 320;   // samples per EnCodec frame at 24 kHz
constexpr float   k_vocos_eps       = 1e-6f; // every LayerNorm / AdaLayerNorm
constexpr int32_t k_vocos_max_layer = 24;

// vocos/modules.py AdaLayerNorm: per-bandwidth scale and shift tables, [dim, n_adanorm] (row b is bandwidth b).
struct vocos_adanorm {
    ggml_tensor * scale = nullptr;
    ggml_tensor * shift = nullptr;
};

// vocos/modules.py ConvNeXtBlock.
struct vocos_block {
    ggml_tensor * dw   = nullptr; // [dim, 7]: column j is tap j of every channel's depthwise kernel
    ggml_tensor * dw_b = nullptr; // [dim]
    vocos_adanorm norm;
    ggml_tensor * pw1   = nullptr; // [dim, intermediate]
    ggml_tensor * pw1_b = nullptr; // [intermediate]
    ggml_tensor * pw2   = nullptr; // [intermediate, dim]
    ggml_tensor * pw2_b = nullptr; // [dim]
    ggml_tensor * gamma = nullptr; // [dim] layer scale
};

struct vocos_model {
    vocos_hparams                hparams;
    ggml_tensor *                codebooks = nullptr; // [input_channels, n_codebooks · n_bins]
    std::vector<ggml_tensor *>   embed;               // 7 taps, each [input_channels, dim]
    ggml_tensor *                embed_b = nullptr;   // [dim]
    vocos_adanorm                norm;
    std::vector<vocos_block>     blocks;
    ggml_tensor *                final_w = nullptr; // [dim]
    ggml_tensor *                final_b = nullptr;
    ggml_tensor *                mag_w   = nullptr; // [dim, n_freq]: head.out rows 0 … n_fft/2 (log-magnitude)
    ggml_tensor *                mag_b   = nullptr;
    ggml_tensor *                phase_w = nullptr; // [dim, n_freq]: head.out rows n_fft/2 + 1 … n_fft + 1 (phase)
    ggml_tensor *                phase_b = nullptr;
    // The inverse real DFT of length n_fft times the synthesis window, as two matrices [n_freq, n_fft]: frame sample
    // n = Σ_k re_k · cos_basis(k, n) + im_k · sin_basis(k, n) (torch.fft.irfft, "backward" norm, then · window[n]).
    ggml_tensor *                cos_basis = nullptr;
    ggml_tensor *                sin_basis = nullptr;
    std::vector<float>           window_sq; // window², for the overlap-added envelope
    ggml_context_ptr             ctx;
    ggml_backend_buffer_ptr      buffer;
    size_t                       weight_bytes = 0;
    ggml_backend_dev_t           device = nullptr;
    int32_t                      device_index = -1;
};

// Load from the state dict's tensors (names and PyTorch shapes as torch.save writes them). Hyperparameters are read
// from the shapes; messages name the tensor and both shapes.
// device: where the weights go (nullptr: the CPU).
void vocos_model_load(vocos_model & model, const vall_e_vocos_tensor * tensors, int32_t n_tensors,
                      ggml_backend_dev_t device = nullptr);

}  // namespace vall_e
