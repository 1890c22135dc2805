// Compute devices from ggml's backend registry, and evaluation on one of them through ggml's backend scheduler (as
// llama.cpp's context does: llama-context.cpp, the scheduler over the model's devices and the CPU).
#include "device.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace vall_e {
namespace {

bool contains_ci(std::string text, const char * word) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) { return (char) std::tolower(ch); });
    return text.find(word) != std::string::npos;
}

// Software implementations of GPU APIs that run on the CPU: usable (CI verifies the Vulkan backend on lavapipe), but
// never what "auto" should pick.
bool is_software(ggml_backend_dev_t dev) {
    const std::string description = ggml_backend_dev_description(dev);
    return ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU ? false
           : contains_ci(description, "llvmpipe") || contains_ci(description, "lavapipe") ||
                 contains_ci(description, "swiftshader") || contains_ci(description, "softpipe");
}

struct device_strings {
    std::string name, description, backend;
};

// The strings vall_e_device_get hands out, made once for every device (the registry does not change while the
// process runs) and kept for its life.
const device_strings & strings_of(size_t index) {
    static const std::vector<device_strings> * all = [] {
        auto * strings = new std::vector<device_strings>();
        for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
            ggml_backend_dev_t dev = ggml_backend_dev_get(i);
            strings->push_back({ggml_backend_dev_name(dev), ggml_backend_dev_description(dev),
                                ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev))});
        }
        return strings;
    }();
    return (*all)[index];
}

}  // namespace

ggml_backend_dev_t device_at(int32_t index) {
    install_ggml_logger();
    const size_t n = ggml_backend_dev_count();
    if (index < 0 || (size_t) index >= n) {
        std::string names;
        for (size_t i = 0; i < n; ++i) {
            names += (i ? ", " : "") + std::to_string(i) + " = " + device_label(ggml_backend_dev_get(i));
        }
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected a device index from 0 to %zu (%s), got %d", n - 1, names.c_str(), index);
    }
    return ggml_backend_dev_get((size_t) index);
}

ggml_backend_dev_t device_or_cpu(int32_t index) {
    if (index == -1) return nullptr;
    if (index < -1) fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected -1 (the CPU) or a device index for device, got %d", index);
    ggml_backend_dev_t dev = device_at(index);
    return ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU ? nullptr : dev;
}

std::string device_label(ggml_backend_dev_t dev) {
    return std::string(ggml_backend_dev_name(dev)) + " (" + ggml_backend_dev_description(dev) + ")";
}

device_compute::device_compute(ggml_backend_dev_t dev, size_t max_nodes) {
    backend_.reset(ggml_backend_dev_init(dev, nullptr));
    if (!backend_) {
        fail(VALL_E_ERR_UNAVAILABLE, "could not initialise device %s", device_label(dev).c_str());
    }
    // The device first, the CPU last (the scheduler's rule): a node runs on the first backend that supports it and
    // has its weights; the rest falls back to the CPU, with copies between them made by the scheduler.
    ggml_backend_t             backends[2] = {backend_.get(), cpu_.backend()};
    ggml_backend_buffer_type_t bufts[2]    = {ggml_backend_dev_buffer_type(dev), ggml_backend_get_default_buffer_type(cpu_.backend())};
    sched_ = ggml_backend_sched_new(backends, bufts, 2, max_nodes, /*parallel =*/false, /*op_offload =*/false);
    if (!sched_) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not create the backend scheduler for %s", device_label(dev).c_str());
    }
}

device_compute::~device_compute() {
    if (sched_) ggml_backend_sched_free(sched_);
}

void device_compute::alloc(ggml_cgraph * graph) {
    ggml_backend_sched_reset(sched_);
    if (!ggml_backend_sched_alloc_graph(sched_, graph)) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "could not allocate a graph of %d nodes on %s", ggml_graph_n_nodes(graph),
             ggml_backend_name(backend_.get()));
    }
    uses_cpu_ = false;
    for (int i = 0; i < ggml_graph_n_nodes(graph); ++i) {
        if (ggml_backend_sched_get_tensor_backend(sched_, ggml_graph_node(graph, i)) == cpu_.backend()) uses_cpu_ = true;
    }
}

void device_compute::compute(ggml_cgraph * graph, int32_t n_threads, const volatile int32_t * cancel) {
    check_cancel(cancel);
    auto body = [&] { return ggml_backend_sched_graph_compute(sched_, graph); };
    if (uses_cpu_) {
        cpu_.run(n_threads, cancel, body); // the CPU's part on the shared pool
    } else {
        check_compute_status(body());
    }
    check_cancel(cancel);
}

}  // namespace vall_e

extern "C" {

int32_t vall_e_device_count(void) {
    vall_e::install_ggml_logger();
    return (int32_t) ggml_backend_dev_count();
}

vall_e_status vall_e_device_get(int32_t index, vall_e_device_info * info) {
    using namespace vall_e;
    return guard([&] {
        if (!info) fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_device_get: info must not be NULL");
        ggml_backend_dev_t dev = device_at(index);
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
        const device_strings & strings = strings_of((size_t) index);
        info->name          = strings.name.c_str();
        info->description   = strings.description.c_str();
        info->backend       = strings.backend.c_str();
        info->backend_index = 0;
        for (int32_t i = 0; i < index; ++i) {
            if (ggml_backend_dev_backend_reg(ggml_backend_dev_get((size_t) i)) == reg) ++info->backend_index;
        }
        switch (ggml_backend_dev_type(dev)) {
            case GGML_BACKEND_DEVICE_TYPE_CPU: info->type = VALL_E_DEVICE_CPU; break;
            case GGML_BACKEND_DEVICE_TYPE_GPU: info->type = VALL_E_DEVICE_GPU; break;
            case GGML_BACKEND_DEVICE_TYPE_IGPU: info->type = VALL_E_DEVICE_IGPU; break;
            default: info->type = VALL_E_DEVICE_ACCELERATOR; break;
        }
        info->software = is_software(dev) ? 1 : 0;
        size_t free = 0, total = 0;
        ggml_backend_dev_memory(dev, &free, &total);
        info->memory_free  = (int64_t) free;
        info->memory_total = (int64_t) total;
    });
}

}  // extern "C"
