// The JS-visible Lm (weights) and LmContext (KV cache, one call at a time) classes. Sequences are copied on the
// main thread, evaluated on a worker thread.
#include "addon.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace vall_e_addon {
namespace {

struct SequenceData {
    std::vector<int32_t> row_offsets;
    std::vector<int32_t> row_ids;
    std::vector<int32_t> positions;
    int32_t              causal    = 1;
    int32_t              n_outputs = 1;

    vall_e_lm_sequence view() const {
        vall_e_lm_sequence s;
        s.n_tokens    = (int32_t) positions.size();
        s.row_offsets = row_offsets.data();
        s.row_ids     = row_ids.data();
        s.positions   = positions.data();
        s.causal      = causal;
        s.n_outputs   = n_outputs;
        return s;
    }
};

std::vector<int32_t> int32_array(const Napi::Env & env, const Napi::Value & value, const char * name) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, std::string("Expected an Int32Array for ") + name);
    }
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

// { rowOffsets: Int32Array, rowIds: Int32Array, positions: Int32Array, causal: boolean, outputs: number }
SequenceData sequence_arg(const Napi::Env & env, const Napi::Value & value) {
    if (!value.IsObject()) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected a sequence object");
    }
    Napi::Object object = value.As<Napi::Object>();
    SequenceData s;
    s.row_offsets = int32_array(env, object.Get("rowOffsets"), "rowOffsets");
    s.row_ids     = int32_array(env, object.Get("rowIds"), "rowIds");
    s.positions   = int32_array(env, object.Get("positions"), "positions");
    s.causal      = object.Get("causal").ToBoolean().Value() ? 1 : 0;
    s.n_outputs   = (int32_t) integer_arg(env, object.Get("outputs"), "outputs", 1, 1 << 20);
    if (s.row_offsets.size() != s.positions.size() + 1 || s.positions.empty() ||
        s.row_offsets.back() != (int32_t) s.row_ids.size()) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT,
                    "Expected rowOffsets of length positions + 1 ending at the number of rowIds");
    }
    return s;
}

class Lm : public Napi::ObjectWrap<Lm> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "Lm",
                           {InstanceMethod<&Lm::CreateContext>("createContext"), InstanceMethod<&Lm::Dispose>("dispose"),
                            InstanceAccessor<&Lm::Info>("info")});
    }

    explicit Lm(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Lm>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) {
            throw_error(info.Env(), VALL_E_ERR_INVALID_ARGUMENT, "Lm cannot be constructed directly: use loadLm()");
        }
        handle_ = info[0].As<Napi::External<vall_e_lm>>().Data();
    }

    ~Lm() override { vall_e_lm_free(handle_); }

    vall_e_lm * Checked(const Napi::Env & env) const {
        if (!handle_) throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "This Lm has been disposed");
        return handle_;
    }

    // Open contexts; shared with them so that finalizers at shutdown (in any order) never touch a freed object.
    std::shared_ptr<int> contexts = std::make_shared<int>(0);

  private:
    Napi::Value CreateContext(const Napi::CallbackInfo & info);

    Napi::Value Dispose(const Napi::CallbackInfo & info) {
        if (*contexts > 0) {
            throw_error(info.Env(), VALL_E_ERR_BUSY, "Cannot dispose an Lm while its contexts are open");
        }
        vall_e_lm_free(handle_);
        handle_ = nullptr;
        return info.Env().Undefined();
    }

    Napi::Value Info(const Napi::CallbackInfo & info) {
        vall_e_lm_info li;
        vall_e_lm_get_info(Checked(info.Env()), &li);
        Napi::Object out = Napi::Object::New(info.Env());
        out.Set("nEmbd", li.n_embd);
        out.Set("nLayer", li.n_layer);
        out.Set("nHead", li.n_head);
        out.Set("nHeadKv", li.n_head_kv);
        out.Set("nFf", li.n_ff);
        out.Set("nVocab", li.n_vocab);
        out.Set("nCtxTrain", li.n_ctx_train);
        out.Set("rmsEps", li.rms_eps);
        out.Set("ropeTheta", li.rope_theta);
        out.Set("weightType", li.weight_type);
        out.Set("fileBytes", (double) li.file_bytes);
        out.Set("weightBytes", (double) li.weight_bytes);
        out.Set("hasOutputBias", li.has_output_bias != 0);
        out.Set("repackedBytes", (double) li.repacked_bytes);
        out.Set("device", li.device);
        out.Set("deviceBytes", (double) li.device_bytes);
        return out;
    }

    vall_e_lm * handle_ = nullptr;
};

