// Test-only differential check of our LM graph against llama.cpp's own (built only with VALL_E_LLAMA_ORACLE).
//
//   vall_e_llama_oracle <model.gguf> <n_tokens> <seed> [n_threads]
//
// Both engines evaluate the same token ids (one embedding row per token) at positions 0 … n−1 under the
// llama-compatible profile: SiLU MLP, unified positions, causal mask. llama_decode returns every row's logits over
// the whole 17702-entry vocabulary; ours are requested for the same rows and range. Prints one JSON line with the
// largest relative difference (|a − b| ÷ max|b| of the row) and the argmax agreement, and exits 0 whenever both
// engines ran (the caller judges the numbers), 1 when either failed.
#include "llama.h"
#include "vall_e.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

int fail(const char * what, const char * detail) {
    std::fprintf(stderr, "vall_e_llama_oracle: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

void quiet_llama_log(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 4) return fail("usage", "vall_e_llama_oracle <model.gguf> <n_tokens> <seed> [n_threads]");
    const char *  path     = argv[1];
    const int32_t n_tokens = std::atoi(argv[2]);
    uint32_t      state    = (uint32_t) std::strtoul(argv[3], nullptr, 10);
    const int32_t threads  = argc > 4 ? std::atoi(argv[4]) : 2;
    if (n_tokens < 1 || n_tokens > 4096) return fail("n_tokens must be 1 … 4096", nullptr);

    // ---- ours ----
    vall_e_lm_params params = vall_e_lm_default_params();
    params.activation       = VALL_E_LM_SILU;
    vall_e_lm * model       = nullptr;
    if (vall_e_lm_load(path, &params, &model) != VALL_E_OK) return fail("vall_e_lm_load", vall_e_last_error());
    vall_e_lm_info info;
    vall_e_lm_get_info(model, &info);
    const int32_t n_vocab = info.n_vocab;

    std::vector<int32_t> ids(n_tokens), offsets(n_tokens + 1), positions(n_tokens);
    for (int32_t i = 0; i < n_tokens; ++i) {
        state        = state * 1664525u + 1013904223u;
        ids[i]       = (int32_t) ((state >> 8) % (uint32_t) n_vocab);
        offsets[i]   = i;
        positions[i] = i;
    }
    offsets[n_tokens] = n_tokens;

    vall_e_lm_context_params cparams = vall_e_lm_context_default_params();
    cparams.n_ctx                    = n_tokens;
    cparams.n_threads                = threads;
    cparams.cache_type               = 0;
    vall_e_lm_context * ctx          = nullptr;
    if (vall_e_lm_context_init(model, &cparams, &ctx) != VALL_E_OK) return fail("vall_e_lm_context_init", vall_e_last_error());
    vall_e_lm_sequence seq = {};
    seq.n_tokens           = n_tokens;
    seq.row_offsets        = offsets.data();
    seq.row_ids            = ids.data();
    seq.positions          = positions.data();
    seq.causal             = 1;
    seq.n_outputs          = n_tokens;
    std::vector<float> ours((size_t) n_tokens * n_vocab);
    if (vall_e_lm_forward(ctx, &seq, 1, 0, n_vocab, ours.data()) != VALL_E_OK) return fail("vall_e_lm_forward", vall_e_last_error());
    vall_e_lm_context_free(ctx);
    vall_e_lm_free(model);

    // ---- llama.cpp ----
    llama_log_set(quiet_llama_log, nullptr);
    llama_backend_init();
    const llama_model_params mparams = llama_model_default_params();
    llama_model * lmodel       = llama_model_load_from_file(path, mparams);
    if (!lmodel) return fail("llama_model_load_from_file failed", path);
    if (llama_vocab_n_tokens(llama_model_get_vocab(lmodel)) != n_vocab) return fail("vocabulary sizes differ", nullptr);
    llama_context_params lparams = llama_context_default_params();
    lparams.n_ctx                = (uint32_t) n_tokens;
    lparams.n_batch              = (uint32_t) n_tokens;
    lparams.n_ubatch             = (uint32_t) n_tokens;
    lparams.n_threads            = threads;
    lparams.n_threads_batch      = threads;
    lparams.type_k               = GGML_TYPE_F32;
    lparams.type_v               = GGML_TYPE_F32;
    lparams.flash_attn_type      = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    llama_context * lctx         = llama_init_from_model(lmodel, lparams);
    if (!lctx) return fail("llama_init_from_model failed", nullptr);
    llama_batch batch = llama_batch_init(n_tokens, 0, 1);
    for (int32_t i = 0; i < n_tokens; ++i) {
        batch.token[i]     = ids[i];
        batch.pos[i]       = i;
        batch.n_seq_id[i]  = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i]    = 1;
    }
    batch.n_tokens = n_tokens;
    if (llama_decode(lctx, batch) != 0) return fail("llama_decode failed", nullptr);

    double  max_rel = 0.0, max_abs = 0.0;
    int32_t argmax_equal = 0;
    for (int32_t i = 0; i < n_tokens; ++i) {
        const float * theirs = llama_get_logits_ith(lctx, i);
        const float * mine   = ours.data() + (size_t) i * n_vocab;
        double        scale  = 0.0;
        int32_t       a = 0, b = 0;
        for (int32_t v = 0; v < n_vocab; ++v) {
            scale = std::fmax(scale, std::fabs((double) theirs[v]));
            if (mine[v] > mine[a]) a = v;
            if (theirs[v] > theirs[b]) b = v;
        }
        for (int32_t v = 0; v < n_vocab; ++v) {
            const double diff = std::fabs((double) mine[v] - (double) theirs[v]);
            max_abs           = std::fmax(max_abs, diff);
            max_rel           = std::fmax(max_rel, diff / (scale > 0 ? scale : 1.0));
        }
        argmax_equal += a == b;
    }
    std::printf("{\"tokens\":%d,\"vocab\":%d,\"maxRelative\":%.9g,\"maxAbsolute\":%.9g,\"argmaxEqual\":%d}\n", n_tokens,
                n_vocab, max_rel, max_abs, argmax_equal);
    llama_batch_free(batch);
    llama_free(lctx);
    llama_model_free(lmodel);
    llama_backend_free();
    return 0;
}
