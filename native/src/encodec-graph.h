// EnCodec 24 kHz encode and decode (encodec/model.py EncodecModel.encode / decode, one frame of the whole signal), as
// ggml graphs in chunks of bounded size whose results equal the whole signal's:
//
//   encode:  samples ─[convs at sample rate, 4-frame left context]→ LSTM input X ─[LSTM, state carried]→
//            Y = LSTM(X) + X ─[ELU + conv k7 at frame rate, 6 frames of left context]→ latent ─[host RVQ]→ codes
//   decode:  codes ─[host RVQ sum]→ latent ─[conv k7, 6 frames of context]→ X ─[LSTM]→ Y
//            ─[transposed convs up to sample rate, 4-frame left context]→ samples
//
// Every layer is causal, so a chunk computed with enough left context (its receptive field; the reflect padding a
// chunk start adds only disturbs outputs inside that context) reproduces the whole signal's values exactly. Chunk
// boundaries are multiples of 320 samples, so only the last chunk gets the right padding the whole signal gets.
// Each call computes on a state of its own; the weights are only read, so calls on one model run side by side.
#pragma once

#include "encodec-model.h"
#include "lstm.h"

namespace vall_e {

constexpr int64_t k_encodec_default_chunk = 375; // frames: 5 s
constexpr int64_t k_encodec_min_chunk     = 8;   // the first chunk must hold the start's reflect padding (6 frames)

// How one call runs, resolved and checked by the C API.
struct encodec_run_params {
    int32_t                  threads      = 1; // >= 1
    int64_t                  chunk_frames = k_encodec_default_chunk;
    const volatile int32_t * cancel       = nullptr;
};

// SEANetEncoder up to its LSTM: samples [1, L] → [D, ceil(L / 320)] (conv, then per stride a residual block and
// ELU + down-sampling conv).
ggml_tensor * encodec_encoder_to_lstm(graph_builder & g, const encodec_encoder & enc, ggml_tensor * samples);

// SEANetEncoder after its LSTM: ELU + last conv, [D, T] → [hidden_dim, T].
ggml_tensor * encodec_encoder_from_lstm(graph_builder & g, const encodec_encoder & enc, ggml_tensor * y);

// SEANetDecoder up to its LSTM: first conv, [hidden_dim, T] → [D, T].
ggml_tensor * encodec_decoder_to_lstm(graph_builder & g, const encodec_decoder & dec, ggml_tensor * latent);

// SEANetDecoder after its LSTM: per stride ELU + transposed conv and residual block, then ELU + last conv,
// [D, T] → [1, 320·T].
ggml_tensor * encodec_decoder_from_lstm(graph_builder & g, const encodec_decoder & dec, ggml_tensor * y);

// Encode n_samples to codes [n_q][ceil(n_samples / 320)] (when `codes` is set) and/or to the encoder's latents
// [frames][hidden_dim] frame-major (when `latent` is set), on `state` (this call's alone).
void encodec_encode(const encodec_model & model, compute_state & state, const float * samples, int64_t n_samples,
                    int32_t n_q, const encodec_run_params & params, int16_t * codes, float * latent);

// Decode codes [n_q][n_frames] to n_frames · 320 samples, on `state` (this call's alone).
void encodec_decode(const encodec_model & model, compute_state & state, const int16_t * codes, int32_t n_q,
                    int64_t n_frames, const encodec_run_params & params, float * samples);

}  // namespace vall_e