class LmContext : public Napi::ObjectWrap<LmContext> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "LmContext",
                           {InstanceMethod<&LmContext::Forward>("forward"),
                            InstanceMethod<&LmContext::CacheAppend>("cacheAppend"),
                            InstanceMethod<&LmContext::CacheClear>("cacheClear"),
                            InstanceMethod<&LmContext::CacheCopyFrom>("cacheCopyFrom"),
                            InstanceMethod<&LmContext::Cancel>("cancel"), InstanceMethod<&LmContext::Dispose>("dispose"),
                            InstanceMethod<&LmContext::SetDump>("setDump"),
                            InstanceMethod<&LmContext::Dumped>("dumped"),
                            InstanceAccessor<&LmContext::CacheLength>("cacheLength")});
    }

    explicit LmContext(const Napi::CallbackInfo & info) : Napi::ObjectWrap<LmContext>(info) {
        if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsObject()) {
            throw_error(info.Env(), VALL_E_ERR_INVALID_ARGUMENT, "LmContext cannot be constructed directly");
        }
        handle_   = info[0].As<Napi::External<vall_e_lm_context>>().Data();
        model_    = Napi::Persistent(info[1].As<Napi::Object>());
        contexts_ = Lm::Unwrap(model_.Value())->contexts;
        (*contexts_)++;
    }

    ~LmContext() override { Close(); }

    void Release() { in_flight_--; }

    volatile int32_t cancel_flag = 0;

  private:
    friend class LmWorker;

    void Close() {
        if (handle_) {
            vall_e_lm_context_free(handle_);
            handle_ = nullptr;
            (*contexts_)--;
        }
    }

    vall_e_lm_context * Checked(const Napi::Env & env) const {
        if (!handle_) throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "This LmContext has been disposed");
        return handle_;
    }

    Napi::Value Forward(const Napi::CallbackInfo & info);
    Napi::Value CacheAppend(const Napi::CallbackInfo & info);

    Napi::Value CacheClear(const Napi::CallbackInfo & info) {
        if (in_flight_ > 0) throw_error(info.Env(), VALL_E_ERR_BUSY, "Cannot clear the cache while a call is in flight");
        vall_e_lm_cache_clear(Checked(info.Env()));
        return info.Env().Undefined();
    }

    // Copy another context's cache into this one (synchronous: a memory copy).
    Napi::Value CacheCopyFrom(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        if (info.Length() != 1 || !info[0].IsObject() ||
            !info[0].As<Napi::Object>().InstanceOf(env.GetInstanceData<InstanceData>()->lm_context_constructor.Value())) {
            throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "cacheCopyFrom expects an LmContext");
        }
        LmContext * source = LmContext::Unwrap(info[0].As<Napi::Object>());
        if (in_flight_ > 0 || source->in_flight_ > 0) {
            throw_error(env, VALL_E_ERR_BUSY, "Cannot copy a cache while a call is in flight");
        }
        const vall_e_status status = vall_e_lm_cache_copy(Checked(env), source->Checked(env));
        if (status != VALL_E_OK) throw_error(env, status, vall_e_last_error());
        return env.Undefined();
    }

    Napi::Value CacheLength(const Napi::CallbackInfo & info) {
        return Napi::Number::New(info.Env(), vall_e_lm_cache_length(Checked(info.Env())));
    }

    Napi::Value SetDump(const Napi::CallbackInfo & info) {
        if (in_flight_ > 0) throw_error(info.Env(), VALL_E_ERR_BUSY, "Cannot change the dump setting while a call is in flight");
        if (info.Length() != 1 || !info[0].IsBoolean()) {
            throw_error(info.Env(), VALL_E_ERR_INVALID_ARGUMENT, "setDump expects a boolean");
        }
        vall_e_lm_set_dump(Checked(info.Env()), info[0].As<Napi::Boolean>().Value() ? 1 : 0);
        return info.Env().Undefined();
    }

    // The last evaluation's named intermediates: [{name, rows, columns, data: Float32Array}], copied.
    Napi::Value Dumped(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        if (in_flight_ > 0) throw_error(env, VALL_E_ERR_BUSY, "Cannot read the dump while a call is in flight");
        vall_e_lm_context * ctx   = Checked(env);
        const int32_t       count = vall_e_lm_dump_count(ctx);
        Napi::Array         out   = Napi::Array::New(env, (size_t) count);
        for (int32_t i = 0; i < count; ++i) {
            const float * data      = nullptr;
            int64_t       n_per_row = 0, n_rows = 0;
            const char *  name      = vall_e_lm_dump_get(ctx, i, &data, &n_per_row, &n_rows);
            const size_t  n         = (size_t) (n_per_row * n_rows);
            Napi::Float32Array values = Napi::Float32Array::New(env, n);
            std::memcpy(values.Data(), data, n * sizeof(float));
            Napi::Object entry = Napi::Object::New(env);
            entry.Set("name", name);
            entry.Set("rows", (double) n_rows);
            entry.Set("columns", (double) n_per_row);
            entry.Set("data", values);
            out.Set((uint32_t) i, entry);
        }
        return out;
    }

    Napi::Value Cancel(const Napi::CallbackInfo & info) {
        if (in_flight_ > 0) cancel_flag = 1;
        return info.Env().Undefined();
    }

    Napi::Value Dispose(const Napi::CallbackInfo & info) {
        if (in_flight_ > 0) throw_error(info.Env(), VALL_E_ERR_BUSY, "Cannot dispose an LmContext while a call is in flight");
        Close();
        return info.Env().Undefined();
    }

    vall_e_lm_context *   handle_ = nullptr;
    Napi::ObjectReference model_; // keeps the weights alive while the context lives
    std::shared_ptr<int>  contexts_;
    int                   in_flight_ = 0;
};

