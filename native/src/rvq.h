// EnCodec's residual vector quantizer (encodec/quantization/core_vq.py ResidualVectorQuantization.encode/decode over
// EuclideanCodebook), on the host in f32: the nearest code per level by Euclidean distance, and the sum of the code
// vectors back.
#pragma once

#include "encodec-model.h"

namespace vall_e {

// Codes of `frames` latent frames ([frames][hidden_dim], frame-major) for the first n_q levels. Code (q, t) is
// written to codes[q * codes_stride + t] (codes are codebook-major). Ties go to the lowest index, as in PyTorch.
void rvq_encode(const encodec_model & model, const float * latent, int64_t frames, int32_t n_q, int16_t * codes,
                int64_t codes_stride);

// Add the latent of `frames` frames of codes (code (q, t) at codes[q * codes_stride + t]) to latent
// [frames][hidden_dim]: the sum of each level's code vectors, level 0 first.
void rvq_decode(const encodec_model & model, const int16_t * codes, int32_t n_q, int64_t codes_stride, int64_t frames,
                float * latent);

}  // namespace vall_e
