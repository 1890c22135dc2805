// Compute devices beside the CPU: ggml's backend registry (Vulkan, CUDA when compiled in), and graph evaluation on
// one device with ggml's backend scheduler, which runs on the CPU whatever node the device does not support.
#pragma once

#include "cpu-compute.h"

#include <string>

namespace vall_e {

// Device `index` of ggml's registry (VALL_E_ERR_INVALID_ARGUMENT naming the devices there are when out of range).
ggml_backend_dev_t device_at(int32_t index);

// A handle's device parameter: -1 or the CPU's index → nullptr (the CPU path), another index → that device;
// VALL_E_ERR_INVALID_ARGUMENT for anything else.
ggml_backend_dev_t device_or_cpu(int32_t index);

// "Vulkan0 (llvmpipe …)": how messages name a device.
std::string device_label(ggml_backend_dev_t dev);

// Graphs evaluated on one device, with the CPU (this handle's cpu_compute, on the shared pool) for what it lacks.
class device_compute {
  public:
    // max_nodes: the largest graph this handle will evaluate.
    device_compute(ggml_backend_dev_t dev, size_t max_nodes);
    ~device_compute();
    device_compute(const device_compute &)             = delete;
    device_compute & operator=(const device_compute &) = delete;

    // Assign every node of `graph` to a backend and allocate it (inputs can be set after this).
    void alloc(ggml_cgraph * graph);
    // Evaluate the graph allocated last; the cancel flag is checked before and after (a device cannot stop mid-graph).
    void compute(ggml_cgraph * graph, int32_t n_threads, const volatile int32_t * cancel);

    ggml_backend_t backend() const { return backend_.get(); }

  private:
    ggml_backend_ptr     backend_;
    cpu_compute          cpu_;
    ggml_backend_sched * sched_ = nullptr;
    bool                 uses_cpu_ = false; // whether the graph allocated last has nodes on the CPU
};

}  // namespace vall_e
