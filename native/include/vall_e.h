/*
 * vall_e.h — the one public C API of the vall-e native core.
 *
 * Valid C (C99), opaque handles, sized integers. Every function that can fail returns a vall_e_status;
 * on failure vall_e_last_error() gives a message for the calling thread. No C++ exception crosses this API,
 * and no user-controlled value reaches a ggml assert: everything is validated here first.
 *
 * Conventions: <module>_<object>_<verb>, *_init / *_free pairs, *_default_params().
 *
 * Threads: every handle computes on one persistent ggml thread pool shared by the process. Graph evaluations from
 * different handles (and threads) take turns on it in arrival order, each with its own n_threads; the pool grows to
 * the largest count asked for and its workers sleep between evaluations.
 */
#ifndef VALL_E_H
#define VALL_E_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(VALL_E_SHARED)
#  ifdef VALL_E_BUILD
#    define VALL_E_API __declspec(dllexport)
#  else
#    define VALL_E_API __declspec(dllimport)
#  endif
#elif defined(VALL_E_SHARED)
#  define VALL_E_API __attribute__((visibility("default")))
#else
#  define VALL_E_API
#endif

/* ---- status and errors ------------------------------------------------------------------------------------ */

typedef enum vall_e_status {
    VALL_E_OK                    = 0,
    VALL_E_ERR_INVALID_ARGUMENT  = 1, /* a parameter is out of its domain (shape, type, thread count, ...) */
    VALL_E_ERR_OUT_OF_MEMORY     = 2, /* an allocation failed */
    VALL_E_ERR_COMPUTE           = 3, /* ggml reported a failure while computing a graph */
    VALL_E_ERR_CANCELLED         = 4, /* the abort callback asked to stop */
    VALL_E_ERR_BUSY              = 5, /* the handle is already running an operation */
    VALL_E_ERR_INTERNAL          = 6, /* a bug: an unexpected exception inside the core */
    VALL_E_ERR_UNAVAILABLE       = 7  /* a library loaded at run time (espeak-ng) is not installed */
} vall_e_status;

/* The last error message of the calling thread ("" when none). Valid until the next failing call on this thread. */
VALL_E_API const char * vall_e_last_error(void);

/* A stable name for a status ("VALL_E_ERR_INVALID_ARGUMENT", ...). */
VALL_E_API const char * vall_e_status_name(vall_e_status status);

/* ---- logging ---------------------------------------------------------------------------------------------- */

typedef enum vall_e_log_level {
    VALL_E_LOG_DEBUG = 0,
    VALL_E_LOG_INFO  = 1,
    VALL_E_LOG_WARN  = 2,
    VALL_E_LOG_ERROR = 3
} vall_e_log_level;

typedef void (*vall_e_log_callback)(vall_e_log_level level, const char * text, void * user_data);

/* Route ggml's and the core's log lines to one callback (NULL: warnings and errors to stderr, the default).
 * The callback may be called from any thread. */
VALL_E_API void vall_e_log_set(vall_e_log_callback callback, void * user_data);

/* ---- system information ----------------------------------------------------------------------------------- */

typedef struct vall_e_system_info {
    const char * version;         /* this library's version */
    const char * ggml_version;    /* e.g. "0.25.1" */
    const char * ggml_commit;     /* the ggml commit or "unknown" */
    const char * cpu_features;    /* comma-separated features the CPU backend was compiled with, e.g. "AVX2,FMA,F16C" */
    const char * build;           /* "native" (tuned for the building machine) or "portable" */
    int32_t      physical_cores;  /* physical cores usable by this process */
    int32_t      logical_cores;   /* logical CPUs usable by this process */
    int32_t      default_threads; /* the thread count used when a caller passes 0 */
} vall_e_system_info;

/* Fill *info. Strings are static and stay valid for the life of the process. */
VALL_E_API void vall_e_system_info_get(vall_e_system_info * info);

/* ---- compute devices ------------------------------------------------------------------------------------- */

/* The devices this build can compute on: ggml's backend registry, in its order (GPUs first, the CPU last). A build
 * without GPU backends has one, the CPU. A Vulkan device appears only where the Vulkan loader finds a driver;
 * software drivers (lavapipe/llvmpipe, SwiftShader) are listed only when GGML_VK_VISIBLE_DEVICES names them. */
