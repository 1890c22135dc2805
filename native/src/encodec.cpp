// The EnCodec C API (vall_e_codec_*): argument checks, then the chunked encode and decode of encodec-graph.cpp.
// A vall_e_codec is the weights, read-only, and every call computes on a compute state of its own, so calls on one
// codec may run at the same time from several threads.
#include "encodec-graph.h"

#include "device.h"

#include <cmath>

struct vall_e_codec {
    vall_e::encodec_model      model;
    vall_e::compute_state_pool states;
};

namespace vall_e {
namespace {

void check_samples(const float * samples, int64_t n_samples) {
    for (int64_t i = 0; i < n_samples; ++i) {
        if (!std::isfinite(samples[i])) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected finite samples, got %f at sample %lld", (double) samples[i],
                 (long long) i);
        }
    }
}

void check_n_samples(int64_t n_samples) {
    if (n_samples < 1 || n_samples > (int64_t(1) << 34)) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at least 1 sample for samples, got %lld", (long long) n_samples);
    }
}

void check_n_codebooks(const vall_e_codec & codec, int32_t n_codebooks) {
    const int32_t available = codec.model.hparams.n_codebooks();
    if (n_codebooks < 1 || n_codebooks > available) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected from 1 to %d codebooks for n_codebooks, got %d", available, n_codebooks);
    }
}

// Checked params (NULL: the defaults) resolved for a run.
encodec_run_params run_params(const vall_e_codec_params * params) {
    const vall_e_codec_params p = params ? *params : vall_e_codec_default_params();
    // Reflect padding at the start of the signal reads up to 6 frames ahead (the k = 7 convs at frame rate), so the
    // first chunk must hold them for chunked results to equal the whole signal's.
    if (p.chunk_frames != 0 && (p.chunk_frames < k_encodec_min_chunk || p.chunk_frames > (1 << 20))) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected 0 (default) or from %d to %d for chunk_frames, got %d",
             (int) k_encodec_min_chunk, 1 << 20, p.chunk_frames);
    }
    encodec_run_params run;
    run.threads      = resolve_threads(p.n_threads);
    run.chunk_frames = p.chunk_frames > 0 ? p.chunk_frames : k_encodec_default_chunk;
    run.cancel       = p.cancel;
    return run;
}

}  // namespace
}  // namespace vall_e

extern "C" {

vall_e_codec_params vall_e_codec_default_params(void) {
    vall_e_codec_params params;
    params.n_threads    = 0;
    params.chunk_frames = 0;
    params.cancel       = nullptr;
    return params;
}

vall_e_status vall_e_codec_init(const char * path, vall_e_codec ** out) { return vall_e_codec_init_device(path, -1, out); }

vall_e_status vall_e_codec_init_device(const char * path, int32_t device, vall_e_codec ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!path || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_init: path and out must not be NULL");
        }
        *out = nullptr;
        install_ggml_logger();
        ggml_backend_dev_t dev = device_or_cpu(device);
        auto codec             = std::make_unique<vall_e_codec>();
        encodec_model_load(codec->model, path, dev);
        codec->model.device_index = dev ? device : -1;
        codec->states.set_device(dev);
        *out = codec.release();
    });
}

void vall_e_codec_get_info(const vall_e_codec * codec, vall_e_codec_info * info) {
    const vall_e::encodec_hparams & hp = codec->model.hparams;
    info->sample_rate                  = hp.sample_rate;
    info->hop_length                   = vall_e::k_encodec_hop;
    info->hidden_dim                   = hp.hidden_dim;
    info->n_filters                    = hp.n_filters;
    info->n_bins                       = hp.n_bins;
    info->n_codebooks                  = hp.n_codebooks();
    info->weight_type                  = hp.ftype;
    info->file_bytes                   = (int64_t) codec->model.file_bytes;
    info->device                       = codec->model.device_index;
}

vall_e_status vall_e_codec_encode(vall_e_codec * codec, const float * samples, int64_t n_samples, int32_t n_codebooks,
                                  const vall_e_codec_params * params, int16_t * codes) {
    using namespace vall_e;
    return guard([&] {
        if (!codec || !samples || !codes) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_encode: codec, samples and codes must not be NULL");
        }
        check_n_samples(n_samples);
        check_n_codebooks(*codec, n_codebooks);
        check_samples(samples, n_samples);
        const encodec_run_params run = run_params(params);
        compute_state_pool::lease lease(codec->states);
        encodec_encode(codec->model, lease.state(), samples, n_samples, n_codebooks, run, codes, nullptr);
        lease.succeeded();
    });
}

vall_e_status vall_e_codec_encode_latent(vall_e_codec * codec, const float * samples, int64_t n_samples,
                                         const vall_e_codec_params * params, float * latent) {
    using namespace vall_e;
    return guard([&] {
        if (!codec || !samples || !latent) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_encode_latent: codec, samples and latent must not be NULL");
        }
        check_n_samples(n_samples);
        check_samples(samples, n_samples);
        const encodec_run_params run = run_params(params);
        compute_state_pool::lease lease(codec->states);
        encodec_encode(codec->model, lease.state(), samples, n_samples, 0, run, nullptr, latent);
        lease.succeeded();
    });
}

vall_e_status vall_e_codec_decode(vall_e_codec * codec, const int16_t * codes, int32_t n_codebooks, int64_t n_frames,
                                  const vall_e_codec_params * params, float * samples) {
    using namespace vall_e;
    return guard([&] {
        if (!codec || !codes || !samples) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_codec_decode: codec, codes and samples must not be NULL");
        }
        check_n_codebooks(*codec, n_codebooks);
        if (n_frames < 1 || n_frames > (int64_t(1) << 26)) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "Expected at least 1 frame for n_frames, got %lld", (long long) n_frames);
        }
        check_codes(codes, n_codebooks, n_frames, codec->model.hparams.n_bins);
        const encodec_run_params run = run_params(params);
        compute_state_pool::lease lease(codec->states);
        encodec_decode(codec->model, lease.state(), codes, n_codebooks, n_frames, run, samples);
        lease.succeeded();
    });
}

void vall_e_codec_free(vall_e_codec * codec) { delete codec; }

}  // extern "C"
