// The Vocos C API (vall_e_vocos_*): argument checks, then the chunked decode of vocos-graph.cpp. A vall_e_vocos is
// the weights, read-only; every call computes on a compute state of its own, so calls may run at the same time.
#include "vocos-graph.h"

struct vall_e_vocos {
    vall_e::vocos_model        model;
    vall_e::compute_state_pool states;
};

extern "C" {

vall_e_vocos_params vall_e_vocos_default_params(void) {
    vall_e_vocos_params params;
    params.n_threads    = 0;
    params.chunk_frames = 0;
    params.cancel       = nullptr;
    params.bandwidth_id = -1;
    return params;
}

vall_e_status vall_e_vocos_init(const vall_e_vocos_tensor * tensors, int32_t n_tensors, vall_e_vocos ** out) {
    return vall_e_vocos_init_device(tensors, n_tensors, -1, out);
}

vall_e_status vall_e_vocos_init_device(const vall_e_vocos_tensor * tensors, int32_t n_tensors, int32_t device,
                                       vall_e_vocos ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!tensors || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_vocos_init: tensors and out must not be NULL");
        }
        *out = nullptr;
        install_ggml_logger();
        ggml_backend_dev_t dev = device_or_cpu(device);
        auto vocos             = std::make_unique<vall_e_vocos>();
        vocos_model_load(vocos->model, tensors, n_tensors, dev);
        vocos->model.device_index = dev ? device : -1;
        vocos->states.set_device(dev);
        *out = vocos.release();
    });
}

void vall_e_vocos_get_info(const vall_e_vocos * vocos, vall_e_vocos_info * info) {
    const vall_e::vocos_hparams & hp = vocos->model.hparams;
    info->sample_rate                = 24000;
    info->hop_length                 = hp.hop_length;
    info->n_fft                      = hp.n_fft;
    info->input_channels             = hp.input_channels;
    info->dim                        = hp.dim;
    info->intermediate_dim           = hp.intermediate_dim;
    info->n_layers                   = hp.n_layers;
    info->n_bandwidths               = hp.n_adanorm;
    info->n_codebooks                = hp.n_codebooks;
    info->n_bins                     = hp.n_bins;
    info->weight_bytes               = (int64_t) vocos->model.weight_bytes;
    info->device                     = vocos->model.device_index;
}

vall_e_status vall_e_vocos_decode(vall_e_vocos * vocos, const int16_t * codes, int32_t n_codebooks, int64_t n_frames,
                                  int32_t output, const vall_e_vocos_params * params, float * out) {
    using namespace vall_e;
    return guard([&] {
        if (!vocos || !codes || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_vocos_decode: vocos, codes and out must not be NULL");
        }
        const vocos_hparams &      hp = vocos->model.hparams;
        const vall_e_vocos_params  p  = params ? *params : vall_e_vocos_default_params();
        if (p.bandwidth_id != -1 && (p.bandwidth_id < 0 || p.bandwidth_id >= hp.n_adanorm)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected -1 (from the codebook count) or from 0 to %d for bandwidth_id, got %d",
                 hp.n_adanorm - 1, p.bandwidth_id);
        }
        if (p.bandwidth_id != -1 && (n_codebooks < 1 || n_codebooks > hp.n_codebooks)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 1 to %d codebooks for n_codebooks, got %d", hp.n_codebooks,
                 n_codebooks);
        }
        if (p.bandwidth_id == -1 && vocos_bandwidth_id(hp, n_codebooks) < 0) {
            std::string counts;
            for (int32_t id = 0, n = 2; id < hp.n_adanorm && n <= hp.n_codebooks; ++id, n *= 2) {
                counts += (counts.empty() ? "" : ", ") + std::to_string(n);
            }
            fail(VALL_E_ERR_INVALID_ARGUMENT,
                 "Expected %s codebooks for n_codebooks (the bandwidths Vocos was trained for), got %d", counts.c_str(),
                 n_codebooks);
        }
        if (n_frames < 1 || n_frames > (int64_t(1) << 26)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at least 1 frame for n_frames, got %lld", (long long) n_frames);
        }
        if (output < VALL_E_VOCOS_AUDIO || output > VALL_E_VOCOS_BACKBONE) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected a vall_e_vocos_output (0 to 2) for output, got %d", output);
        }
        check_codes(codes, n_codebooks, n_frames, hp.n_bins);
        if (p.chunk_frames < 0 || p.chunk_frames > (1 << 20)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected 0 (default) or from 1 to %d for chunk_frames, got %d", 1 << 20,
                 p.chunk_frames);
        }
        vocos_run_params run;
        run.threads      = resolve_threads(p.n_threads);
        run.chunk_frames = p.chunk_frames > 0 ? p.chunk_frames : k_vocos_default_chunk;
        run.cancel       = p.cancel;
        run.bandwidth    = p.bandwidth_id == -1 ? vocos_bandwidth_id(hp, n_codebooks) : p.bandwidth_id;
        const vocos_output which = output == VALL_E_VOCOS_FEATURES   ? vocos_output::features
                                   : output == VALL_E_VOCOS_BACKBONE ? vocos_output::backbone
                                                                     : vocos_output::audio;
        compute_state_pool::lease lease(vocos->states);
        vocos_decode(vocos->model, lease.state(), codes, n_codebooks, n_frames, which, run, out);
        lease.succeeded();
    });
}

void vall_e_vocos_free(vall_e_vocos * vocos) { delete vocos; }

}  // extern "C"
