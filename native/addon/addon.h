// The N-API glue's shared declarations: one function per JS-visible symbol, one file per JS-visible class.
#pragma once

#include "promise-worker.h"

#include <napi.h>

namespace vall_e_addon {

Napi::Value SystemInfo(const Napi::CallbackInfo & info);
Napi::Value Devices(const Napi::CallbackInfo & info);
Napi::Value BenchVectorAdd(const Napi::CallbackInfo & info);
Napi::Value EspeakLibrary(const Napi::CallbackInfo & info);
Napi::Value EspeakInit(const Napi::CallbackInfo & info);
Napi::Value EspeakTextToPhonemes(const Napi::CallbackInfo & info);

// Read an integer argument, throwing a coded JS error naming it when it is not an integer in [min, max].
int64_t     integer_arg(const Napi::Env & env, const Napi::Value & value, const char * name, int64_t min, int64_t max);

// A Float32Array argument, or a coded JS error naming it.
Napi::Float32Array float32_arg(const Napi::Env & env, const Napi::Value & value, const char * name);

// A call's cancel flag: an Int32Array whose first element the worker polls (between graph nodes and chunks).
Napi::Int32Array cancel_arg(const Napi::Env & env, const Napi::Value & value);

// Per-environment state: the constructors of the JS-visible classes (set once in Init).
struct InstanceData {
    Napi::FunctionReference matmul_constructor;
    Napi::FunctionReference codec_constructor;
    Napi::FunctionReference vocos_constructor;
    Napi::FunctionReference lm_constructor;
    Napi::FunctionReference lm_context_constructor;
};

void InitMatmul(Napi::Env env, Napi::Object exports, InstanceData & data);
void InitCodec(Napi::Env env, Napi::Object exports, InstanceData & data);
void InitVocos(Napi::Env env, Napi::Object exports, InstanceData & data);
void InitLm(Napi::Env env, Napi::Object exports, InstanceData & data);

}  // namespace vall_e_addon
