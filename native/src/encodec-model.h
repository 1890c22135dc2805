// EnCodec 24 kHz weights (encodec.cpp's ggml binary, as its convert.py parse_codec_model writes it) held as f32 ggml
// tensors on the CPU backend, plus what the LSTM recurrence and the RVQ read directly. Shapes follow the header, so
// tiny test models load too. Loaded once and read-only afterwards: any number of calls use one model at a time.
#pragma once

#include "ops.h"

#include <array>
#include <string>
#include <vector>

namespace vall_e {

struct encodec_hparams {
    int32_t in_channels          = 1;
    int32_t hidden_dim           = 128;  // latent / codebook dimension
    int32_t n_filters            = 32;
    int32_t kernel_size          = 7;    // first and last conv
    int32_t residual_kernel_size = 3;
    int32_t n_bins               = 1024; // codebook size
    int32_t bandwidth            = 24;   // kbps of the file: 32 codebooks
    int32_t sample_rate          = 24000;
    int32_t ftype                = 0;    // 0 all f32, 1 mostly f16 (as stored; we compute in f32)

    int32_t lstm_dim() const { return n_filters * 16; }
    int32_t n_codebooks() const { return bandwidth * 1000 / 750; }
};

// Encoder strides in order of application; the decoder uses them reversed.
constexpr std::array<int32_t, 4> k_encodec_strides = {2, 4, 5, 8};
constexpr int32_t                k_encodec_hop     = 320;

// encodec/modules/seanet.py SEANetResnetBlock (true skip: a k = 1 conv on the shortcut).
struct encodec_resblock {
    conv1d_weights a;        // D → D/2, k = residual kernel
    conv1d_weights b;        // D/2 → D, k = 1
    conv1d_weights shortcut; // D → D, k = 1
};

struct encodec_lstm_layer {
    ggml_tensor * w_ih = nullptr; // [D, 4D] (ggml), i.e. PyTorch [4D, D]
    ggml_tensor * bias = nullptr; // [4D]: b_ih + b_hh
    // W_hh (PyTorch [4D, D] row-major) for the recurrence (lstm.cpp), in the precision the file stores it: an f16
    // file's matrix stays f16 (exactly its values, half the memory traffic per step); activations stay f32 either way.
    std::vector<float>       w_hh;
    std::vector<ggml_fp16_t> w_hh_f16;
};

// encodec/modules/seanet.py SEANetEncoder: conv, 4 × (residual block, down-sampling conv), LSTM, ELU + conv.
struct encodec_encoder {
    conv1d_weights                    first;
    std::array<encodec_resblock, 4>   res;
    std::array<conv1d_weights, 4>     down;
    std::array<encodec_lstm_layer, 2> lstm;
    conv1d_weights                    last;
};

// encodec/modules/seanet.py SEANetDecoder: conv, LSTM, 4 × (ELU + transposed conv, residual block), ELU + conv.
struct encodec_decoder {
    conv1d_weights                        first;
    std::array<encodec_lstm_layer, 2>     lstm;
    std::array<conv_transpose_weights, 4> up;
    std::array<encodec_resblock, 4>       res;
    conv1d_weights                        last;
};

struct encodec_model {
    encodec_hparams                 hparams;
    encodec_encoder                 encoder;
    encodec_decoder                 decoder;
    std::vector<std::vector<float>> codebooks;       // [n_codebooks][n_bins * hidden_dim]
    std::vector<std::vector<float>> codebook_norms;  // [n_codebooks][n_bins]: ‖e_j‖²
    ggml_context_ptr                ctx;
    ggml_backend_buffer_ptr         buffer;
    size_t                          file_bytes = 0;
    ggml_backend_dev_t              device = nullptr;
    int32_t                         device_index = -1;
};

// Load and validate an encodec.cpp ggml binary. Messages name the file and, for tensors, the tensor and both shapes.
// device: where the graph tensors go (nullptr: the CPU).
void encodec_model_load(encodec_model & model, const std::string & path, ggml_backend_dev_t device = nullptr);

}  // namespace vall_e