class LmWorker : public PromiseWorker {
  public:
    LmWorker(Napi::Env env, LmContext * owner, Napi::Object self, std::vector<SequenceData> sequences, int32_t head_start,
             int32_t head_end, bool cached)
        : PromiseWorker(env), owner_(owner), handle_(owner->handle_), sequences_(std::move(sequences)),
          head_start_(head_start), head_end_(head_end), cached_(cached) {
        Retain(self);
        owner_->in_flight_++;
        owner_->cancel_flag = 0;
        size_t outputs = 0;
        for (const auto & s : sequences_) outputs += (size_t) s.n_outputs;
        const size_t width = head_end > head_start ? (size_t) (head_end - head_start) : 0;
        logits_.resize(outputs * width);
    }

  protected:
    vall_e_status Run() override {
        std::vector<vall_e_lm_sequence> views;
        for (const auto & s : sequences_) views.push_back(s.view());
        if (cached_) return vall_e_lm_cache_append(handle_, views.data(), head_start_, head_end_, logits_.data());
        return vall_e_lm_forward(handle_, views.data(), (int32_t) views.size(), head_start_, head_end_, logits_.data());
    }

    void Finish() override { owner_->Release(); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Float32Array out = Napi::Float32Array::New(env, logits_.size());
        std::copy(logits_.begin(), logits_.end(), out.Data());
        return out;
    }

  private:
    LmContext *               owner_;
    vall_e_lm_context *       handle_;
    std::vector<SequenceData> sequences_;
    int32_t                   head_start_, head_end_;
    bool                      cached_;
    std::vector<float>        logits_;
};

// forward(sequences: Sequence[], headStart, headEnd) → Promise<Float32Array>
Napi::Value LmContext::Forward(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Checked(env);
    if (!info[0].IsArray()) throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected an array of sequences");
    Napi::Array               array = info[0].As<Napi::Array>();
    std::vector<SequenceData> sequences;
    for (uint32_t i = 0; i < array.Length(); ++i) sequences.push_back(sequence_arg(env, array.Get(i)));
    const int64_t start = integer_arg(env, info[1], "headStart", 0, INT32_MAX);
    const int64_t end   = integer_arg(env, info[2], "headEnd", 0, INT32_MAX);
    auto * worker = new LmWorker(env, this, info.This().As<Napi::Object>(), std::move(sequences), (int32_t) start,
                                 (int32_t) end, false);
    worker->Queue();
    return worker->Promise();
}

// cacheAppend(sequence: Sequence, headStart, headEnd) → Promise<Float32Array>
Napi::Value LmContext::CacheAppend(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Checked(env);
    std::vector<SequenceData> sequences;
    sequences.push_back(sequence_arg(env, info[0]));
    const int64_t start = integer_arg(env, info[1], "headStart", 0, INT32_MAX);
    const int64_t end   = integer_arg(env, info[2], "headEnd", 0, INT32_MAX);
    auto * worker = new LmWorker(env, this, info.This().As<Napi::Object>(), std::move(sequences), (int32_t) start,
                                 (int32_t) end, true);
    worker->Queue();
    return worker->Promise();
}

class ContextWorker : public PromiseWorker {
  public:
    ContextWorker(Napi::Env env, Napi::Object model, vall_e_lm * lm, vall_e_lm_context_params params, LmContext ** cancel_owner)
        : PromiseWorker(env), lm_(lm), params_(params) {
        Retain(model);
        model_ = Napi::Persistent(model);
    }
    ~ContextWorker() override { vall_e_lm_context_free(handle_); }

  protected:
    vall_e_status Run() override { return vall_e_lm_context_init(lm_, &params_, &handle_); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object object = env.GetInstanceData<InstanceData>()->lm_context_constructor.New(
            {Napi::External<vall_e_lm_context>::New(env, handle_), model_.Value()});
        handle_ = nullptr;
        return object;
    }