typedef enum vall_e_device_type {
    VALL_E_DEVICE_CPU         = 0,
    VALL_E_DEVICE_GPU         = 1,
    VALL_E_DEVICE_IGPU        = 2, /* integrated: shares the host's memory */
    VALL_E_DEVICE_ACCELERATOR = 3
} vall_e_device_type;

typedef struct vall_e_device_info {
    const char * name;         /* ggml's name: "CPU", "Vulkan0", "CUDA0" */
    const char * description;  /* the driver's: "NVIDIA GeForce RTX 4090", "llvmpipe (LLVM 15.0.6, 256 bits)" */
    const char * backend;      /* "CPU", "Vulkan", "CUDA", "Metal" */
    int32_t      backend_index; /* its index among the devices of its backend (vulkan:N) */
    int32_t      type;         /* a vall_e_device_type */
    int32_t      software;     /* 1: a software implementation running on the CPU (never chosen automatically) */
    int64_t      memory_free;  /* bytes; the host's memory for the CPU */
    int64_t      memory_total;
} vall_e_device_info;

VALL_E_API int32_t vall_e_device_count(void);

/* Fill *info for device `index` (0 … vall_e_device_count() − 1); strings live as long as the process. */
VALL_E_API vall_e_status vall_e_device_get(int32_t index, vall_e_device_info * info);

/* ---- matmul: a weight matrix held in a ggml type, multiplied by f32 activations ---------------------------- */

typedef enum vall_e_type {
    VALL_E_TYPE_F32  = 0,
    VALL_E_TYPE_F16  = 1,
    VALL_E_TYPE_Q8_0 = 2
} vall_e_type;

typedef struct vall_e_matmul vall_e_matmul; /* opaque */

typedef struct vall_e_matmul_params {
    int64_t m;    /* weight rows (output features), >= 1 */
    int64_t k;    /* weight columns (inner dimension), >= 1; a multiple of 32 for Q8_0 */
    int32_t type; /* a vall_e_type: how the weights are stored */
} vall_e_matmul_params;

VALL_E_API vall_e_matmul_params vall_e_matmul_default_params(void);

/* Create a matmul whose weights are `weights` (row-major [m, k] f32), converted once to params->type. */
VALL_E_API vall_e_status vall_e_matmul_init(const vall_e_matmul_params * params, const float * weights,
                                            vall_e_matmul ** out);

/* output[n, m] = input[n, k] · weights[m, k]ᵀ, all row-major f32. n_threads = 0 uses the default.
 * One operation at a time per handle: a concurrent call returns VALL_E_ERR_BUSY. */
VALL_E_API vall_e_status vall_e_matmul_compute(vall_e_matmul * mm, const float * input, int64_t n, float * output,
                                               int32_t n_threads);

/* Bytes the weights occupy in their stored type. */
VALL_E_API size_t vall_e_matmul_weight_bytes(const vall_e_matmul * mm);

VALL_E_API void vall_e_matmul_free(vall_e_matmul * mm);

/* ---- espeak-ng: text to IPA phonemes ---------------------------------------------------------------------- */
/* espeak-ng keeps global state and is not thread-safe: every call below takes one process-wide lock. */

/* espeak-ng is not linked: the system's libespeak-ng is loaded on first use (VALL_E_ESPEAK_LIBRARY: the file to load
 * instead of libespeak-ng.so.1 / libespeak-ng.1.dylib / libespeak-ng.dll). When it cannot be loaded, the calls below
 * return VALL_E_ERR_UNAVAILABLE with what to install. */

/* Whether the library can be loaded (it is loaded by this call when it was not yet). */
VALL_E_API int32_t vall_e_espeak_available(void);

/* The library that was loaded (a static string), or NULL when it could not be; *problem (may be NULL) then gets
 * why, with what to install. */
VALL_E_API const char * vall_e_espeak_library(const char ** problem);

/* Initialise espeak-ng once (later calls are no-ops). data_path: the directory that contains espeak-ng-data, or
 * NULL for espeak-ng's default. On success *version and *data_dir (both may be NULL) receive static strings. */
VALL_E_API vall_e_status vall_e_espeak_init(const char * data_path, const char ** version, const char ** data_dir);

