// systemInfo(): versions, compiled CPU features and core counts (synchronous: it only reads static data).
#include "addon.h"

namespace vall_e_addon {

Napi::Value SystemInfo(const Napi::CallbackInfo & info) {
    Napi::Env          env = info.Env();
    vall_e_system_info si;
    vall_e_system_info_get(&si);
    Napi::Object out = Napi::Object::New(env);
    out.Set("version", si.version);
    out.Set("ggmlVersion", si.ggml_version);
    out.Set("ggmlCommit", si.ggml_commit);
    out.Set("cpuFeatures", si.cpu_features);
    out.Set("build", si.build);
    out.Set("physicalCores", si.physical_cores);
    out.Set("logicalCores", si.logical_cores);
    out.Set("defaultThreads", si.default_threads);
    out.Set("napiVersion", NAPI_VERSION);
    return out;
}

// devices(): every compute device of this build (ggml's registry order), synchronous: the registry is made once.
Napi::Value Devices(const Napi::CallbackInfo & info) {
    Napi::Env   env = info.Env();
    const int32_t n = vall_e_device_count();
    Napi::Array out = Napi::Array::New(env, (size_t) n);
    for (int32_t i = 0; i < n; ++i) {
        vall_e_device_info d;
        const vall_e_status status = vall_e_device_get(i, &d);
        if (status != VALL_E_OK) throw_error(env, status, vall_e_last_error());
        Napi::Object item = Napi::Object::New(env);
        item.Set("index", i);
        item.Set("name", d.name);
        item.Set("description", d.description);
        item.Set("backend", d.backend);
        item.Set("backendIndex", d.backend_index);
        item.Set("type", d.type);
        item.Set("software", d.software != 0);
        item.Set("memoryFree", (double) d.memory_free);
        item.Set("memoryTotal", (double) d.memory_total);
        out.Set((uint32_t) i, item);
    }
    return out;
}

}  // namespace vall_e_addon
