// The JS-visible Codec class: owns one vall_e_codec (EnCodec weights); encode() and decode() run on worker threads,
// several at once if called so. Each call takes its own cancel flag (an Int32Array of one element the caller writes
// non-zero into to stop that call only).
#include "addon.h"

#include <atomic>
#include <string>

namespace vall_e_addon {
namespace {

class Codec : public Napi::ObjectWrap<Codec> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "Codec",
                           {
                               InstanceMethod<&Codec::Encode>("encode"),
                               InstanceMethod<&Codec::Decode>("decode"),
                               InstanceMethod<&Codec::EncodeLatent>("encodeLatent"),
                               InstanceMethod<&Codec::Dispose>("dispose"),
                               InstanceAccessor<&Codec::Info>("info"),
                           });
    }

    explicit Codec(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Codec>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) {
            throw_error(info.Env(), VALL_E_ERR_INVALID_ARGUMENT, "Codec cannot be constructed directly: use createCodec()");
        }
        handle_ = info[0].As<Napi::External<vall_e_codec>>().Data();
    }

    ~Codec() override { vall_e_codec_free(handle_); }

    void Release() { in_flight_--; }

  private:
    Napi::Value Encode(const Napi::CallbackInfo & info);
    Napi::Value Decode(const Napi::CallbackInfo & info);
    Napi::Value EncodeLatent(const Napi::CallbackInfo & info);

    Napi::Value Dispose(const Napi::CallbackInfo & info) {
        if (in_flight_ > 0) {
            throw_error(info.Env(), VALL_E_ERR_BUSY, "Cannot dispose a Codec while a call is in flight");
        }
        vall_e_codec_free(handle_);
        handle_ = nullptr;
        return info.Env().Undefined();
    }

    Napi::Value Info(const Napi::CallbackInfo & info) {
        vall_e_codec_info ci;
        vall_e_codec_get_info(Checked(info.Env()), &ci);
        Napi::Object out = Napi::Object::New(info.Env());
        out.Set("sampleRate", ci.sample_rate);
        out.Set("hopLength", ci.hop_length);
        out.Set("hiddenDim", ci.hidden_dim);
        out.Set("nFilters", ci.n_filters);
        out.Set("bins", ci.n_bins);
        out.Set("codebooks", ci.n_codebooks);
        out.Set("weightType", ci.weight_type == 1 ? "f16" : "f32");
        out.Set("fileBytes", (double) ci.file_bytes);
        out.Set("device", ci.device);
        return out;
    }

    vall_e_codec * Checked(const Napi::Env & env) const {
        if (!handle_) {
            throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "This Codec has been disposed");
        }
        return handle_;
    }

    vall_e_codec * handle_    = nullptr;
    int            in_flight_ = 0;

    friend class CodecWorker;
};

vall_e_codec_params params_from(const Napi::Env & env, const Napi::Value & threads, const Napi::Value & chunk,
                                Napi::Int32Array cancel) {
    vall_e_codec_params params = vall_e_codec_default_params();
    params.n_threads           = (int32_t) integer_arg(env, threads, "threads", INT32_MIN, INT32_MAX);
    params.chunk_frames        = (int32_t) integer_arg(env, chunk, "chunkFrames", INT32_MIN, INT32_MAX);
    params.cancel              = cancel.Data();
    return params;
}

class CodecWorker : public PromiseWorker {
  public:
    CodecWorker(Napi::Env env, Codec * owner, vall_e_codec * handle, Napi::Object self, Napi::TypedArray input,
                Napi::TypedArray output, Napi::Int32Array cancel, vall_e_codec_params params)
        : PromiseWorker(env), owner_(owner), handle_(handle), params_(params),
          input_ref_(Napi::Persistent(input.As<Napi::Object>())), output_ref_(Napi::Persistent(output.As<Napi::Object>())),
          cancel_ref_(Napi::Persistent(cancel.As<Napi::Object>())) {
        Retain(self);
    }