/* The languages espeak-ng offers, one "<language>\t<voice identifier>" line each, the first voice of a language
 * first (as espeak-ng orders them). Free with vall_e_string_free. */
VALL_E_API vall_e_status vall_e_espeak_languages(char ** out);

/* IPA for `text` (UTF-8) in `language` (an espeak-ng language code such as "en-us"; its first voice is used).
 * espeak_TextToPhonemes is called until the whole text is consumed (it returns one clause per call); the
 * non-empty clause outputs are joined with single spaces. Phonemes are separated by '_', words by ' ', stress
 * marks are kept. Free *out with vall_e_string_free. */
VALL_E_API vall_e_status vall_e_espeak_text_to_phonemes(const char * language, const char * text, char ** out);

VALL_E_API void vall_e_string_free(char * text);

/* ---- EnCodec 24 kHz: audio ↔ RVQ codes -------------------------------------------------------------------- */

/* opaque: the weights, loaded once and only read afterwards. Any number of encode / decode calls may run on one codec
 * at the same time from different threads: each call computes on a state of its own (the codec keeps the last
 * finished call's state for the next one). Free it only when no call is running. */
typedef struct vall_e_codec vall_e_codec;

typedef struct vall_e_codec_info {
    int32_t sample_rate;  /* 24000 */
    int32_t hop_length;   /* samples per code frame: 320 */
    int32_t hidden_dim;   /* latent / codebook dimension: 128 */
    int32_t n_filters;    /* 32 */
    int32_t n_bins;       /* codes per codebook: 1024 */
    int32_t n_codebooks;  /* codebooks in the file: 32 */
    int32_t weight_type;  /* as stored: 0 f32, 1 f16 (computation is f32 either way) */
    int64_t file_bytes;
    int32_t device;       /* the device index its weights and graphs are on (vall_e_device_get), -1 for the CPU */
} vall_e_codec_info;

typedef struct vall_e_codec_params {
    int32_t                 n_threads;    /* 0: the default */
    int32_t                 chunk_frames; /* frames per chunk, 8 or more (bounded memory; results equal the whole signal's); 0: 375 */
    const volatile int32_t * cancel;      /* optional, this call's own: set to non-zero (from any thread) to stop this call
                                           * at its next check (VALL_E_ERR_CANCELLED); other calls are not affected */
} vall_e_codec_params;

VALL_E_API vall_e_codec_params vall_e_codec_default_params(void);

/* Load encodec.cpp-format weights (f32 or f16), validating the header and every tensor's name and shape. */
VALL_E_API vall_e_status vall_e_codec_init(const char * path, vall_e_codec ** out);

/* The same with the weights and every call's graphs on device `device` (vall_e_device_get; -1: the CPU, as
 * vall_e_codec_init). The LSTM recurrence and the residual quantizer stay on the CPU; cancel flags are checked
 * between graph evaluations. */
VALL_E_API vall_e_status vall_e_codec_init_device(const char * path, int32_t device, vall_e_codec ** out);

VALL_E_API void vall_e_codec_get_info(const vall_e_codec * codec, vall_e_codec_info * info);

/* Encode n_samples (>= 1) of 24 kHz mono audio to codes [n_codebooks][ceil(n_samples / 320)] (codebook-major),
 * using the first n_codebooks (1 ... info.n_codebooks) quantizers. */
VALL_E_API vall_e_status vall_e_codec_encode(vall_e_codec * codec, const float * samples, int64_t n_samples,
                                             int32_t n_codebooks, const vall_e_codec_params * params, int16_t * codes);

/* The encoder's output before quantization: latent [frames][hidden_dim] (frame-major), frames = ceil(n_samples / 320).
 * For diagnostics (e.g. telling RVQ distance ties from real differences). */
VALL_E_API vall_e_status vall_e_codec_encode_latent(vall_e_codec * codec, const float * samples, int64_t n_samples,
                                                    const vall_e_codec_params * params, float * latent);

/* Decode codes [n_codebooks][n_frames] (each 0 ... n_bins - 1) to n_frames * 320 samples. */
VALL_E_API vall_e_status vall_e_codec_decode(vall_e_codec * codec, const int16_t * codes, int32_t n_codebooks,
                                             int64_t n_frames, const vall_e_codec_params * params, float * samples);

VALL_E_API void vall_e_codec_free(vall_e_codec * codec);