  private:
    vall_e_lm *              lm_;
    vall_e_lm_context_params params_;
    vall_e_lm_context *      handle_ = nullptr;
    Napi::ObjectReference    model_;
};

// createContext(nCtx, threads, cacheType) → Promise<LmContext>
Napi::Value Lm::CreateContext(const Napi::CallbackInfo & info) {
    Napi::Env                env    = info.Env();
    vall_e_lm_context_params params = vall_e_lm_context_default_params();
    params.n_ctx                    = (int32_t) integer_arg(env, info[0], "nCtx", INT32_MIN, INT32_MAX);
    params.n_threads                = (int32_t) integer_arg(env, info[1], "threads", INT32_MIN, INT32_MAX);
    params.cache_type               = (int32_t) integer_arg(env, info[2], "cacheType", INT32_MIN, INT32_MAX);
    auto * worker = new ContextWorker(env, info.This().As<Napi::Object>(), Checked(env), params, nullptr);
    worker->Queue();
    return worker->Promise();
}

class LoadWorker : public PromiseWorker {
  public:
    LoadWorker(Napi::Env env, std::string path, vall_e_lm_params params) : PromiseWorker(env), path_(std::move(path)), params_(params) {}
    ~LoadWorker() override { vall_e_lm_free(handle_); }

  protected:
    vall_e_status Run() override { return vall_e_lm_load(path_.c_str(), &params_, &handle_); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object object = env.GetInstanceData<InstanceData>()->lm_constructor.New({Napi::External<vall_e_lm>::New(env, handle_)});
        handle_ = nullptr;
        return object;
    }

  private:
    std::string      path_;
    vall_e_lm_params params_;
    vall_e_lm *      handle_ = nullptr;
};

// loadLm(path, activation, headBiases, device) → Promise<Lm>
Napi::Value LoadLm(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected a string for path");
    vall_e_lm_params params = vall_e_lm_default_params();
    params.activation       = (int32_t) integer_arg(env, info[1], "activation", INT32_MIN, INT32_MAX);
    params.head_biases      = (int32_t) integer_arg(env, info[2], "headBiases", INT32_MIN, INT32_MAX);
    if (info.Length() > 3 && !info[3].IsUndefined()) {
        params.device = (int32_t) integer_arg(env, info[3], "device", INT32_MIN, INT32_MAX);
    }
    auto * worker           = new LoadWorker(env, info[0].As<Napi::String>().Utf8Value(), params);
    worker->Queue();
    return worker->Promise();
}

class QuantizeWorker : public PromiseWorker {
  public:
    QuantizeWorker(Napi::Env env, Napi::Float32Array values, int32_t type, int64_t rows, int64_t per_row)
        : PromiseWorker(env), values_(values.Data(), values.Data() + values.ElementLength()), type_(type), rows_(rows),
          per_row_(per_row) {}

  protected:
    vall_e_status Run() override {
        out_.resize(values_.size() * sizeof(float) + 1024);
        size_t written = 0;
        const vall_e_status status = vall_e_quantize(type_, values_.data(), rows_, per_row_, out_.data(), out_.size(), &written);
        out_.resize(written);
        return status;
    }

    Napi::Value Result(Napi::Env env) override { return Napi::Buffer<uint8_t>::Copy(env, out_.data(), out_.size()); }

  private:
    std::vector<float>   values_;
    int32_t              type_;
    int64_t              rows_, per_row_;
    std::vector<uint8_t> out_;
};

// quantize(values: Float32Array, type, rows, perRow) → Promise<Uint8Array>
Napi::Value Quantize(const Napi::CallbackInfo & info) {
    Napi::Env          env    = info.Env();
    Napi::Float32Array values = float32_arg(env, info[0], "values");
    const int64_t      type   = integer_arg(env, info[1], "type", INT32_MIN, INT32_MAX);
    const int64_t      rows   = integer_arg(env, info[2], "rows", 1, INT32_MAX);
    const int64_t      per    = integer_arg(env, info[3], "perRow", 1, INT32_MAX);
    if ((int64_t) values.ElementLength() != rows * per) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected rows × perRow values");
    }
    auto * worker = new QuantizeWorker(env, values, (int32_t) type, rows, per);
    worker->Queue();
    return worker->Promise();
}

}  // namespace

void InitLm(Napi::Env env, Napi::Object exports, InstanceData & data) {
    data.lm_constructor         = Napi::Persistent(Lm::Define(env));
    data.lm_context_constructor = Napi::Persistent(LmContext::Define(env));
    exports.Set("loadLm", Napi::Function::New(env, LoadLm, "loadLm"));
    exports.Set("quantize", Napi::Function::New(env, Quantize, "quantize"));
}

}  // namespace vall_e_addon
