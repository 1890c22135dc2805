// The JS-visible Vocos class: owns one vall_e_vocos; decode() runs on worker threads, several at once if called so,
// each with its own cancel flag. createVocos() builds one from a state dict's tensors on a worker thread.
#include "addon.h"

#include <string>
#include <vector>

namespace vall_e_addon {
namespace {

class Vocos : public Napi::ObjectWrap<Vocos> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "Vocos",
                           {
                               InstanceMethod<&Vocos::Decode>("decode"),
                               InstanceMethod<&Vocos::Dispose>("dispose"),
                               InstanceAccessor<&Vocos::Info>("info"),
                           });
    }

    explicit Vocos(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Vocos>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) {
            throw_error(info.Env(), VALL_E_ERR_INVALID_ARGUMENT, "Vocos cannot be constructed directly: use createVocos()");
        }
        handle_ = info[0].As<Napi::External<vall_e_vocos>>().Data();
    }

    ~Vocos() override { vall_e_vocos_free(handle_); }

    void Release() { in_flight_--; }

  private:
    Napi::Value Decode(const Napi::CallbackInfo & info);

    Napi::Value Dispose(const Napi::CallbackInfo & info) {
        if (in_flight_ > 0) {
            throw_error(info.Env(), VALL_E_ERR_BUSY, "Cannot dispose a Vocos while a call is in flight");
        }
        vall_e_vocos_free(handle_);
        handle_ = nullptr;
        return info.Env().Undefined();
    }

    Napi::Value Info(const Napi::CallbackInfo & info) {
        vall_e_vocos_info vi;
        vall_e_vocos_get_info(Checked(info.Env()), &vi);
        Napi::Object out = Napi::Object::New(info.Env());
        out.Set("sampleRate", vi.sample_rate);
        out.Set("hopLength", vi.hop_length);
        out.Set("nFft", vi.n_fft);
        out.Set("inputChannels", vi.input_channels);
        out.Set("dim", vi.dim);
        out.Set("intermediateDim", vi.intermediate_dim);
        out.Set("layers", vi.n_layers);
        out.Set("bandwidths", vi.n_bandwidths);
        out.Set("codebooks", vi.n_codebooks);
        out.Set("bins", vi.n_bins);
        out.Set("weightBytes", (double) vi.weight_bytes);
        out.Set("device", vi.device);
        return out;
    }

    vall_e_vocos * Checked(const Napi::Env & env) const {
        if (!handle_) {
            throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "This Vocos has been disposed");
        }
        return handle_;
    }

    vall_e_vocos * handle_    = nullptr;
    int            in_flight_ = 0;

    friend class DecodeWorker;
};

class DecodeWorker : public PromiseWorker {
  public:
    DecodeWorker(Napi::Env env, Vocos * owner, Napi::Object self, Napi::Int16Array codes, Napi::Float32Array out,
                 int32_t n_q, int64_t frames, int32_t output, Napi::Int32Array cancel, vall_e_vocos_params params)
        : PromiseWorker(env), owner_(owner), handle_(owner->handle_), codes_(codes.Data()), out_(out.Data()), n_q_(n_q),
          frames_(frames), output_(output), params_(params), codes_ref_(Napi::Persistent(codes.As<Napi::Object>())),
          out_ref_(Napi::Persistent(out.As<Napi::Object>())), cancel_ref_(Napi::Persistent(cancel.As<Napi::Object>())) {
        Retain(self);
    }

  protected:
    vall_e_status Run() override {
        return vall_e_vocos_decode(handle_, codes_, n_q_, frames_, output_, &params_, out_);
    }
    void        Finish() override { owner_->Release(); }
    Napi::Value Result(Napi::Env) override { return out_ref_.Value(); }

  private:
    Vocos *               owner_;
    vall_e_vocos *        handle_;
    const int16_t *       codes_;
    float *               out_;
    int32_t               n_q_;
    int64_t               frames_;
    int32_t               output_;
    vall_e_vocos_params   params_;
    Napi::ObjectReference codes_ref_;
    Napi::ObjectReference out_ref_;
    Napi::ObjectReference cancel_ref_; // params_.cancel points into it
};

