// espeak-ng, serialised: text → IPA with '_' between phonemes, one call per clause until the text is consumed
// (the reference phonemizer's espeak wrapper; spec valle-inference §9.1). Voices are chosen by language code,
// taking the first voice espeak-ng lists for that language, as the reference does.
#include "core.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#if VALL_E_HAVE_ESPEAK
#include <espeak-ng/speak_lib.h>
#endif

namespace vall_e {
namespace {

std::mutex g_espeak_mutex;

char * copy_string(const std::string & text) {
    char * out = static_cast<char *>(std::malloc(text.size() + 1));
    if (!out) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "out of memory");
    }
    std::memcpy(out, text.c_str(), text.size() + 1);
    return out;
}

#if VALL_E_HAVE_ESPEAK

struct espeak_state {
    bool                               initialised = false;
    std::string                        version;
    std::string                        data_dir;
    std::map<std::string, std::string> voice_for_language; // first voice of each language
    std::string                        languages_listing;
    std::string                        current_language;
};

espeak_state g_espeak;

// Requires g_espeak_mutex.
void init_locked(const char * data_path) {
    if (g_espeak.initialised) {
        return;
    }
    // DONT_EXIT: report a missing data directory instead of calling exit().
    const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, espeakINITIALIZE_DONT_EXIT);
    if (rate <= 0) {
        fail(VALL_E_ERR_INVALID_ARGUMENT,
             "espeak-ng could not be initialised (data directory %s): is espeak-ng-data installed?",
             data_path ? data_path : "(default)");
    }
    const char * data   = nullptr;
    const char * info   = espeak_Info(&data);
    g_espeak.version    = info ? info : "";
    g_espeak.data_dir   = data ? data : "";

    const espeak_VOICE ** voices = espeak_ListVoices(nullptr);
    for (size_t i = 0; voices && voices[i]; ++i) {
        const espeak_VOICE * voice = voices[i];
        // `languages` is a list of (priority byte, name, NUL); the first name is the voice's language.
        if (!voice->languages || !voice->languages[0] || !voice->identifier) {
            continue;
        }
        const std::string language(voice->languages + 1);
        if (g_espeak.voice_for_language.emplace(language, voice->identifier).second) {
            g_espeak.languages_listing += language + "\t" + voice->identifier + "\n";
        }
    }
    g_espeak.initialised = true;
}

// Requires g_espeak_mutex.
void select_language_locked(const std::string & language) {
    if (g_espeak.current_language == language) {
        return;
    }
    const auto found = g_espeak.voice_for_language.find(language);
    if (found == g_espeak.voice_for_language.end()) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "espeak-ng has no voice for the language \"%s\"", language.c_str());
    }
    if (espeak_SetVoiceByName(found->second.c_str()) != EE_OK) {
        fail(VALL_E_ERR_INTERNAL, "espeak-ng failed to load the voice \"%s\"", found->second.c_str());
    }
    g_espeak.current_language = language;
}

#else

[[noreturn]] void unavailable() {
    fail(VALL_E_ERR_INVALID_ARGUMENT,
         "this build of the vall-e native addon has no espeak-ng: install libespeak-ng-dev and espeak-ng-data, "
         "then rebuild (`pnpm --filter @vall-e/native build`)");
}

#endif

}  // namespace
}  // namespace vall_e

extern "C" {

int32_t vall_e_espeak_available(void) { return VALL_E_HAVE_ESPEAK ? 1 : 0; }

vall_e_status vall_e_espeak_init(const char * data_path, const char ** version, const char ** data_dir) {
    using namespace vall_e;
    return guard([&] {
#if VALL_E_HAVE_ESPEAK
        std::lock_guard<std::mutex> lock(g_espeak_mutex);
        init_locked(data_path);
        if (version) {
            *version = g_espeak.version.c_str();
        }
        if (data_dir) {
            *data_dir = g_espeak.data_dir.c_str();
        }
#else
        unavailable();
#endif
    });
}

vall_e_status vall_e_espeak_languages(char ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_espeak_languages: out must not be NULL");
        }
        *out = nullptr;
#if VALL_E_HAVE_ESPEAK
        std::lock_guard<std::mutex> lock(g_espeak_mutex);
        init_locked(nullptr);
        *out = copy_string(g_espeak.languages_listing);
#else
        unavailable();
#endif
    });
}

vall_e_status vall_e_espeak_text_to_phonemes(const char * language, const char * text, char ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!language || !text || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_espeak_text_to_phonemes: arguments must not be NULL");
        }
        *out = nullptr;
#if VALL_E_HAVE_ESPEAK
        std::lock_guard<std::mutex> lock(g_espeak_mutex);
        init_locked(nullptr);
        select_language_locked(language);
        // IPA (bit 1), '_' between phonemes (bits 8-23).
        const int    phoneme_mode = ('_' << 8) | 0x02;
        const void * cursor       = text;
        std::string  result;
        while (cursor != nullptr) {
            const char * clause = espeak_TextToPhonemes(&cursor, espeakCHARS_UTF8, phoneme_mode);
            if (clause && clause[0]) {
                if (!result.empty()) {
                    result += ' ';
                }
                result += clause;
            }
        }
        *out = copy_string(result);
#else
        unavailable();
#endif
    });
}

void vall_e_string_free(char * text) { std::free(text); }

}  // extern "C"
