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

}  // namespace vall_e_addon
