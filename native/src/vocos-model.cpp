// Loading Vocos from its state dict (the keys of the hub's pytorch_model.bin, vocos/pretrained.py
// Vocos.from_pretrained minus the feature_extractor.encodec.* keys it re-adds): hyperparameters from the shapes, then
// every expected key present once with its expected shape and finite values, nothing unexpected. The weights are
// re-laid out for the graph (conv taps as matrices, the head split into log-magnitude and phase) and the inverse-DFT
// basis is computed once here, in double precision, with the file's window folded in.
#include "vocos-model.h"

#include <ggml-cpu.h>

#include <cmath>
#include <cstring>
#include <map>

namespace vall_e {
namespace {

struct source_tensor {
    std::vector<int64_t> shape; // PyTorch order, outermost first
    const float *        data = nullptr;
};

std::string torch_shape(const std::vector<int64_t> & shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

std::map<std::string, std::vector<int64_t>> expected_tensors(const vocos_hparams & hp) {
    std::map<std::string, std::vector<int64_t>> out;
    const int64_t d = hp.dim, k = k_vocos_kernel;
    out["feature_extractor.codebook_weights"] = {(int64_t) hp.n_codebooks * hp.n_bins, hp.input_channels};
    out["backbone.embed.weight"]              = {d, hp.input_channels, k};
    out["backbone.embed.bias"]                = {d};
    out["backbone.norm.scale.weight"]         = {hp.n_adanorm, d};
    out["backbone.norm.shift.weight"]         = {hp.n_adanorm, d};
    for (int32_t i = 0; i < hp.n_layers; ++i) {
        const std::string p = "backbone.convnext." + std::to_string(i) + ".";
        out[p + "dwconv.weight"]     = {d, 1, k};
        out[p + "dwconv.bias"]       = {d};
        out[p + "norm.scale.weight"] = {hp.n_adanorm, d};
        out[p + "norm.shift.weight"] = {hp.n_adanorm, d};
        out[p + "pwconv1.weight"]    = {hp.intermediate_dim, d};
        out[p + "pwconv1.bias"]      = {hp.intermediate_dim};
        out[p + "pwconv2.weight"]    = {d, hp.intermediate_dim};
        out[p + "pwconv2.bias"]      = {d};
        out[p + "gamma"]             = {d};
    }
    out["backbone.final_layer_norm.weight"] = {d};
    out["backbone.final_layer_norm.bias"]   = {d};
    out["head.out.weight"]                  = {(int64_t) hp.n_fft + 2, d};
    out["head.out.bias"]                    = {(int64_t) hp.n_fft + 2};
    out["head.istft.window"]                = {hp.n_fft};
    return out;
}

// A dimension of a named tensor, for reading the hyperparameters (the full check comes after).
int32_t dimension(const std::map<std::string, source_tensor> & tensors, const std::string & name, size_t axis, size_t rank) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' is missing", name.c_str());
    }
    if (it->second.shape.size() != rank) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' has shape %s, expected %zu dimensions", name.c_str(),
             torch_shape(it->second.shape).c_str(), rank);
    }
    const int64_t value = it->second.shape[axis];
    if (value < 1 || value > (1 << 20)) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' has shape %s, out of range", name.c_str(),
             torch_shape(it->second.shape).c_str());
    }
    return (int32_t) value;
}

vocos_hparams read_hparams(const std::map<std::string, source_tensor> & tensors) {
    vocos_hparams hp;
    hp.dim            = dimension(tensors, "backbone.embed.weight", 0, 3);
    hp.input_channels = dimension(tensors, "backbone.embed.weight", 1, 3);
    hp.n_adanorm      = dimension(tensors, "backbone.norm.scale.weight", 0, 2);
    hp.n_fft          = dimension(tensors, "head.istft.window", 0, 1);
    hp.n_layers       = 0;
    while (tensors.count("backbone.convnext." + std::to_string(hp.n_layers) + ".pwconv1.weight")) ++hp.n_layers;
    if (hp.n_layers < 1 || hp.n_layers > k_vocos_max_layer) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: expected 1 to %d ConvNeXt blocks (backbone.convnext.N), found %d",
             k_vocos_max_layer, hp.n_layers);
    }
    hp.intermediate_dim = dimension(tensors, "backbone.convnext.0.pwconv1.weight", 0, 2);
    const int32_t rows  = dimension(tensors, "feature_extractor.codebook_weights", 0, 2);
    if (rows % hp.n_bins != 0) {
        fail(VALL_E_ERR_INVALID_ARGUMENT,
             "Vocos weights: feature_extractor.codebook_weights has %d rows, expected a multiple of %d (codebooks × codes)",
             rows, hp.n_bins);
    }
    hp.n_codebooks = rows / hp.n_bins;
    // The head's inverse STFT must produce 320 samples per EnCodec frame with four frames overlapping (hop 320,
    // n_fft 1280 as in configs/vocos-encodec.yaml): the overlap-add in vocos-graph.cpp is built for exactly that.
    if (hp.n_fft != 4 * k_vocos_hop) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: head.istft.window has %d values, expected n_fft = %d", hp.n_fft,
             4 * k_vocos_hop);
    }
    hp.hop_length = k_vocos_hop;
    if (hp.n_adanorm > 64 || hp.dim > 8192 || hp.intermediate_dim > 32768 || hp.input_channels > 4096 || hp.n_codebooks > 64) {
        fail(VALL_E_ERR_INVALID_ARGUMENT,
             "Vocos weights: dimensions out of range (dim %d, intermediate %d, input channels %d, %d AdaLayerNorm "
             "embeddings, %d codebooks)",
             hp.dim, hp.intermediate_dim, hp.input_channels, hp.n_adanorm, hp.n_codebooks);
    }
    return hp;
}

}  // namespace

