#include "rvq.h"

#include <ggml-cpu.h>

#include <cstring>
#include <vector>

namespace vall_e {

void rvq_encode(const encodec_model & model, const float * latent, int64_t frames, int32_t n_q, int16_t * codes,
                int64_t codes_stride) {
    const int64_t        dim    = model.hparams.hidden_dim;
    const int32_t        n_bins = model.hparams.n_bins;
    const ggml_vec_dot_t dot    = ggml_get_type_traits_cpu(GGML_TYPE_F32)->vec_dot;
    std::vector<float>   residual((size_t) dim);
    for (int64_t t = 0; t < frames; ++t) {
        std::memcpy(residual.data(), latent + t * dim, (size_t) dim * sizeof(float));
        for (int32_t q = 0; q < n_q; ++q) {
            const std::vector<float> & book  = model.codebooks[(size_t) q];
            const std::vector<float> & norms = model.codebook_norms[(size_t) q];
            float                      r2    = 0.0f;
            dot((int) dim, &r2, 0, residual.data(), 0, residual.data(), 0, 1);
            int32_t best      = 0;
            float   best_dist = 0.0f;
            for (int32_t j = 0; j < n_bins; ++j) {
                float rd = 0.0f;
                dot((int) dim, &rd, 0, residual.data(), 0, book.data() + (size_t) j * dim, 0, 1);
                // As EuclideanCodebook.quantize: (‖r‖² − 2·r·e) + ‖e‖², the first index wins a tie.
                const float dist = (r2 - 2.0f * rd) + norms[(size_t) j];
                if (j == 0 || dist < best_dist) {
                    best      = j;
                    best_dist = dist;
                }
            }
            codes[(size_t) q * (size_t) codes_stride + (size_t) t] = (int16_t) best;
            const float * e = book.data() + (size_t) best * dim;
            for (int64_t d = 0; d < dim; ++d) residual[(size_t) d] -= e[d];
        }
    }
}

void rvq_decode(const encodec_model & model, const int16_t * codes, int32_t n_q, int64_t codes_stride, int64_t frames,
                float * latent) {
    const int64_t dim = model.hparams.hidden_dim;
    for (int64_t t = 0; t < frames; ++t) {
        float * zt = latent + t * dim;
        for (int32_t q = 0; q < n_q; ++q) {
            const int16_t code = codes[(size_t) q * (size_t) codes_stride + (size_t) t];
            const float * e    = model.codebooks[(size_t) q].data() + (size_t) code * dim;
            for (int64_t d = 0; d < dim; ++d) zt[d] += e[d];
        }
    }
}

}  // namespace vall_e
