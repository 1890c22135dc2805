// Loading EnCodec weights from encodec.cpp's ggml binary (written by its convert.py parse_hparams and
// parse_codec_model, read by encodec.cpp encodec_load_model_weights): magic, 9 int32 header fields, then records
// (n_dims, name_len, ftype, dims innermost first, name, data) until end of file. Everything is validated before use:
// header values, every expected tensor present once with the expected type and shape, no unknown tensors, no record
// running past the end of the file. Weights are kept in f32 whatever the file holds.
#include "encodec-model.h"
#include "mapped-file.h"

#include <ggml-cpu.h>

#include <cstring>
#include <map>
#include <memory>

namespace vall_e {
namespace {

constexpr uint32_t k_magic = 0x67676d6c; // "ggml" as encodec.cpp writes it

struct record {
    std::vector<int64_t> ne;
    int32_t              ftype  = 0;
    size_t               offset = 0; // of the data in the file
    size_t               bytes  = 0;
};

std::string shape_string(const std::vector<int64_t> & ne) { return vall_e::shape_string(ne.data(), ne.size()); }

// A cursor over the mapped file that refuses to run past its end.
class reader {
  public:
    reader(const std::string & path, const uint8_t * data, size_t size) : path_(path), data_(data), size_(size) {}

    size_t position() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }

    // The next n bytes, consumed.
    const uint8_t * take(size_t n, const char * what) {
        if (n > remaining()) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "EnCodec weights %s are truncated: %s needs %zu bytes at offset %zu, %zu left",
                 path_.c_str(), what, n, pos_, remaining());
        }
        const uint8_t * at = data_ + pos_;
        pos_ += n;
        return at;
    }

    void read(void * dst, size_t n, const char * what) { std::memcpy(dst, take(n, what), n); }

    int32_t i32(const char * what) {
        int32_t value = 0;
        read(&value, sizeof(value), what);
        return value;
    }

    void skip(size_t n, const char * what) { take(n, what); }

  private:
    const std::string & path_;
    const uint8_t *     data_;
    size_t              size_;
    size_t              pos_ = 0;
};

// name → expected ne (innermost first), for the model the header describes.
std::map<std::string, std::vector<int64_t>> expected_tensors(const encodec_hparams & hp) {
    std::map<std::string, std::vector<int64_t>> out;
    const int64_t nf = hp.n_filters, h = hp.hidden_dim, ks = hp.kernel_size, rks = hp.residual_kernel_size;
    const int64_t D = hp.lstm_dim();
    auto conv = [&](const std::string & name, int64_t k, int64_t in, int64_t o) {
        out[name + ".weight"] = {k, in, o};
        out[name + ".bias"]   = {o};
    };
    auto res = [&](const std::string & prefix, int64_t dim) {
        conv(prefix + ".block.1.conv.conv", rks, dim, dim / 2);
        conv(prefix + ".block.3.conv.conv", 1, dim / 2, dim);
        conv(prefix + ".shortcut.conv.conv", 1, dim, dim);
    };
    auto lstm = [&](const std::string & prefix) {
        for (int l = 0; l < 2; ++l) {
            const std::string s = std::to_string(l);
            out[prefix + ".lstm.weight_ih_l" + s] = {D, 4 * D};
            out[prefix + ".lstm.weight_hh_l" + s] = {D, 4 * D};
            out[prefix + ".lstm.bias_ih_l" + s]   = {4 * D};
            out[prefix + ".lstm.bias_hh_l" + s]   = {4 * D};
        }
    };
    // encoder: 0 conv, 1/4/7/10 residual blocks, 3/6/9/12 down-sampling convs, 13 LSTM, 15 conv
    conv("encoder.model.0.conv.conv", ks, hp.in_channels, nf);
    int64_t dim = nf;
    for (int i = 0; i < 4; ++i) {
        const int64_t s = k_encodec_strides[i];
        res("encoder.model." + std::to_string(1 + 3 * i), dim);
        conv("encoder.model." + std::to_string(3 + 3 * i) + ".conv.conv", 2 * s, dim, 2 * dim);
        dim *= 2;
    }
    lstm("encoder.model.13");
    conv("encoder.model.15.conv.conv", ks, D, h);
    // decoder: 0 conv, 1 LSTM, 3/6/9/12 transposed convs, 4/7/10/13 residual blocks, 15 conv
    conv("decoder.model.0.conv.conv", ks, h, D);
    lstm("decoder.model.1");
    dim = D;
    for (int i = 0; i < 4; ++i) {
        const int64_t s    = k_encodec_strides[3 - i];
        const std::string up = "decoder.model." + std::to_string(3 + 3 * i) + ".convtr.convtr";
        out[up + ".weight"] = {2 * s, dim / 2, dim};
        out[up + ".bias"]   = {dim / 2};
        dim /= 2;
        res("decoder.model." + std::to_string(4 + 3 * i), dim);
    }
    conv("decoder.model.15.conv.conv", ks, nf, hp.in_channels);
    for (int q = 0; q < hp.n_codebooks(); ++q) {
        out["quantizer.vq.layers." + std::to_string(q) + "._codebook.embed"] = {h, hp.n_bins};
    }
    return out;
}