/* ---- Vocos for EnCodec codes: codes → 24 kHz audio (charactr/vocos-encodec-24khz) ------------------------ */
/* What the reference decodes with by default: the same codes as EnCodec's decoder, better audio. The caller reads the
 * weight file (a PyTorch state dict) and passes its tensors; they are copied, so the arrays may be freed after init.
 * Like a codec, one vocos serves any number of decode calls at once (each on a compute state of its own). */

typedef struct vall_e_vocos vall_e_vocos; /* opaque */

typedef struct vall_e_vocos_tensor {
    const char *  name;     /* the state-dict key, e.g. "backbone.convnext.0.pwconv1.weight" */
    int32_t       n_dims;   /* 1 ... 4 */
    int64_t       shape[4]; /* PyTorch order, outermost first (only the first n_dims are read) */
    const float * data;     /* row-major, the product of the shape's values */
} vall_e_vocos_tensor;

typedef struct vall_e_vocos_info {
    int32_t sample_rate;      /* 24000 */
    int32_t hop_length;       /* samples per code frame: 320 */
    int32_t n_fft;            /* 1280 */
    int32_t input_channels;   /* feature dimension: 128 */
    int32_t dim;              /* backbone width: 384 */
    int32_t intermediate_dim; /* 1152 */
    int32_t n_layers;         /* ConvNeXt blocks: 8 */
    int32_t n_bandwidths;     /* AdaLayerNorm embeddings: 4 (2, 4, 8, 16 codebooks) */
    int32_t n_codebooks;      /* codebooks in the feature table: 16 */
    int32_t n_bins;           /* codes per codebook: 1024 */
    int64_t weight_bytes;     /* memory the weights (and the inverse-DFT basis) occupy */
    int32_t device;           /* the device index its weights and graphs are on (vall_e_device_get), -1 for the CPU */
} vall_e_vocos_info;

typedef struct vall_e_vocos_params {
    int32_t                  n_threads;    /* 0: the default */
    int32_t                  chunk_frames; /* frames per chunk, >= 1 (bounded memory; results equal the whole signal's); 0: 750 */
    const volatile int32_t * cancel;       /* optional, this call's own: non-zero stops it (VALL_E_ERR_CANCELLED) */
    int32_t                  bandwidth_id; /* the bandwidth Vocos conditions on, 0 ... n_bandwidths - 1, for codes of
                                            * any count 1 ... n_codebooks (the reference passes 2 whatever the count);
                                            * -1 (default): from the count, 2/4/8/16 codebooks ↔ 0/1/2/3 */
} vall_e_vocos_params;

typedef enum vall_e_vocos_output {
    VALL_E_VOCOS_AUDIO    = 0, /* n_frames * 320 samples */
    VALL_E_VOCOS_FEATURES = 1, /* [n_frames][input_channels]: the summed codebook embeddings (codes_to_features) */
    VALL_E_VOCOS_BACKBONE = 2  /* [n_frames][dim]: the backbone's output, before the head */
} vall_e_vocos_output;

VALL_E_API vall_e_vocos_params vall_e_vocos_default_params(void);

/* Build a vocos from a state dict: every key of the published checkpoint, each with its shape and finite values
 * (feature_extractor.encodec.* keys are ignored); hyperparameters follow from the shapes. */
VALL_E_API vall_e_status vall_e_vocos_init(const vall_e_vocos_tensor * tensors, int32_t n_tensors, vall_e_vocos ** out);

/* The same with the weights and every call's graphs on device `device` (vall_e_device_get; -1: the CPU). */
VALL_E_API vall_e_status vall_e_vocos_init_device(const vall_e_vocos_tensor * tensors, int32_t n_tensors, int32_t device,
                                                  vall_e_vocos ** out);

VALL_E_API void vall_e_vocos_get_info(const vall_e_vocos * vocos, vall_e_vocos_info * info);

/* Decode codes [n_codebooks][n_frames] (each 0 ... n_bins - 1) into `out` (a vall_e_vocos_output: the audio, or an
 * intermediate result for checks). Without params->bandwidth_id, n_codebooks 2, 4, 8 or 16 selects the bandwidth
 * Vocos conditions on (0 ... 3) and any other count is VALL_E_ERR_INVALID_ARGUMENT. */
