// What this build of the core is and what it runs on: versions, compiled CPU features, usable cores.
#include "core.h"

#include <ggml-cpu.h>

#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#if defined(__linux__)
#include <sched.h>
#endif

#ifndef VALL_E_VERSION
#define VALL_E_VERSION "0.0.0"
#endif

#ifndef VALL_E_BUILD_KIND
#define VALL_E_BUILD_KIND "native"
#endif

namespace vall_e {
namespace {

std::string compiled_cpu_features() {
    const std::pair<const char *, int (*)()> features[] = {
        {"SSE3", ggml_cpu_has_sse3},
        {"SSSE3", ggml_cpu_has_ssse3},
        {"AVX", ggml_cpu_has_avx},
        {"AVX_VNNI", ggml_cpu_has_avx_vnni},
        {"AVX2", ggml_cpu_has_avx2},
        {"BMI2", ggml_cpu_has_bmi2},
        {"F16C", ggml_cpu_has_f16c},
        {"FMA", ggml_cpu_has_fma},
        {"AVX512", ggml_cpu_has_avx512},
        {"AVX512_VBMI", ggml_cpu_has_avx512_vbmi},
        {"AVX512_VNNI", ggml_cpu_has_avx512_vnni},
        {"AVX512_BF16", ggml_cpu_has_avx512_bf16},
        {"AMX_INT8", ggml_cpu_has_amx_int8},
        {"NEON", ggml_cpu_has_neon},
        {"ARM_FMA", ggml_cpu_has_arm_fma},
        {"FP16_VA", ggml_cpu_has_fp16_va},
        {"DOTPROD", ggml_cpu_has_dotprod},
        {"MATMUL_INT8", ggml_cpu_has_matmul_int8},
        {"SVE", ggml_cpu_has_sve},
        {"SME", ggml_cpu_has_sme},
        {"RISCV_V", ggml_cpu_has_riscv_v},
        {"VSX", ggml_cpu_has_vsx},
        {"WASM_SIMD", ggml_cpu_has_wasm_simd},
        {"LLAMAFILE", ggml_cpu_has_llamafile},
    };
    std::string out;
    for (const auto & feature : features) {
        if (feature.second()) {
            if (!out.empty()) {
                out += ",";
            }
            out += feature.first;
        }
    }
    return out;
}

struct core_counts {
    int32_t physical;
    int32_t logical;
};

core_counts count_cores() {
    int32_t logical = (int32_t) std::thread::hardware_concurrency();
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        logical = CPU_COUNT(&set);
        // Physical cores among the CPUs this process may use: distinct (package, core) pairs.
        std::set<std::pair<int, int>> cores;
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (!CPU_ISSET(cpu, &set)) {
                continue;
            }
            const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
            std::ifstream     package_file(base + "physical_package_id");
            std::ifstream     core_file(base + "core_id");
            int               package = -1;
            int               core    = -1;
            if (!(package_file >> package) || !(core_file >> core)) {
                cores.clear();
                break;
            }
            cores.insert({package, core});
        }
        if (!cores.empty()) {
            return {(int32_t) cores.size(), logical};
        }
    }
#endif
    if (logical < 1) {
        logical = 1;
    }
    return {logical, logical};
}

}  // namespace
}  // namespace vall_e

// ggml's commit as its build recorded it. ggml marks a tree with changes "-dirty": ours carries exactly the patches in
// native/patches, applied by scripts/llama-source.mjs to the pinned sources (and re-applied to pristine ones whenever
// they change), so that mark says nothing the version of this package does not; the pinned commit is reported.
static std::string pinned_ggml_commit() {
    std::string commit = ggml_commit();
    const std::string dirty = "-dirty";
    if (commit.size() > dirty.size() && commit.compare(commit.size() - dirty.size(), dirty.size(), dirty) == 0) {
        commit.resize(commit.size() - dirty.size());
    }
    return commit;
}

extern "C" void vall_e_system_info_get(vall_e_system_info * info) {
    static const std::string              commit   = pinned_ggml_commit();
    static const std::string              features = vall_e::compiled_cpu_features();
    static const vall_e::core_counts      cores    = vall_e::count_cores();
    info->version         = VALL_E_VERSION;
    info->ggml_version    = ggml_version();
    info->ggml_commit     = commit.c_str();
    info->cpu_features    = features.c_str();
    info->build           = VALL_E_BUILD_KIND;
    info->physical_cores  = cores.physical;
    info->logical_cores   = cores.logical;
    info->default_threads = cores.physical;
}
