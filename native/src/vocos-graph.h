// Vocos decode (vocos/pretrained.py Vocos.codes_to_features + Vocos.decode: EncodecFeatures, VocosBackbone,
// ISTFTHead with padding "same") as a ggml graph in chunks of bounded size whose results equal the whole signal's:
//
//   codes ─[sum of codebook rows]→ features ─[conv k7, AdaLayerNorm, ConvNeXt × N, LayerNorm]→ backbone
//         ─[Linear → log-magnitude, phase; exp clipped at 100, cos/sin]→ spectrum ─[irfft × window (a matmul)]→
//         frames ─[overlap-add at hop 320, trim 480 each end, ÷ window envelope]→ 320 samples per frame
//
// Every layer is non-causal: each k = 7 conv reads 3 frames on either side (zero padding at the signal's ends), so a
// backbone frame depends on 3 · (N + 1) frames each side, and an output sample on the 4 frames overlapping it. A
// chunk is computed with that much context on both sides (zero padding only where the signal really ends); nothing
// else crosses frames, so the chunks' samples are the whole signal's. Only f32 ops every ggml backend has are used.
#pragma once

#include "vocos-model.h"

namespace vall_e {

constexpr int64_t k_vocos_default_chunk = 750; // frames: 10 s

struct vocos_run_params {
    int32_t                  threads      = 1;
    int64_t                  chunk_frames = k_vocos_default_chunk;
    const volatile int32_t * cancel       = nullptr;
    int32_t                  bandwidth    = 2; // the AdaLayerNorm row, 0 … n_adanorm − 1 (checked by the C API)
};

// What a call returns: intermediate results (whole signal, frame-major) for checks, or the audio.
enum class vocos_output { features, backbone, audio };

// The bandwidth id Vocos conditions on for n_codebooks codebooks (EncodecFeatures bandwidths 1.5/3/6/12 kbps ↔ 2, 4,
// 8, 16 codebooks ↔ 0 … 3), or −1 when there is none.
int32_t vocos_bandwidth_id(const vocos_hparams & hp, int32_t n_codebooks);

// Decode codes [n_q][n_frames] (checked by the caller) at params.bandwidth on `state`: audio n_frames · 320 samples, or features
// [n_frames][input_channels] / backbone output [n_frames][dim].
void vocos_decode(const vocos_model & model, compute_state & state, const int16_t * codes, int32_t n_q,
                  int64_t n_frames, vocos_output output, const vocos_run_params & params, float * out);

}  // namespace vall_e