VALL_E_API vall_e_status vall_e_vocos_decode(vall_e_vocos * vocos, const int16_t * codes, int32_t n_codebooks,
                                             int64_t n_frames, int32_t output, const vall_e_vocos_params * params,
                                             float * out);

VALL_E_API void vall_e_vocos_free(vall_e_vocos * vocos);

/* ---- the VALL-E language model: a Llama-style decoder over a VALL-E GGUF ------------------------------------- */
/* Our own graph (llama.cpp cannot run this model faithfully): explicit per-token positions, an explicit mask
 * (causal by sequence index, or full), exact-erf GELU or SiLU in the gated MLP, logits only for the requested rows
 * and head range. Inputs are embedding rows of the unified table, summed per token (spec §3). */

typedef struct vall_e_lm vall_e_lm;                 /* weights (memory-mapped GGUF), shared by contexts */
typedef struct vall_e_lm_context vall_e_lm_context; /* KV cache and compute buffers; one call at a time */

typedef enum vall_e_lm_activation {
    VALL_E_LM_GELU = 0, /* exact (erf) GELU: what the reference MLP computes */
    VALL_E_LM_SILU = 1  /* SiLU: what llama.cpp's LLaMA graph computes */
} vall_e_lm_activation;

typedef struct vall_e_lm_params {
    int32_t activation;  /* a vall_e_lm_activation */
    int32_t head_biases; /* 1 (default): add the file's per-head output biases (tensor "vall_e.output_bias", F32
                          * [n_vocab]: each head's classifier bias at its rows of the unified output matrix) to the
                          * logits; 0: ignore them. Files without that tensor have no biases either way. */
    int32_t device;      /* -1 (default): the CPU, weights in place in the file's mapping; otherwise a device index
                          * (vall_e_device_get): the weights are copied into that device's memory, and every context
                          * of this model keeps its KV cache and graphs there (ops the device lacks run on the CPU).
                          * On a GPU, cancel flags are checked between graph evaluations. */
} vall_e_lm_params;

typedef struct vall_e_lm_info {
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t n_ff;
    int32_t n_vocab;
    int32_t n_ctx_train;
    float   rms_eps;
    float   rope_theta;
    int32_t weight_type;  /* ggml type of the attention matrices (e.g. 1 = F16, 8 = Q8_0) */
    int64_t file_bytes;
    int64_t weight_bytes; /* bytes of the matrices a forward pass reads (layers + output) */
    int32_t has_output_bias; /* 1 when the file holds vall_e.output_bias (applied unless head_biases is 0) */
    int64_t repacked_bytes;  /* bytes of the layer matrices copied into the CPU backend's re-laid-out (repacked) form
                              * at load, for its tiled quantized kernels: 0 for F16/Q8_0 on x86, or VALL_E_NO_REPACK=1 */
    int32_t device;          /* the device index it runs on, -1 for the CPU path */
    int64_t device_bytes;    /* bytes of weights copied into the device's memory (0 on the CPU) */
} vall_e_lm_info;

VALL_E_API vall_e_lm_params vall_e_lm_default_params(void);

/* Load and validate a VALL-E GGUF (llama architecture): header, hparams, every tensor's presence, type and shape. */
VALL_E_API vall_e_status vall_e_lm_load(const char * path, const vall_e_lm_params * params, vall_e_lm ** out);
VALL_E_API void          vall_e_lm_get_info(const vall_e_lm * model, vall_e_lm_info * info);
VALL_E_API void          vall_e_lm_free(vall_e_lm * model);

typedef struct vall_e_lm_context_params {
    int32_t                  n_ctx;      /* tokens the KV cache and one evaluation may hold (the cache's memory is
                                            allocated by the first call that writes it) */
    int32_t                  n_threads;  /* 0: the default */
    int32_t                  cache_type; /* KV cache precision: 1 f16 (default, half the memory) or 0 f32 (exact) */
    const volatile int32_t * cancel;    /* optional: set non-zero to stop (VALL_E_ERR_CANCELLED) */
} vall_e_lm_context_params;

VALL_E_API vall_e_lm_context_params vall_e_lm_context_default_params(void);
VALL_E_API vall_e_status vall_e_lm_context_init(vall_e_lm * model, const vall_e_lm_context_params * params,
                                                vall_e_lm_context ** out);