void check_header(const encodec_hparams & hp, const std::string & path) {
    auto bad = [&](const char * field, int32_t value, const char * expected) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "EnCodec weights %s: header field %s is %d, expected %s", path.c_str(), field,
             value, expected);
    };
    if (hp.in_channels != 1) bad("in_channels", hp.in_channels, "1 (mono)");
    if (hp.hidden_dim < 1 || hp.hidden_dim > 4096) bad("hidden_dim", hp.hidden_dim, "1 to 4096");
    if (hp.n_filters < 1 || hp.n_filters > 1024 || hp.n_filters % 2) bad("n_filters", hp.n_filters, "an even number from 2 to 1024");
    if (hp.kernel_size < 1 || hp.kernel_size > 31) bad("kernel_size", hp.kernel_size, "1 to 31");
    if (hp.residual_kernel_size < 1 || hp.residual_kernel_size > 31) bad("residual_kernel_size", hp.residual_kernel_size, "1 to 31");
    if (hp.n_bins < 2 || hp.n_bins > 65536) bad("n_bins", hp.n_bins, "2 to 65536");
    if (hp.bandwidth != 24) bad("bandwidth", hp.bandwidth, "24");
    if (hp.sample_rate != 24000) bad("sample_rate", hp.sample_rate, "24000");
    if (hp.ftype != 0 && hp.ftype != 1) bad("ftype", hp.ftype, "0 (f32) or 1 (f16)");
}

}  // namespace

