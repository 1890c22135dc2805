// The Vocos graph (vocos/feature_extractors.py EncodecFeatures.forward, vocos/models.py VocosBackbone.forward,
// vocos/modules.py ConvNeXtBlock.forward and AdaLayerNorm.forward, vocos/heads.py ISTFTHead.forward,
// vocos/spectral_ops.py ISTFT.forward with padding "same") and the chunked decode that runs it.
#include "vocos-graph.h"

#include <cfloat>

namespace vall_e {
namespace {

constexpr int64_t k_pad = k_vocos_kernel / 2; // zero padding of every k = 7 conv, each side

// Frames of context a chunk needs on each side: the backbone's receptive field (the embed conv and N depthwise convs,
// 3 frames each) plus the 2 frames before / 1 after an output frame whose windows overlap it.
int64_t context_frames(const vocos_hparams & hp) { return k_pad * (hp.n_layers + 1) + 2; }

// x [C, T] with k_pad zero frames on both sides.
ggml_tensor * zero_pad(ggml_context * ctx, ggml_tensor * x) { return ggml_pad_ext(ctx, x, 0, 0, k_pad, k_pad, 0, 0, 0, 0); }

// Column j … j + T − 1 of a padded [C, T + 6] tensor: the input of tap j.
ggml_tensor * tap_view(ggml_context * ctx, ggml_tensor * padded, int64_t frames, int64_t j) {
    return ggml_view_2d(ctx, padded, padded->ne[0], frames, padded->nb[1], (size_t) j * padded->nb[1]);
}

// Row `id` of a [dim, n] table.
ggml_tensor * row(ggml_context * ctx, ggml_tensor * table, int32_t id) {
    return ggml_view_1d(ctx, table, table->ne[0], (size_t) id * table->nb[1]);
}

// AdaLayerNorm: LayerNorm without affine (eps 1e-6) over the channels of each frame, then the bandwidth's scale
// and shift.
ggml_tensor * ada_norm(ggml_context * ctx, ggml_tensor * x, const vocos_adanorm & norm, int32_t bandwidth) {
    ggml_tensor * y = ggml_norm(ctx, x, k_vocos_eps);
    return ggml_add(ctx, ggml_mul(ctx, y, row(ctx, norm.scale, bandwidth)), row(ctx, norm.shift, bandwidth));
}

// ConvNeXtBlock: x + γ · pwconv2(GELU(pwconv1(AdaLN(dwconv(x))))), the depthwise conv as 7 shifted views times
// per-channel taps (f32 throughout; ggml_conv_1d_dw would round to f16).
ggml_tensor * convnext(ggml_context * ctx, ggml_tensor * x, const vocos_block & b, int32_t bandwidth) {
    const int64_t frames = x->ne[1];
    ggml_tensor * padded = zero_pad(ctx, x);
    ggml_tensor * y      = nullptr;
    for (int64_t j = 0; j < k_vocos_kernel; ++j) {
        ggml_tensor * part = ggml_mul(ctx, tap_view(ctx, padded, frames, j), row(ctx, b.dw, (int32_t) j));
        y                  = y ? ggml_add(ctx, y, part) : part;
    }
    y = ggml_add(ctx, y, b.dw_b);
    y = ada_norm(ctx, y, b.norm, bandwidth);
    y = ggml_add(ctx, mul_mat_f32(ctx, b.pw1, y), b.pw1_b);
    y = ggml_gelu_erf(ctx, y); // nn.GELU(): the exact erf form
    y = ggml_add(ctx, mul_mat_f32(ctx, b.pw2, y), b.pw2_b);
    return ggml_add(ctx, x, ggml_mul(ctx, y, b.gamma));
}

// Σ over codebooks of codebook_weights[1024·k + codes[k][t]] for frames [from, from + frames): [input_channels, T].
ggml_tensor * features(graph_builder & g, const vocos_model & model, const int16_t * codes, int32_t n_q, int64_t total,
                       int64_t from, int64_t frames) {
    std::vector<int32_t> index((size_t) (n_q * frames));
    for (int32_t q = 0; q < n_q; ++q) {
        for (int64_t t = 0; t < frames; ++t) {
            index[(size_t) (q * frames + t)] = q * model.hparams.n_bins + codes[q * total + from + t];
        }
    }
    ggml_tensor * rows = ggml_new_tensor_1d(g.ctx, GGML_TYPE_I32, n_q * frames);
    ggml_set_input(rows);
    g.indices.emplace_back(rows, std::move(index));
    ggml_tensor * all = ggml_get_rows(g.ctx, model.codebooks, rows); // [C, n_q · T]
    ggml_tensor * sum = nullptr;
    for (int32_t q = 0; q < n_q; ++q) {
        ggml_tensor * part = ggml_view_2d(g.ctx, all, all->ne[0], frames, all->nb[1], (size_t) q * frames * all->nb[1]);
        sum                = sum ? ggml_add(g.ctx, sum, part) : ggml_cont(g.ctx, part);
    }
    return sum;
}

// VocosBackbone: embed conv, AdaLN, the ConvNeXt blocks, final LayerNorm: [input_channels, T] → [dim, T].
ggml_tensor * backbone(graph_builder & g, const vocos_model & model, ggml_tensor * x, int32_t bandwidth) {
    ggml_context * ctx    = g.ctx;
    const int64_t  frames = x->ne[1];
    ggml_tensor *  padded = zero_pad(ctx, x);
    ggml_tensor *  h      = nullptr;
    for (int64_t j = 0; j < k_vocos_kernel; ++j) {
        ggml_tensor * part = mul_mat_f32(ctx, model.embed[(size_t) j], tap_view(ctx, padded, frames, j));
        h                  = h ? ggml_add(ctx, h, part) : part;
    }
    h = ada_norm(ctx, ggml_add(ctx, h, model.embed_b), model.norm, bandwidth);
    for (const vocos_block & block : model.blocks) h = convnext(ctx, h, block, bandwidth);
    h = ggml_norm(ctx, h, k_vocos_eps);
    return ggml_add(ctx, ggml_mul(ctx, h, model.final_w), model.final_b);
}

// ISTFTHead up to the overlap-add: each frame's windowed inverse DFT, [dim, T] → [n_fft, T].
ggml_tensor * windowed_frames(ggml_context * ctx, const vocos_model & model, ggml_tensor * x) {
    ggml_tensor * mag   = ggml_add(ctx, mul_mat_f32(ctx, model.mag_w, x), model.mag_b);
    mag                 = ggml_clamp(ctx, ggml_exp(ctx, mag), -FLT_MAX, 100.0f); // exp(logmag).clip(max=1e2)
    ggml_tensor * phase = ggml_add(ctx, mul_mat_f32(ctx, model.phase_w, x), model.phase_b);
    ggml_tensor * re    = ggml_mul(ctx, mag, ggml_cos(ctx, phase));
    ggml_tensor * im    = ggml_mul(ctx, mag, ggml_sin(ctx, phase));
    return ggml_add(ctx, mul_mat_f32(ctx, model.cos_basis, re), mul_mat_f32(ctx, model.sin_basis, im));
}

// Overlap-add of windowed frames [n_fft, T] at hop n_fft / 4: [hop · (T + 3)] samples, sample m = Σ_t frame_t[m − hop·t].
// Output block b is the sum of block j of frame b − j (j = 0 … 3): four strided views of the frames padded with three
// zero frames on each side.
ggml_tensor * overlap_add(ggml_context * ctx, ggml_tensor * frames) {
    const int64_t hop    = frames->ne[0] / 4;
    const int64_t blocks = frames->ne[1] + 3;
    ggml_tensor * padded = ggml_pad_ext(ctx, frames, 0, 0, 3, 3, 0, 0, 0, 0);
    ggml_tensor * sum    = nullptr;
    for (int64_t j = 0; j < 4; ++j) {
        const size_t  offset = (size_t) j * hop * sizeof(float) + (size_t) (3 - j) * padded->nb[1];
        ggml_tensor * part   = ggml_view_2d(ctx, padded, hop, blocks, padded->nb[1], offset);
        sum                  = sum ? ggml_add(ctx, sum, part) : ggml_cont(ctx, part);
    }
    return ggml_reshape_1d(ctx, sum, hop * blocks);
}

// The overlap-added squared window at output samples [from, from + count) of a T-frame signal (after the trim):
// torch.istft's envelope, 1.5 inside, smaller within n_fft − hop samples of either end.
std::vector<float> envelope(const vocos_model & model, int64_t total, int64_t from, int64_t count) {
    const int64_t      n_fft = model.hparams.n_fft, hop = model.hparams.hop_length, trim = (n_fft - hop) / 2;
    std::vector<float> out((size_t) count);
    for (int64_t i = 0; i < count; ++i) {
        const int64_t m     = from + i + trim; // in the untrimmed overlap-add
        const int64_t first = std::max<int64_t>(0, (m - n_fft) / hop);
        const int64_t last  = std::min<int64_t>(total - 1, m / hop);
        float         sum   = 0.0f;
        for (int64_t t = first; t <= last; ++t) {
            const int64_t n = m - t * hop;
            if (n >= 0 && n < n_fft) sum += model.window_sq[(size_t) n];
        }
        out[(size_t) i] = sum;
    }
    return out;
}

}  // namespace

int32_t vocos_bandwidth_id(const vocos_hparams & hp, int32_t n_codebooks) {
    for (int32_t id = 0, n = 2; id < hp.n_adanorm && n <= hp.n_codebooks; ++id, n *= 2) {
        if (n == n_codebooks) return id;
    }
    return -1;
}

void vocos_decode(const vocos_model & model, compute_state & state, const int16_t * codes, int32_t n_q, int64_t total,
                  vocos_output output, const vocos_run_params & params, float * out) {
    const vocos_hparams & hp        = model.hparams;
    const int32_t         bandwidth = params.bandwidth;
    const int64_t         hop       = hp.hop_length;
    const int64_t         context   = context_frames(hp);
    // Intermediate results come from one whole-signal graph (they are for checks, not for long audio).
    const int64_t         chunk     = output == vocos_output::audio ? params.chunk_frames : total;
    const size_t          nodes     = 64 + 48 * (size_t) hp.n_layers + 2 * (size_t) n_q;

    for (int64_t f0 = 0; f0 < total; f0 += chunk) {
        check_cancel(params.cancel);
        const int64_t f1 = std::min(total, f0 + chunk);
        const int64_t a  = output == vocos_output::audio ? std::max<int64_t>(0, f0 - context) : f0;
        const int64_t b  = output == vocos_output::audio ? std::min(total, f1 + context) : f1;

        graph_builder g(state, nodes, nodes);
        ggml_tensor * x = features(g, model, codes, n_q, total, a, b - a); // [C, b − a]
        if (output == vocos_output::features) {
            run_graph(state, g, x, params.threads, params.cancel, [] {});
            ggml_backend_tensor_get(x, out, 0, ggml_nbytes(x));
            return;
        }
        ggml_tensor * h = backbone(g, model, x, bandwidth);
        if (output == vocos_output::backbone) {
            run_graph(state, g, h, params.threads, params.cancel, [] {});
            ggml_backend_tensor_get(h, out, 0, ggml_nbytes(h));
            return;
        }
        // Samples [hop·f0, hop·f1) of the trimmed signal are samples hop·(f0 − a) + trim … of this chunk's overlap-add.
        const int64_t      count  = (f1 - f0) * hop;
        const int64_t      trim   = (hp.n_fft - hop) / 2;
        ggml_tensor *      sum    = overlap_add(g.ctx, windowed_frames(g.ctx, model, h));
        ggml_tensor *      part   = ggml_view_1d(g.ctx, sum, count, (size_t) ((f0 - a) * hop + trim) * sizeof(float));
        ggml_tensor *      env    = ggml_new_tensor_1d(g.ctx, GGML_TYPE_F32, count);
        ggml_set_input(env);
        ggml_tensor *      audio  = ggml_div(g.ctx, part, env);
        const std::vector<float> env_values = envelope(model, total, f0 * hop, count);
        run_graph(state, g, audio, params.threads, params.cancel,
                  [&] { ggml_backend_tensor_set(env, env_values.data(), 0, env_values.size() * sizeof(float)); });
        ggml_backend_tensor_get(audio, out + f0 * hop, 0, (size_t) count * sizeof(float));
    }
}

}  // namespace vall_e