void vocos_model_load(vocos_model & model, const vall_e_vocos_tensor * tensors, int32_t n_tensors, ggml_backend_dev_t device) {
    model.device = device;
    if (n_tensors < 1 || n_tensors > 4096) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected 1 to 4096 tensors for n_tensors, got %d", n_tensors);
    }
    std::map<std::string, source_tensor> source;
    for (int32_t i = 0; i < n_tensors; ++i) {
        const vall_e_vocos_tensor & t = tensors[i];
        if (!t.name || !t.data) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor %d has a NULL name or data", i);
        }
        if (t.n_dims < 1 || t.n_dims > 4) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' has %d dimensions, expected 1 to 4", t.name, t.n_dims);
        }
        source_tensor s;
        s.shape.assign(t.shape, t.shape + t.n_dims);
        s.data = t.data;
        if (!source.emplace(t.name, std::move(s)).second) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' appears twice", t.name);
        }
    }
    // The official checkpoint may carry the EnCodec model it was trained beside; Vocos.decode never reads it.
    for (auto it = source.begin(); it != source.end();) {
        it = it->first.rfind("feature_extractor.encodec.", 0) == 0 ? source.erase(it) : std::next(it);
    }

    vocos_hparams & hp       = model.hparams;
    hp                       = read_hparams(source);
    const auto expected      = expected_tensors(hp);
    for (const auto & item : source) {
        const auto want = expected.find(item.first);
        if (want == expected.end()) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: unexpected tensor '%s' %s", item.first.c_str(),
                 torch_shape(item.second.shape).c_str());
        }
        if (item.second.shape != want->second) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' has shape %s, expected %s", item.first.c_str(),
                 torch_shape(item.second.shape).c_str(), torch_shape(want->second).c_str());
        }
    }
    for (const auto & item : expected) {
        if (!source.count(item.first)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' %s is missing", item.first.c_str(),
                 torch_shape(item.second).c_str());
        }
    }
    for (const auto & item : source) {
        size_t n = 1;
        for (int64_t d : item.second.shape) n *= (size_t) d;
        for (size_t i = 0; i < n; ++i) {
            if (!std::isfinite(item.second.data[i])) {
                fail(VALL_E_ERR_INVALID_ARGUMENT, "Vocos weights: tensor '%s' holds a non-finite value (%f) at index %zu",
                     item.first.c_str(), (double) item.second.data[i], i);
            }
        }
    }
    auto values = [&](const std::string & name) { return source.at(name).data; };

    const int64_t d = hp.dim, in = hp.input_channels, k = k_vocos_kernel;
    const int64_t freq = hp.n_freq(), n_fft = hp.n_fft;
    const size_t  n_weights = 12 + (size_t) k + 9 * (size_t) hp.n_layers;
    model.ctx               = make_meta_context(n_weights, 0);
    ggml_context * ctx      = model.ctx.get();
    std::vector<std::pair<ggml_tensor *, std::vector<float>>> uploads;
    auto tensor = [&](std::vector<int64_t> ne, std::vector<float> data, const std::string & name) {
        ggml_tensor * t = ggml_new_tensor(ctx, GGML_TYPE_F32, (int) ne.size(), ne.data());
        if (!t) fail(VALL_E_ERR_OUT_OF_MEMORY, "could not create the Vocos tensor '%s'", name.c_str());
        ggml_set_name(t, name.c_str());
        uploads.emplace_back(t, std::move(data));
        return t;
    };
    // A tensor whose PyTorch row-major layout is already ggml's (ne = the shape reversed).
    auto as_is = [&](const std::string & name) {
        const source_tensor & s  = source.at(name);
        std::vector<int64_t>  ne(s.shape.rbegin(), s.shape.rend());
        size_t                n  = 1;
        for (int64_t v : s.shape) n *= (size_t) v;
        return tensor(ne, std::vector<float>(s.data, s.data + n), name);
    };
    auto adanorm = [&](const std::string & prefix) {
        return vocos_adanorm{as_is(prefix + ".scale.weight"), as_is(prefix + ".shift.weight")};
    };

    model.codebooks = as_is("feature_extractor.codebook_weights");
    const float * embed = values("backbone.embed.weight"); // [dim][in][k]
    for (int64_t j = 0; j < k; ++j) {
        std::vector<float> tap((size_t) (in * d)); // (c, o) = w[o][c][j]
        for (int64_t o = 0; o < d; ++o) {
            for (int64_t c = 0; c < in; ++c) tap[(size_t) (o * in + c)] = embed[(o * in + c) * k + j];
        }
        model.embed.push_back(tensor({in, d}, std::move(tap), "backbone.embed.weight." + std::to_string(j)));
    }
    model.embed_b = as_is("backbone.embed.bias");
    model.norm    = adanorm("backbone.norm");
    for (int32_t i = 0; i < hp.n_layers; ++i) {
        const std::string p = "backbone.convnext." + std::to_string(i) + ".";
        vocos_block       b;
        const float *     dw = values(p + "dwconv.weight"); // [dim][1][k]
        std::vector<float> taps((size_t) (d * k));           // (c, j) = w[c][0][j]
        for (int64_t c = 0; c < d; ++c) {
            for (int64_t j = 0; j < k; ++j) taps[(size_t) (j * d + c)] = dw[c * k + j];
        }
        b.dw    = tensor({d, k}, std::move(taps), p + "dwconv.weight");
        b.dw_b  = as_is(p + "dwconv.bias");
        b.norm  = adanorm(p + "norm");
        b.pw1   = as_is(p + "pwconv1.weight");
        b.pw1_b = as_is(p + "pwconv1.bias");
        b.pw2   = as_is(p + "pwconv2.weight");
        b.pw2_b = as_is(p + "pwconv2.bias");
        b.gamma = as_is(p + "gamma");
        model.blocks.push_back(b);
    }
    model.final_w = as_is("backbone.final_layer_norm.weight");
    model.final_b = as_is("backbone.final_layer_norm.bias");

    const float * head   = values("head.out.weight"); // [n_fft + 2][dim]
    const float * head_b = values("head.out.bias");
    model.mag_w   = tensor({d, freq}, std::vector<float>(head, head + freq * d), "head.out.weight.magnitude");
    model.phase_w = tensor({d, freq}, std::vector<float>(head + freq * d, head + 2 * freq * d), "head.out.weight.phase");
    model.mag_b   = tensor({freq}, std::vector<float>(head_b, head_b + freq), "head.out.bias.magnitude");
    model.phase_b = tensor({freq}, std::vector<float>(head_b + freq, head_b + 2 * freq), "head.out.bias.phase");

    // irfft(S, n)[n] = (1/N)·(Re S₀ + Re S_{N/2}·(−1)ⁿ + 2·Σ_{k=1}^{N/2−1} (Re S_k cos(2πkn/N) − Im S_k sin(2πkn/N)));
    // the imaginary parts of bins 0 and N/2 are ignored (their sine terms vanish), as torch.fft.irfft does.
    const float *      window = values("head.istft.window");
    std::vector<float> cos_basis((size_t) (freq * n_fft)), sin_basis((size_t) (freq * n_fft));
    for (int64_t n = 0; n < n_fft; ++n) {
        for (int64_t f = 0; f < freq; ++f) {
            const double weight = (f == 0 || f == freq - 1 ? 1.0 : 2.0) * (double) window[n] / (double) n_fft;
            const double angle  = 2.0 * M_PI * (double) ((f * n) % n_fft) / (double) n_fft;
            cos_basis[(size_t) (n * freq + f)] = (float) (weight * std::cos(angle));
            sin_basis[(size_t) (n * freq + f)] = f == 0 || f == freq - 1 ? 0.0f : (float) (-weight * std::sin(angle));
        }
    }
    model.cos_basis = tensor({freq, n_fft}, std::move(cos_basis), "istft.cos_basis");
    model.sin_basis = tensor({freq, n_fft}, std::move(sin_basis), "istft.sin_basis");
    model.window_sq.resize((size_t) n_fft);
    for (int64_t n = 0; n < n_fft; ++n) model.window_sq[(size_t) n] = window[n] * window[n];

    model.buffer.reset(ggml_backend_alloc_ctx_tensors_from_buft(
        ctx, device ? ggml_backend_dev_buffer_type(device) : ggml_backend_cpu_buffer_type()));
    if (!model.buffer) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate the Vocos weights");
    }
    model.weight_bytes = ggml_backend_buffer_get_size(model.buffer.get());
    for (auto & upload : uploads) {
        ggml_backend_tensor_set(upload.first, upload.second.data(), 0, upload.second.size() * sizeof(float));
    }
}

}  // namespace vall_e