  protected:
    void        Finish() override { owner_->Release(); }
    Napi::Value Result(Napi::Env) override { return output_ref_.Value(); }

    Codec *               owner_;
    vall_e_codec *        handle_;
    vall_e_codec_params   params_;
    Napi::ObjectReference input_ref_;
    Napi::ObjectReference output_ref_;
    Napi::ObjectReference cancel_ref_; // params_.cancel points into it
};

class EncodeWorker : public CodecWorker {
  public:
    EncodeWorker(Napi::Env env, Codec * owner, vall_e_codec * handle, Napi::Object self, Napi::Float32Array samples,
                 Napi::Int16Array codes, int32_t n_q, Napi::Int32Array cancel, vall_e_codec_params params)
        : CodecWorker(env, owner, handle, self, samples, codes, cancel, params), samples_(samples.Data()),
          n_samples_((int64_t) samples.ElementLength()), codes_(codes.Data()), n_q_(n_q) {}

  protected:
    vall_e_status Run() override { return vall_e_codec_encode(handle_, samples_, n_samples_, n_q_, &params_, codes_); }

  private:
    const float * samples_;
    int64_t       n_samples_;
    int16_t *     codes_;
    int32_t       n_q_;
};

class DecodeWorker : public CodecWorker {
  public:
    DecodeWorker(Napi::Env env, Codec * owner, vall_e_codec * handle, Napi::Object self, Napi::Int16Array codes,
                 Napi::Float32Array samples, int32_t n_q, int64_t frames, Napi::Int32Array cancel,
                 vall_e_codec_params params)
        : CodecWorker(env, owner, handle, self, codes, samples, cancel, params), codes_(codes.Data()), samples_(samples.Data()),
          n_q_(n_q), frames_(frames) {}

  protected:
    vall_e_status Run() override { return vall_e_codec_decode(handle_, codes_, n_q_, frames_, &params_, samples_); }

  private:
    const int16_t * codes_;
    float *         samples_;
    int32_t         n_q_;
    int64_t         frames_;
};

// encode(samples: Float32Array, codebooks, threads, chunkFrames, cancel: Int32Array)
//   → Promise<Int16Array [codebooks × frames]>
Napi::Value Codec::Encode(const Napi::CallbackInfo & info) {
    Napi::Env          env     = info.Env();
    vall_e_codec *     handle  = Checked(env);
    Napi::Float32Array samples = float32_arg(env, info[0], "samples");
    const int64_t      n_q     = integer_arg(env, info[1], "codebooks", INT32_MIN, INT32_MAX);
    Napi::Int32Array   cancel  = cancel_arg(env, info[4]);
    const auto         params  = params_from(env, info[2], info[3], cancel);
    const int64_t      frames  = ((int64_t) samples.ElementLength() + 319) / 320;
    const int64_t      count   = n_q > 0 && frames > 0 ? n_q * frames : 0;
    Napi::Int16Array   codes   = Napi::Int16Array::New(env, (size_t) count);
    auto * worker = new EncodeWorker(env, this, handle, info.This().As<Napi::Object>(), samples, codes, (int32_t) n_q, cancel, params);
    in_flight_++;
    worker->Queue();
    return worker->Promise();
}

class LatentWorker : public CodecWorker {
  public:
    LatentWorker(Napi::Env env, Codec * owner, vall_e_codec * handle, Napi::Object self, Napi::Float32Array samples,
                 Napi::Float32Array latent, Napi::Int32Array cancel, vall_e_codec_params params)
        : CodecWorker(env, owner, handle, self, samples, latent, cancel, params), samples_(samples.Data()),
          n_samples_((int64_t) samples.ElementLength()), latent_(latent.Data()) {}

  protected:
    vall_e_status Run() override { return vall_e_codec_encode_latent(handle_, samples_, n_samples_, &params_, latent_); }

  private:
    const float * samples_;
    int64_t       n_samples_;
    float *       latent_;
};

