// Module entry: registers every JS-visible function and class, and the argument helpers they share.
#include "addon.h"

#include <cmath>
#include <string>

namespace vall_e_addon {

int64_t integer_arg(const Napi::Env & env, const Napi::Value & value, const char * name, int64_t min, int64_t max) {
    if (!value.IsNumber()) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, std::string("Expected a number for ") + name);
    }
    const double number = value.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(number) || std::floor(number) != number || number < (double) min || number > (double) max) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT,
                    std::string("Expected an integer from ") + std::to_string(min) + " to " + std::to_string(max) +
                        " for " + name + ", got " + value.ToString().Utf8Value());
    }
    return (int64_t) number;
}

Napi::Float32Array float32_arg(const Napi::Env & env, const Napi::Value & value, const char * name) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, std::string("Expected a Float32Array for ") + name);
    }
    return value.As<Napi::Float32Array>();
}

Napi::Int32Array cancel_arg(const Napi::Env & env, const Napi::Value & value) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        value.As<Napi::Int32Array>().ElementLength() < 1) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected an Int32Array of at least one element for cancel");
    }
    return value.As<Napi::Int32Array>();
}

namespace {

class BenchVectorAddWorker : public PromiseWorker {
  public:
    BenchVectorAddWorker(Napi::Env env, int64_t bytes, int32_t threads, int32_t iterations)
        : PromiseWorker(env), bytes_(bytes), threads_(threads), iterations_(iterations) {}

  protected:
    vall_e_status Run() override { return vall_e_bench_vector_add(bytes_, threads_, iterations_, &seconds_); }
    Napi::Value   Result(Napi::Env env) override { return Napi::Number::New(env, seconds_); }

  private:
    int64_t bytes_;
    int32_t threads_;
    int32_t iterations_;
    double  seconds_ = 0.0;
};

}  // namespace

// benchVectorAdd(bytes, threads, iterations) → Promise<seconds of the fastest iteration>
Napi::Value BenchVectorAdd(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    // Domain checks live in the C API; here only what the types need.
    const int64_t bytes      = integer_arg(env, info[0], "bytes", INT64_MIN / 2, INT64_MAX / 2);
    const int64_t threads    = integer_arg(env, info[1], "threads", INT32_MIN, INT32_MAX);
    const int64_t iterations = integer_arg(env, info[2], "iterations", INT32_MIN, INT32_MAX);
    auto * worker = new BenchVectorAddWorker(env, bytes, (int32_t) threads, (int32_t) iterations);
    worker->Queue();
    return worker->Promise();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
    exports.Set("devices", Napi::Function::New(env, Devices, "devices"));
    exports.Set("benchVectorAdd", Napi::Function::New(env, BenchVectorAdd, "benchVectorAdd"));
    exports.Set("espeakLibrary", Napi::Function::New(env, EspeakLibrary, "espeakLibrary"));
    exports.Set("espeakInit", Napi::Function::New(env, EspeakInit, "espeakInit"));
    exports.Set("espeakTextToPhonemes", Napi::Function::New(env, EspeakTextToPhonemes, "espeakTextToPhonemes"));
    auto * data = new InstanceData();
    env.SetInstanceData(data);
    InitMatmul(env, exports, *data);
    InitCodec(env, exports, *data);
    InitVocos(env, exports, *data);
    InitLm(env, exports, *data);
    return exports;
}

}  // namespace vall_e_addon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vall_e_addon::Init(env, exports); }

NODE_API_MODULE(vall_e, InitModule)
