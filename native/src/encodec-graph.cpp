// The EnCodec graphs (encodec/modules/seanet.py SEANetEncoder, SEANetDecoder, SEANetResnetBlock) and the chunked
// encode and decode that run them with the LSTM (lstm.cpp) and the RVQ (rvq.cpp) between them.
#include "encodec-graph.h"

#include "rvq.h"

#include <cstring>

namespace vall_e {
namespace {

constexpr int64_t k_context_frames_a = 4; // encoder sample-rate stage: receptive field 797 samples < 4 × 320
constexpr int64_t k_context_frames_d = 4; // decoder sample-rate stage: receptive field < 2 frames

// SEANetResnetBlock: x + block(x), block = ELU, conv k, ELU, conv 1; the shortcut is a k = 1 conv.
ggml_tensor * resblock(graph_builder & g, ggml_tensor * x, const encodec_resblock & block) {
    ggml_tensor * y = conv1d(g, elu(g, x), block.a, 0);
    y               = conv1d(g, elu(g, y), block.b, 0);
    return ggml_add(g.ctx, conv1d(g, x, block.shortcut, 0), y);
}

}  // namespace

ggml_tensor * encodec_encoder_to_lstm(graph_builder & g, const encodec_encoder & enc, ggml_tensor * samples) {
    ggml_tensor * h = conv1d(g, samples, enc.first, 0);
    for (int i = 0; i < 4; ++i) {
        const int64_t stride = k_encodec_strides[i];
        h                    = resblock(g, h, enc.res[i]);
        h                    = conv1d(g, elu(g, h), enc.down[i], extra_padding(h->ne[1], stride));
        ggml_format_name(h, "enc.down%d", i);
    }
    return h;
}

ggml_tensor * encodec_encoder_from_lstm(graph_builder & g, const encodec_encoder & enc, ggml_tensor * y) {
    return conv1d(g, elu(g, y), enc.last, 0);
}

ggml_tensor * encodec_decoder_to_lstm(graph_builder & g, const encodec_decoder & dec, ggml_tensor * latent) {
    return conv1d(g, latent, dec.first, 0);
}

ggml_tensor * encodec_decoder_from_lstm(graph_builder & g, const encodec_decoder & dec, ggml_tensor * y) {
    ggml_tensor * h = y;
    for (int i = 0; i < 4; ++i) {
        h = conv_transpose(g, elu(g, h), dec.up[i]);
        h = resblock(g, h, dec.res[i]);
        ggml_format_name(h, "dec.up%d", i);
    }
    return conv1d(g, elu(g, h), dec.last, 0);
}

void encodec_encode(const encodec_model & model, compute_state & state, const float * samples, int64_t n_samples,
                    int32_t n_q, const encodec_run_params & params, int16_t * codes, float * latent_out) {
    const encodec_hparams & hp      = model.hparams;
    const int64_t           dim     = hp.lstm_dim();
    const int64_t           latent  = hp.hidden_dim;
    const int64_t           k_last  = model.encoder.last.k;
    const int64_t           total   = (n_samples + k_encodec_hop - 1) / k_encodec_hop;
    const int64_t           chunk   = params.chunk_frames;
    const int32_t           threads = params.threads;

    lstm_state         lstm(dim);
    std::vector<float> history; // the last (k_last − 1) frames of Y, frame-major, for the last conv's left context

    for (int64_t f0 = 0; f0 < total; f0 += chunk) {
        check_cancel(params.cancel);
        const int64_t frames     = std::min(chunk, total - f0);
        const int64_t ctx_frames = std::min(k_context_frames_a, f0);
        const int64_t s0         = (f0 - ctx_frames) * k_encodec_hop;
        const int64_t s1         = std::min(n_samples, (f0 + frames) * k_encodec_hop);

        // Samples → LSTM input X [D, frames] (the context's frames dropped).
        std::vector<float> x((size_t) (frames * dim));
        {
            graph_builder g(state, 256);
            ggml_tensor * in  = input_tensor(g.ctx, 1, s1 - s0, "samples");
            ggml_tensor * out = columns(g.ctx, encodec_encoder_to_lstm(g, model.encoder, in), ctx_frames, frames);
            run_graph(state, g, out, threads, params.cancel,
                      [&] { ggml_backend_tensor_set(in, samples + s0, 0, (size_t) (s1 - s0) * sizeof(float)); });
            ggml_backend_tensor_get(out, x.data(), 0, x.size() * sizeof(float));
        }
        check_cancel(params.cancel);

        // Y = LSTM(X) + X, the state carried from the previous chunk.
        std::vector<float> y((size_t) (frames * dim));
        {
            graph_builder g(state, 16);
            ggml_tensor * in  = input_tensor(g.ctx, dim, frames, "lstm_in");
            ggml_tensor * out = lstm_forward(g, model.encoder.lstm, in, lstm, threads);
            run_graph(state, g, out, threads, params.cancel,
                      [&] { ggml_backend_tensor_set(in, x.data(), 0, x.size() * sizeof(float)); });
            ggml_backend_tensor_get(out, y.data(), 0, y.size() * sizeof(float));
        }

        // ELU + last conv over [history | Y] → latent [latent, frames].
        const int64_t      prefix = (int64_t) history.size() / dim;
        std::vector<float> z((size_t) (frames * latent));
        {
            graph_builder g(state, 64);
            ggml_tensor * in  = input_tensor(g.ctx, dim, prefix + frames, "lstm_out");
            ggml_tensor * h   = encodec_encoder_from_lstm(g, model.encoder, in); // [latent, prefix + frames]
            ggml_tensor * out = columns(g.ctx, h, prefix, frames);
            run_graph(state, g, out, threads, params.cancel, [&] {
                ggml_backend_tensor_set(in, history.data(), 0, history.size() * sizeof(float));
                ggml_backend_tensor_set(in, y.data(), history.size() * sizeof(float), y.size() * sizeof(float));
            });
            ggml_backend_tensor_get(out, z.data(), 0, z.size() * sizeof(float));
        }
        history.insert(history.end(), y.begin(), y.end());
        const int64_t keep = std::min<int64_t>((k_last - 1), (int64_t) history.size() / dim);
        history.erase(history.begin(), history.end() - keep * dim);
        if (latent_out) {
            std::memcpy(latent_out + f0 * latent, z.data(), z.size() * sizeof(float));
        }
        if (codes) {
            rvq_encode(model, z.data(), frames, n_q, codes + f0, total);
        }
    }
}

void encodec_decode(const encodec_model & model, compute_state & state, const int16_t * codes, int32_t n_q,
                    int64_t total, const encodec_run_params & params, float * samples) {
    const encodec_hparams & hp      = model.hparams;
    const int64_t           dim     = hp.lstm_dim();
    const int64_t           latent  = hp.hidden_dim;
    const int64_t           k_first = model.decoder.first.k;
    const int64_t           chunk   = params.chunk_frames;
    const int32_t           threads = params.threads;

    lstm_state         lstm(dim);
    std::vector<float> z_history; // the last (k_first − 1) latent frames, frame-major
    std::vector<float> y_history; // the last k_context_frames_d frames of Y, frame-major

    for (int64_t f0 = 0; f0 < total; f0 += chunk) {
        check_cancel(params.cancel);
        const int64_t frames = std::min(chunk, total - f0);

        // Codes → latent, after the previous chunk's last frames.
        std::vector<float> z    = z_history;
        const size_t       base = z.size();
        z.resize(base + (size_t) (frames * latent), 0.0f);
        rvq_decode(model, codes + f0, n_q, total, frames, z.data() + base);
        const int64_t z_prefix = (int64_t) base / latent;

        // First conv over [history | z] → LSTM input X [D, frames].
        std::vector<float> x((size_t) (frames * dim));
        {
            graph_builder g(state, 64);
            ggml_tensor * in  = input_tensor(g.ctx, latent, z_prefix + frames, "latent");
            ggml_tensor * h   = encodec_decoder_to_lstm(g, model.decoder, in); // [D, z_prefix + frames]
            ggml_tensor * out = columns(g.ctx, h, z_prefix, frames);
            run_graph(state, g, out, threads, params.cancel,
                      [&] { ggml_backend_tensor_set(in, z.data(), 0, z.size() * sizeof(float)); });
            ggml_backend_tensor_get(out, x.data(), 0, x.size() * sizeof(float));
        }
        z_history.assign(z.end() - std::min<int64_t>(k_first - 1, z_prefix + frames) * latent, z.end());
        check_cancel(params.cancel);

        // Y = LSTM(X) + X, the state carried from the previous chunk.
        std::vector<float> y((size_t) (frames * dim));
        {
            graph_builder g(state, 16);
            ggml_tensor * in  = input_tensor(g.ctx, dim, frames, "lstm_in");
            ggml_tensor * out = lstm_forward(g, model.decoder.lstm, in, lstm, threads);
            run_graph(state, g, out, threads, params.cancel,
                      [&] { ggml_backend_tensor_set(in, x.data(), 0, x.size() * sizeof(float)); });
            ggml_backend_tensor_get(out, y.data(), 0, y.size() * sizeof(float));
        }

        // [context | Y] up to sample rate; the context's samples are dropped.
        const int64_t y_prefix = (int64_t) y_history.size() / dim;
        {
            graph_builder g(state, 256);
            ggml_tensor * in  = input_tensor(g.ctx, dim, y_prefix + frames, "lstm_out");
            ggml_tensor * h   = encodec_decoder_from_lstm(g, model.decoder, in); // [1, (y_prefix + frames)·320]
            ggml_tensor * out = columns(g.ctx, h, y_prefix * k_encodec_hop, frames * k_encodec_hop);
            run_graph(state, g, out, threads, params.cancel, [&] {
                ggml_backend_tensor_set(in, y_history.data(), 0, y_history.size() * sizeof(float));
                ggml_backend_tensor_set(in, y.data(), y_history.size() * sizeof(float), y.size() * sizeof(float));
            });
            ggml_backend_tensor_get(out, samples + f0 * k_encodec_hop, 0,
                                    (size_t) (frames * k_encodec_hop) * sizeof(float));
        }
        y_history.insert(y_history.end(), y.begin(), y.end());
        const int64_t keep = std::min<int64_t>(k_context_frames_d, (int64_t) y_history.size() / dim);
        y_history.erase(y_history.begin(), y_history.end() - keep * dim);
    }
}

}  // namespace vall_e