// encodeLatent(samples: Float32Array, threads, chunkFrames, cancel: Int32Array) → Promise<Float32Array [frames × hidden]>
Napi::Value Codec::EncodeLatent(const Napi::CallbackInfo & info) {
    Napi::Env          env     = info.Env();
    vall_e_codec *     handle  = Checked(env);
    Napi::Float32Array samples = float32_arg(env, info[0], "samples");
    Napi::Int32Array   cancel  = cancel_arg(env, info[3]);
    const auto         params  = params_from(env, info[1], info[2], cancel);
    vall_e_codec_info  ci;
    vall_e_codec_get_info(handle, &ci);
    const int64_t      frames  = ((int64_t) samples.ElementLength() + 319) / 320;
    Napi::Float32Array latent  = Napi::Float32Array::New(env, (size_t) (frames * ci.hidden_dim));
    auto * worker = new LatentWorker(env, this, handle, info.This().As<Napi::Object>(), samples, latent, cancel, params);
    in_flight_++;
    worker->Queue();
    return worker->Promise();
}

// decode(codes: Int16Array, codebooks, frames, threads, chunkFrames, cancel: Int32Array)
//   → Promise<Float32Array [frames × 320]>
Napi::Value Codec::Decode(const Napi::CallbackInfo & info) {
    Napi::Env      env    = info.Env();
    vall_e_codec * handle = Checked(env);
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected an Int16Array for codes");
    }
    Napi::Int16Array codes  = info[0].As<Napi::Int16Array>();
    const int64_t    n_q    = integer_arg(env, info[1], "codebooks", 1, 1024);
    const int64_t    frames = integer_arg(env, info[2], "frames", 1, int64_t(1) << 26);
    if ((int64_t) codes.ElementLength() != n_q * frames) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT,
                    "Expected " + std::to_string(n_q * frames) + " codes (" + std::to_string(n_q) + " codebooks × " +
                        std::to_string(frames) + " frames), got " + std::to_string(codes.ElementLength()));
    }
    Napi::Int32Array   cancel  = cancel_arg(env, info[5]);
    const auto         params  = params_from(env, info[3], info[4], cancel);
    Napi::Float32Array samples = Napi::Float32Array::New(env, (size_t) (frames * 320));
    auto * worker = new DecodeWorker(env, this, handle, info.This().As<Napi::Object>(), codes, samples, (int32_t) n_q, frames,
                                     cancel, params);
    in_flight_++;
    worker->Queue();
    return worker->Promise();
}

class CreateCodecWorker : public PromiseWorker {
  public:
    CreateCodecWorker(Napi::Env env, std::string path, int32_t device)
        : PromiseWorker(env), path_(std::move(path)), device_(device) {}
    ~CreateCodecWorker() override { vall_e_codec_free(handle_); }

  protected:
    vall_e_status Run() override { return vall_e_codec_init_device(path_.c_str(), device_, &handle_); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object object = env.GetInstanceData<InstanceData>()->codec_constructor.New(
            {Napi::External<vall_e_codec>::New(env, handle_)});
        handle_ = nullptr;
        return object;
    }

  private:
    std::string    path_;
    int32_t        device_;
    vall_e_codec * handle_ = nullptr;
};

// createCodec(path, device = -1) → Promise<Codec>
Napi::Value CreateCodec(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected a string for path");
    }
    const int32_t device =
        info.Length() > 1 && !info[1].IsUndefined() ? (int32_t) integer_arg(env, info[1], "device", INT32_MIN, INT32_MAX) : -1;
    auto * worker = new CreateCodecWorker(env, info[0].As<Napi::String>().Utf8Value(), device);
    worker->Queue();
    return worker->Promise();
}

}  // namespace

void InitCodec(Napi::Env env, Napi::Object exports, InstanceData & data) {
    Napi::Function constructor = Codec::Define(env);
    data.codec_constructor     = Napi::Persistent(constructor);
    exports.Set("Codec", constructor);
    exports.Set("createCodec", Napi::Function::New(env, CreateCodec, "createCodec"));
}

}  // namespace vall_e_addon