// decode(codes: Int16Array, codebooks, frames, output, threads, chunkFrames, cancel: Int32Array, bandwidthId)
//   → Promise<Float32Array>: output 0 audio [frames × 320], 1 features [frames × inputChannels], 2 backbone [frames × dim]
Napi::Value Vocos::Decode(const Napi::CallbackInfo & info) {
    Napi::Env      env    = info.Env();
    vall_e_vocos * handle = Checked(env);
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected an Int16Array for codes");
    }
    Napi::Int16Array codes  = info[0].As<Napi::Int16Array>();
    const int64_t    n_q    = integer_arg(env, info[1], "codebooks", 1, 1024);
    const int64_t    frames = integer_arg(env, info[2], "frames", 1, int64_t(1) << 26);
    const int64_t    output = integer_arg(env, info[3], "output", 0, 2);
    if ((int64_t) codes.ElementLength() != n_q * frames) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT,
                    "Expected " + std::to_string(n_q * frames) + " codes (" + std::to_string(n_q) + " codebooks × " +
                        std::to_string(frames) + " frames), got " + std::to_string(codes.ElementLength()));
    }
    vall_e_vocos_params params = vall_e_vocos_default_params();
    params.n_threads           = (int32_t) integer_arg(env, info[4], "threads", INT32_MIN, INT32_MAX);
    params.chunk_frames        = (int32_t) integer_arg(env, info[5], "chunkFrames", INT32_MIN, INT32_MAX);
    Napi::Int32Array cancel    = cancel_arg(env, info[6]);
    params.cancel              = cancel.Data();
    params.bandwidth_id        = (int32_t) integer_arg(env, info[7], "bandwidthId", INT32_MIN, INT32_MAX);
    vall_e_vocos_info vi;
    vall_e_vocos_get_info(handle, &vi);
    const int64_t per_frame = output == VALL_E_VOCOS_FEATURES ? vi.input_channels
                              : output == VALL_E_VOCOS_BACKBONE ? vi.dim
                                                                : vi.hop_length;
    Napi::Float32Array out = Napi::Float32Array::New(env, (size_t) (frames * per_frame));
    auto * worker = new DecodeWorker(env, this, info.This().As<Napi::Object>(), codes, out, (int32_t) n_q, frames,
                                     (int32_t) output, cancel, params);
    in_flight_++;
    worker->Queue();
    return worker->Promise();
}

class CreateVocosWorker : public PromiseWorker {
  public:
    CreateVocosWorker(Napi::Env env, std::vector<std::string> names, std::vector<vall_e_vocos_tensor> tensors,
                      Napi::Array arrays, int32_t device)
        : PromiseWorker(env), names_(std::move(names)), tensors_(std::move(tensors)), device_(device),
          arrays_ref_(Napi::Persistent(arrays.As<Napi::Object>())) {
        for (size_t i = 0; i < tensors_.size(); ++i) tensors_[i].name = names_[i].c_str();
    }
    ~CreateVocosWorker() override { vall_e_vocos_free(handle_); }

  protected:
    vall_e_status Run() override {
        return vall_e_vocos_init_device(tensors_.data(), (int32_t) tensors_.size(), device_, &handle_);
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object object = env.GetInstanceData<InstanceData>()->vocos_constructor.New(
            {Napi::External<vall_e_vocos>::New(env, handle_)});
        handle_ = nullptr;
        return object;
    }

  private:
    std::vector<std::string>         names_;
    std::vector<vall_e_vocos_tensor> tensors_;
    int32_t                          device_;
    Napi::ObjectReference            arrays_ref_; // the Float32Arrays tensors_ points into
    vall_e_vocos *                   handle_ = nullptr;
};

// createVocos(names: string[], shapes: number[][], data: Float32Array[]) → Promise<Vocos>
Napi::Value CreateVocos(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray() || !info[1].IsArray() || !info[2].IsArray()) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected arrays of names, shapes and data for createVocos");
    }
    Napi::Array names = info[0].As<Napi::Array>(), shapes = info[1].As<Napi::Array>(), data = info[2].As<Napi::Array>();
    if (names.Length() != shapes.Length() || names.Length() != data.Length() || names.Length() > 4096) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected as many names, shapes and data arrays (at most 4096)");
    }
    std::vector<std::string>         tensor_names;
    std::vector<vall_e_vocos_tensor> tensors;
    for (uint32_t i = 0; i < names.Length(); ++i) {
        if (!names.Get(i).IsString() || !shapes.Get(i).IsArray()) {
            throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected a name string and a shape array for tensor " + std::to_string(i));
        }
        const std::string  name  = names.Get(i).As<Napi::String>().Utf8Value();
        Napi::Array        shape = shapes.Get(i).As<Napi::Array>();
        Napi::Float32Array array = float32_arg(env, data.Get(i), ("the data of tensor '" + name + "'").c_str());
        if (shape.Length() < 1 || shape.Length() > 4) {
            throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected 1 to 4 dimensions for tensor '" + name + "'");
        }
        vall_e_vocos_tensor t{};
        t.n_dims    = (int32_t) shape.Length();
        int64_t count = 1;
        for (uint32_t d = 0; d < shape.Length(); ++d) {
            t.shape[d] = integer_arg(env, shape.Get(d), "a tensor dimension", 1, int64_t(1) << 30);
            count *= t.shape[d];
        }
        if (count != (int64_t) array.ElementLength()) {
            throw_error(env, VALL_E_ERR_INVALID_ARGUMENT,
                        "Expected " + std::to_string(count) + " values for tensor '" + name + "', got " +
                            std::to_string(array.ElementLength()));
        }
        t.data = array.Data();
        tensor_names.push_back(name);
        tensors.push_back(t);
    }
    const int32_t device =
        info.Length() > 3 && !info[3].IsUndefined() ? (int32_t) integer_arg(env, info[3], "device", INT32_MIN, INT32_MAX) : -1;
    auto * worker = new CreateVocosWorker(env, std::move(tensor_names), std::move(tensors), data, device);
    worker->Queue();
    return worker->Promise();
}

}  // namespace

void InitVocos(Napi::Env env, Napi::Object exports, InstanceData & data) {
    Napi::Function constructor = Vocos::Define(env);
    data.vocos_constructor     = Napi::Persistent(constructor);
    exports.Set("Vocos", constructor);
    exports.Set("createVocos", Napi::Function::New(env, CreateVocos, "createVocos"));
}

}  // namespace vall_e_addon