VALL_E_API void          vall_e_lm_context_free(vall_e_lm_context * ctx);

/* One sequence of an evaluation. Token i is the sum of embedding rows row_ids[row_offsets[i] .. row_offsets[i+1]). */
typedef struct vall_e_lm_sequence {
    int32_t         n_tokens;
    const int32_t * row_offsets; /* n_tokens + 1, non-decreasing, starting at 0 */
    const int32_t * row_ids;     /* each 0 ... n_vocab − 1 */
    const int32_t * positions;   /* n_tokens position ids for RoPE */
    int32_t         causal;      /* 1: causal by sequence index; 0: full attention */
    int32_t         n_outputs;   /* logits for the last n_outputs tokens (1 ... n_tokens) */
} vall_e_lm_sequence;

/* Evaluate independent sequences in one graph (attention is block-diagonal), without the KV cache. logits receives
 * Σ n_outputs rows of (head_end − head_start) values, sequence after sequence: output rows [head_start, head_end). */
VALL_E_API vall_e_status vall_e_lm_forward(vall_e_lm_context * ctx, const vall_e_lm_sequence * sequences, int32_t n_sequences,
                                           int32_t head_start, int32_t head_end, float * logits);

/* Causal evaluation with the KV cache: append a sequence's tokens after those already cached (a prefill, or one AR
 * step) — they attend to every cached token and causally to each other. logits as for vall_e_lm_forward. */
VALL_E_API vall_e_status vall_e_lm_cache_append(vall_e_lm_context * ctx, const vall_e_lm_sequence * sequence,
                                                int32_t head_start, int32_t head_end, float * logits);
VALL_E_API void          vall_e_lm_cache_clear(vall_e_lm_context * ctx);
/* Make dst's cache a copy of src's (its tokens' keys and values, and its length): one hypothesis of a beam search
 * continuing another. Both contexts of the same model, with the same cache type; dst large enough; neither busy. */
VALL_E_API vall_e_status vall_e_lm_cache_copy(vall_e_lm_context * dst, const vall_e_lm_context * src);
VALL_E_API int32_t       vall_e_lm_cache_length(const vall_e_lm_context * ctx);

/* Debugging: with dump on, every evaluation keeps f32 copies of its named intermediates, in graph order —
 * "inp_embd" [tokens][n_embd]; per layer i "l<i>.q" and "l<i>.k" (after RoPE) [tokens][heads·head_dim],
 * "l<i>.attn_out" and "l<i>.out" (the residual stream after attention and after the MLP) [tokens][n_embd];
 * "out_norm" [outputs][n_embd]; "logits" [outputs][head] — replaced by the next evaluation. Costs memory: the
 * allocator cannot reuse those buffers. vall_e_lm_dump_get returns the name (NULL for an index out of range);
 * its pointers stay valid until the next evaluation or vall_e_lm_set_dump call. */
VALL_E_API void          vall_e_lm_set_dump(vall_e_lm_context * ctx, int32_t enabled);
VALL_E_API int32_t       vall_e_lm_dump_count(const vall_e_lm_context * ctx);
VALL_E_API const char *  vall_e_lm_dump_get(const vall_e_lm_context * ctx, int32_t index, const float ** data,
                                            int64_t * n_per_row, int64_t * n_rows);

/* Convert n_rows × n_per_row f32 values to a ggml type (F16, BF16, Q8_0, Q4_K, Q3_K, Q2_K, …; n_per_row a multiple
 * of its block size); *written receives the bytes. For tools that write GGUF files (e.g. quantized test models). */
VALL_E_API vall_e_status vall_e_quantize(int32_t ggml_type, const float * values, int64_t n_rows, int64_t n_per_row,
                                         void * out, size_t capacity, size_t * written);

/* ---- benchmarks ------------------------------------------------------------------------------------------- */

/* Time c = a + b over three f32 vectors of n_bytes each (2 reads + 1 write per element) with ggml on the CPU
 * backend; *seconds receives the fastest of n_iter runs. Used to measure the machine's memory bandwidth. */
VALL_E_API vall_e_status vall_e_bench_vector_add(int64_t n_bytes, int32_t n_threads, int32_t n_iter, double * seconds);

#ifdef __cplusplus
}
#endif

#endif /* VALL_E_H */