void encodec_model_load(encodec_model & model, const std::string & path, ggml_backend_dev_t device) {
    model.device = device;
    const mapped_file file(path, "EnCodec weights "); // read once into the tensors below, unmapped on return
    reader            r(path, file.data(), file.size());
    model.file_bytes = file.size();

    uint32_t magic = 0;
    r.read(&magic, sizeof(magic), "the magic number");
    if (magic != k_magic) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "%s is not an EnCodec ggml weight file (magic 0x%08x, expected 0x%08x \"ggml\")",
             path.c_str(), magic, k_magic);
    }
    encodec_hparams & hp   = model.hparams;
    hp.in_channels          = r.i32("the header");
    hp.hidden_dim           = r.i32("the header");
    hp.n_filters            = r.i32("the header");
    hp.kernel_size          = r.i32("the header");
    hp.residual_kernel_size = r.i32("the header");
    hp.n_bins               = r.i32("the header");
    hp.bandwidth            = r.i32("the header");
    hp.sample_rate          = r.i32("the header");
    hp.ftype                = r.i32("the header") % 1000; // encodec.cpp: ftype %= GGML_QNT_VERSION_FACTOR
    check_header(hp, path);

    const auto expected = expected_tensors(hp);
    std::map<std::string, record> records;
    while (r.remaining() > 0) {
        const int32_t n_dims   = r.i32("a tensor record");
        const int32_t name_len = r.i32("a tensor record");
        const int32_t ftype    = r.i32("a tensor record");
        if (n_dims < 0 || n_dims > 4 || name_len < 1 || name_len > 512 || (ftype != 0 && ftype != 1)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT,
                 "EnCodec weights %s: malformed tensor record at offset %zu (n_dims %d, name length %d, type %d)",
                 path.c_str(), r.position() - 12, n_dims, name_len, ftype);
        }
        record rec;
        rec.ftype   = ftype;
        int64_t n   = 1;
        for (int i = 0; i < n_dims; ++i) {
            const int32_t d = r.i32("tensor dimensions");
            if (d < 1 || d > (1 << 24)) {
                fail(VALL_E_ERR_INVALID_ARGUMENT, "EnCodec weights %s: tensor dimension %d at offset %zu is out of range",
                     path.c_str(), d, r.position() - 4);
            }
            rec.ne.push_back(d);
            n *= d;
        }
        std::string name((size_t) name_len, '\0');
        r.read(name.data(), (size_t) name_len, "a tensor name");
        const auto want = expected.find(name);
        if (want == expected.end()) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "EnCodec weights %s: unexpected tensor '%s'", path.c_str(), name.c_str());
        }
        if (records.count(name)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "EnCodec weights %s: tensor '%s' appears twice", path.c_str(), name.c_str());
        }
        // A scalar is written with no dimensions (encodec.cpp squeezes the [1] bias); missing dims count as 1.
        std::vector<int64_t> got = rec.ne;
        while (got.size() < want->second.size()) got.push_back(1);
        while (got.size() > want->second.size() && got.back() == 1) got.pop_back();
        if (got != want->second) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "EnCodec weights %s: tensor '%s' has shape %s, expected %s", path.c_str(),
                 name.c_str(), shape_string(rec.ne).c_str(), shape_string(want->second).c_str());
        }
        rec.ne     = want->second;
        rec.bytes  = (size_t) n * (ftype == 1 ? 2 : 4);
        rec.offset = r.position();
        r.skip(rec.bytes, ("the data of tensor '" + name + "'").c_str());
        records.emplace(name, std::move(rec));
    }
    for (const auto & item : expected) {
        if (!records.count(item.first)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "EnCodec weights %s: tensor '%s' is missing", path.c_str(), item.first.c_str());
        }
    }

    // One tensor's data as f32 (every record was checked to lie inside the file).
    auto read_f32 = [&](const std::string & name) {
        const record &     rec = records.at(name);
        const uint8_t *    at  = file.data() + rec.offset;
        const size_t       n   = rec.ftype == 1 ? rec.bytes / 2 : rec.bytes / 4;
        std::vector<float> out(n);
        if (rec.ftype == 1) {
            std::vector<ggml_fp16_t> half(n);
            std::memcpy(half.data(), at, rec.bytes);
            ggml_fp16_to_fp32_row(half.data(), out.data(), (int64_t) n);
        } else {
            std::memcpy(out.data(), at, rec.bytes);
        }
        return out;
    };

    // Graph tensors (f32) in one CPU buffer.
    const size_t n_graph_tensors = 512;
    model.ctx                    = make_meta_context(n_graph_tensors, 0);
    ggml_context * ctx           = model.ctx.get();
    std::vector<std::pair<ggml_tensor *, std::vector<float>>> uploads;
    auto tensor = [&](const std::vector<int64_t> & ne, std::vector<float> data, const std::string & name) {
        ggml_tensor * t = ggml_new_tensor(ctx, GGML_TYPE_F32, (int) ne.size(), ne.data());
        ggml_set_name(t, name.c_str());
        uploads.emplace_back(t, std::move(data));
        return t;
    };
    auto load = [&](const std::string & name) { return tensor(records.at(name).ne, read_f32(name), name); };
    auto conv = [&](const std::string & prefix, int64_t stride) {
        const record &           rec = records.at(prefix + ".weight");
        const int64_t            k = rec.ne[0], inc = rec.ne[1], out = rec.ne[2];
        const std::vector<float> w = read_f32(prefix + ".weight"); // [out][in][k]
        conv1d_weights           result;
        result.k      = k;
        result.in     = inc;
        result.out    = out;
        result.stride = stride;
        for (int64_t group = 0; group < k / stride; ++group) {
            std::vector<float> m((size_t) (stride * inc * out)); // [out][j][in]
            for (int64_t o = 0; o < out; ++o) {
                for (int64_t j = 0; j < stride; ++j) {
                    for (int64_t c = 0; c < inc; ++c) {
                        m[(size_t) ((o * stride + j) * inc + c)] = w[(size_t) ((o * inc + c) * k + group * stride + j)];
                    }
                }
            }
            result.groups.push_back(tensor({stride * inc, out}, std::move(m), prefix + ".weight." + std::to_string(group)));
        }
        if (inc < 16) {
            std::vector<float> m((size_t) (k * inc * out)); // [out][j][in]
            for (int64_t o = 0; o < out; ++o) {
                for (int64_t j = 0; j < k; ++j) {
                    for (int64_t c = 0; c < inc; ++c) m[(size_t) ((o * k + j) * inc + c)] = w[(size_t) ((o * inc + c) * k + j)];
                }
            }
            result.gathered = tensor({k * inc, out}, std::move(m), prefix + ".weight.all");
        }
        result.b = load(prefix + ".bias");
        return result;
    };
    auto res  = [&](const std::string & prefix) {
        return encodec_resblock{conv(prefix + ".block.1.conv.conv", 1), conv(prefix + ".block.3.conv.conv", 1),
                                conv(prefix + ".shortcut.conv.conv", 1)};
    };
    auto lstm = [&](std::array<encodec_lstm_layer, 2> & layers, const std::string & prefix) {
        for (int l = 0; l < 2; ++l) {
            const std::string  s    = std::to_string(l);
            std::vector<float> bias = read_f32(prefix + ".lstm.bias_ih_l" + s);
            const auto         b_hh = read_f32(prefix + ".lstm.bias_hh_l" + s);
            for (size_t i = 0; i < bias.size(); ++i) bias[i] += b_hh[i];
            layers[l].w_ih = load(prefix + ".lstm.weight_ih_l" + s);
            const int64_t n = (int64_t) bias.size();
            layers[l].bias  = tensor({n}, std::move(bias), prefix + ".lstm.bias_l" + s);
            const std::string hh = prefix + ".lstm.weight_hh_l" + s;
            if (records.at(hh).ftype == 1) {
                const std::vector<float> w = read_f32(hh);
                layers[l].w_hh_f16.resize(w.size());
                ggml_fp32_to_fp16_row(w.data(), layers[l].w_hh_f16.data(), (int64_t) w.size());
            } else {
                layers[l].w_hh = read_f32(hh);
            }
        }
    };

    encodec_encoder & enc = model.encoder;
    enc.first             = conv("encoder.model.0.conv.conv", 1);
    for (int i = 0; i < 4; ++i) {
        enc.res[i]  = res("encoder.model." + std::to_string(1 + 3 * i));
        enc.down[i] = conv("encoder.model." + std::to_string(3 + 3 * i) + ".conv.conv", k_encodec_strides[i]);
    }
    lstm(enc.lstm, "encoder.model.13");
    enc.last = conv("encoder.model.15.conv.conv", 1);

    encodec_decoder & dec = model.decoder;
    dec.first             = conv("decoder.model.0.conv.conv", 1);
    lstm(dec.lstm, "decoder.model.1");
    for (int i = 0; i < 4; ++i) {
        const std::string prefix = "decoder.model." + std::to_string(3 + 3 * i) + ".convtr.convtr";
        const record &           rec = records.at(prefix + ".weight");
        const int64_t            k = rec.ne[0], out = rec.ne[1], inc = rec.ne[2];
        const std::vector<float> w = read_f32(prefix + ".weight"); // [in][out][k]
        std::vector<float>       m((size_t) (k * out * inc));      // [k][out][in]
        for (int64_t c = 0; c < inc; ++c) {
            for (int64_t o = 0; o < out; ++o) {
                for (int64_t j = 0; j < k; ++j) {
                    m[(size_t) ((j * out + o) * inc + c)] = w[(size_t) ((c * out + o) * k + j)];
                }
            }
        }
        conv_transpose_weights & up = dec.up[i];
        up.stride           = k_encodec_strides[3 - i];
        up.k                = k;
        up.in               = inc;
        up.out              = out;
        up.w                = tensor({inc, k * out}, std::move(m), prefix + ".weight");
        up.b                = load(prefix + ".bias");
        dec.res[i]       = res("decoder.model." + std::to_string(4 + 3 * i));
    }
    dec.last = conv("decoder.model.15.conv.conv", 1);

    const int64_t h = hp.hidden_dim;
    for (int q = 0; q < hp.n_codebooks(); ++q) {
        std::vector<float> embed = read_f32("quantizer.vq.layers." + std::to_string(q) + "._codebook.embed");
        std::vector<float> norms((size_t) hp.n_bins);
        for (int64_t j = 0; j < hp.n_bins; ++j) {
            float sum = 0.0f;
            for (int64_t d = 0; d < h; ++d) sum += embed[(size_t) (j * h + d)] * embed[(size_t) (j * h + d)];
            norms[(size_t) j] = sum;
        }
        model.codebooks.push_back(std::move(embed));
        model.codebook_norms.push_back(std::move(norms));
    }

    model.buffer.reset(ggml_backend_alloc_ctx_tensors_from_buft(
        ctx, device ? ggml_backend_dev_buffer_type(device) : ggml_backend_cpu_buffer_type()));
    if (!model.buffer) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate the EnCodec weights");
    }
    for (auto & upload : uploads) {
        if (upload.second.size() * sizeof(float) != ggml_nbytes(upload.first)) {
            fail(VALL_E_ERR_INTERNAL, "EnCodec weights %s: tensor '%s' holds %zu bytes, its data %zu", path.c_str(),
                 ggml_get_name(upload.first), ggml_nbytes(upload.first), upload.second.size() * sizeof(float));
        }
        ggml_backend_tensor_set(upload.first, upload.second.data(), 0, upload.second.size() * sizeof(float));
    }
}

}  // namespace vall_e
