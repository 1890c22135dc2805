// The JS-visible Matmul class: owns one vall_e_matmul handle; compute() runs on a worker thread.
#include "addon.h"

namespace vall_e_addon {
namespace {

class Matmul : public Napi::ObjectWrap<Matmul> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "Matmul",
                           {
                               InstanceMethod<&Matmul::Compute>("compute"),
                               InstanceMethod<&Matmul::Dispose>("dispose"),
                               InstanceAccessor<&Matmul::WeightBytes>("weightBytes"),
                           });
    }

    // Only createMatmul() constructs instances, passing the handle as an External.
    explicit Matmul(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Matmul>(info) {
        if (info.Length() != 3 || !info[0].IsExternal()) {
            throw_error(info.Env(), VALL_E_ERR_INVALID_ARGUMENT,
                        "Matmul cannot be constructed directly: use createMatmul()");
        }
        handle_ = info[0].As<Napi::External<vall_e_matmul>>().Data();
        m_      = info[1].As<Napi::Number>().Int64Value();
        k_      = info[2].As<Napi::Number>().Int64Value();
    }

    ~Matmul() override { vall_e_matmul_free(handle_); }

    void Release() { in_flight_--; }

  private:
    // compute(input: Float32Array [n, k], n, threads) → Promise<Float32Array [n, m]>
    Napi::Value Compute(const Napi::CallbackInfo & info);

    Napi::Value Dispose(const Napi::CallbackInfo & info) {
        if (in_flight_ > 0) {
            throw_error(info.Env(), VALL_E_ERR_BUSY, "Cannot dispose a Matmul while a compute() is in flight");
        }
        vall_e_matmul_free(handle_);
        handle_ = nullptr;
        return info.Env().Undefined();
    }

    Napi::Value WeightBytes(const Napi::CallbackInfo & info) {
        return Napi::Number::New(info.Env(), (double) vall_e_matmul_weight_bytes(CheckedHandle(info.Env())));
    }

    vall_e_matmul * CheckedHandle(const Napi::Env & env) const {
        if (!handle_) {
            throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "This Matmul has been disposed");
        }
        return handle_;
    }

    vall_e_matmul * handle_    = nullptr;
    int64_t         m_         = 0;
    int64_t         k_         = 0;
    int             in_flight_ = 0;
};

class ComputeWorker : public PromiseWorker {
  public:
    ComputeWorker(Napi::Env env, Matmul * owner, vall_e_matmul * handle, Napi::Object self, Napi::Float32Array input,
                  Napi::Float32Array output, int64_t n, int32_t threads)
        : PromiseWorker(env),
          owner_(owner),
          handle_(handle),
          input_(input.Data()),
          output_(output.Data()),
          n_(n),
          threads_(threads),
          input_ref_(Napi::Persistent(input)),
          output_ref_(Napi::Persistent(output)) {
        Retain(self);
    }

  protected:
    vall_e_status Run() override { return vall_e_matmul_compute(handle_, input_, n_, output_, threads_); }
    void          Finish() override { owner_->Release(); }
    Napi::Value   Result(Napi::Env) override { return output_ref_.Value(); }

  private:
    Matmul *                            owner_;
    vall_e_matmul *                     handle_;
    const float *                       input_;
    float *                             output_;
    int64_t                             n_;
    int32_t                             threads_;
    Napi::Reference<Napi::Float32Array> input_ref_;
    Napi::Reference<Napi::Float32Array> output_ref_;
};

Napi::Value Matmul::Compute(const Napi::CallbackInfo & info) {
    Napi::Env          env     = info.Env();
    vall_e_matmul *    handle  = CheckedHandle(env);
    Napi::Float32Array input   = float32_arg(env, info[0], "input");
    const int64_t      n       = integer_arg(env, info[1], "n", 1, int64_t(1) << 24);
    const int64_t      threads = integer_arg(env, info[2], "threads", INT32_MIN, INT32_MAX);
    if ((int64_t) input.ElementLength() != n * k_) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT,
                    "Expected " + std::to_string(n * k_) + " input elements (n = " + std::to_string(n) +
                        " rows of k = " + std::to_string(k_) + "), got " + std::to_string(input.ElementLength()));
    }
    Napi::Float32Array output = Napi::Float32Array::New(env, (size_t) (n * m_));
    auto * worker = new ComputeWorker(env, this, handle, info.This().As<Napi::Object>(), input, output, n, (int32_t) threads);
    in_flight_++;
    worker->Queue();
    return worker->Promise();
}

class CreateWorker : public PromiseWorker {
  public:
    CreateWorker(Napi::Env env, Napi::Float32Array weights, vall_e_matmul_params params)
        : PromiseWorker(env), weights_(weights.Data()), params_(params) {
        Retain(weights);
    }

    ~CreateWorker() override { vall_e_matmul_free(handle_); }

  protected:
    vall_e_status Run() override { return vall_e_matmul_init(&params_, weights_, &handle_); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object object = env.GetInstanceData<InstanceData>()->matmul_constructor.New({Napi::External<vall_e_matmul>::New(env, handle_),
                                                Napi::Number::New(env, (double) params_.m),
                                                Napi::Number::New(env, (double) params_.k)});
        handle_             = nullptr; // the object owns it now
        return object;
    }

  private:
    const float *        weights_;
    vall_e_matmul_params params_;
    vall_e_matmul *      handle_ = nullptr;
};

// createMatmul(weights: Float32Array [m, k], m, k, type) → Promise<Matmul>
Napi::Value CreateMatmul(const Napi::CallbackInfo & info) {
    Napi::Env            env     = info.Env();
    Napi::Float32Array   weights = float32_arg(env, info[0], "weights");
    vall_e_matmul_params params  = vall_e_matmul_default_params();
    params.m                     = integer_arg(env, info[1], "m", INT32_MIN, INT64_MAX / 2);
    params.k                     = integer_arg(env, info[2], "k", INT32_MIN, INT64_MAX / 2);
    params.type                  = (int32_t) integer_arg(env, info[3], "type", INT32_MIN, INT32_MAX);
    // Shapes themselves are checked by the C API (so that its errors reach JS); the buffer size is checked here
    // because the C API cannot see it.
    if (params.m >= 1 && params.k >= 1 && (int64_t) weights.ElementLength() != params.m * params.k) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT,
                    "Expected " + std::to_string(params.m * params.k) + " weight elements (m = " +
                        std::to_string(params.m) + " rows of k = " + std::to_string(params.k) + "), got " +
                        std::to_string(weights.ElementLength()));
    }
    auto * worker = new CreateWorker(env, weights, params);
    worker->Queue();
    return worker->Promise();
}

}  // namespace

void InitMatmul(Napi::Env env, Napi::Object exports, InstanceData & data) {
    Napi::Function constructor = Matmul::Define(env);
    data.matmul_constructor    = Napi::Persistent(constructor);
    exports.Set("Matmul", constructor);
    exports.Set("createMatmul", Napi::Function::New(env, CreateMatmul, "createMatmul"));
}

}  // namespace vall_e_addon
