// espeak-ng, serialised: text → IPA with '_' between phonemes, one call per clause until the text is consumed
// (the reference phonemizer's espeak wrapper, phonemizer's EspeakBackend). Voices are chosen by language code,
// taking the first voice espeak-ng lists for that language, as the reference does.
//
// espeak-ng (GPL-3.0) is not linked: the system's libespeak-ng is loaded at run time, on first use, so the addon
// holds none of its code and loads (and runs everything but the phonemizer) on a machine without it.
// VALL_E_ESPEAK_LIBRARY names the library file to load instead of the usual names.
#include "core.h"
#include "espeak-abi.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dlfcn.h>
#include <sys/stat.h>
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

// ---- the library, loaded once ---------------------------------------------------------------------------------

struct espeak_library {
    bool                           attempted = false;
    bool                           loaded    = false;
    std::string                    path;    // what was loaded
    std::string                    problem; // why nothing was, with what to install
    espeak_abi::initialize_fn        initialize        = nullptr;
    espeak_abi::info_fn              info              = nullptr;
    espeak_abi::list_voices_fn       list_voices       = nullptr;
    espeak_abi::set_voice_by_name_fn set_voice_by_name = nullptr;
    espeak_abi::text_to_phonemes_fn  text_to_phonemes  = nullptr;
};

espeak_library g_library;

#if defined(_WIN32)
void * open_library(const std::string & name, std::string & error) {
    HMODULE handle = LoadLibraryA(name.c_str());
    if (!handle) {
        error = name + ": LoadLibrary error " + std::to_string(GetLastError());
    }
    return reinterpret_cast<void *>(handle);
}
void * find_symbol(void * handle, const char * name) {
    return reinterpret_cast<void *>(GetProcAddress(reinterpret_cast<HMODULE>(handle), name));
}
// The file the system resolved `name` to.
std::string library_file(void * handle, void * /* symbol */, const std::string & name) {
    char path[MAX_PATH];
    const DWORD length = GetModuleFileNameA(reinterpret_cast<HMODULE>(handle), path, MAX_PATH);
    return length > 0 && length < MAX_PATH ? std::string(path, length) : name;
}
const char * const k_library_names[] = { "libespeak-ng.dll", "C:\\Program Files\\eSpeak NG\\libespeak-ng.dll" };
#else
void * open_library(const std::string & name, std::string & error) {
    void * handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char * message = dlerror();
        error = message ? message : "dlopen failed";
    }
    return handle;
}
void * find_symbol(void * handle, const char * name) { return dlsym(handle, name); }
// The file the system resolved `name` to.
std::string library_file(void * /* handle */, void * symbol, const std::string & name) {
    Dl_info info;
    return dladdr(symbol, &info) && info.dli_fname ? std::string(info.dli_fname) : name;
}
#if defined(__APPLE__)
const char * const k_library_names[] = { "libespeak-ng.1.dylib", "/opt/homebrew/lib/libespeak-ng.1.dylib",
                                         "/usr/local/lib/libespeak-ng.1.dylib" };
#else
const char * const k_library_names[] = { "libespeak-ng.so.1" };
#endif
#endif

constexpr const char * k_install_hint =
    "Install espeak-ng (Debian/Ubuntu: apt-get install libespeak-ng1 espeak-ng-data; Fedora: dnf install espeak-ng; "
    "macOS: brew install espeak-ng; Windows: the espeak-ng installer), or set VALL_E_ESPEAK_LIBRARY to the path of "
    "libespeak-ng";

// Requires g_espeak_mutex. Tries once per process; the outcome is kept.
void load_library_locked() {
    if (g_library.attempted) {
        return;
    }
    g_library.attempted = true;
    std::vector<std::string> names;
    const char *             chosen = std::getenv("VALL_E_ESPEAK_LIBRARY");
    if (chosen && chosen[0]) {
#if !defined(_WIN32)
        // Only a regular file reaches the dynamic loader: a FIFO would block its open() for good.
        struct stat st;
        if (stat(chosen, &st) == 0 && !S_ISREG(st.st_mode)) {
            g_library.problem = std::string("espeak-ng could not be loaded (VALL_E_ESPEAK_LIBRARY is ") + chosen +
                                ", which is not a regular file). " + k_install_hint;
            return;
        }
#endif
        names.emplace_back(chosen); // an explicit choice is the only one tried
    } else {
        names.assign(std::begin(k_library_names), std::end(k_library_names));
    }
    std::string tried;
    for (const std::string & name : names) {
        std::string error;
        void *      handle = open_library(name, error);
        if (!handle) {
            tried += (tried.empty() ? "" : "; ") + error;
            continue;
        }
        std::string lacking;
        auto        symbol = [&](const char * function) {
            void * address = find_symbol(handle, function);
            if (!address) {
                lacking += (lacking.empty() ? "" : ", ") + std::string(function);
            }
            return address;
        };
        g_library.initialize        = reinterpret_cast<espeak_abi::initialize_fn>(symbol("espeak_Initialize"));
        g_library.info              = reinterpret_cast<espeak_abi::info_fn>(symbol("espeak_Info"));
        g_library.list_voices       = reinterpret_cast<espeak_abi::list_voices_fn>(symbol("espeak_ListVoices"));
        g_library.set_voice_by_name = reinterpret_cast<espeak_abi::set_voice_by_name_fn>(symbol("espeak_SetVoiceByName"));
        g_library.text_to_phonemes  = reinterpret_cast<espeak_abi::text_to_phonemes_fn>(symbol("espeak_TextToPhonemes"));
        if (!lacking.empty()) {
            tried += (tried.empty() ? "" : "; ") + name + " lacks " + lacking + " (espeak-ng 1.49.2 or newer is needed)";
            continue; // the handle stays open: closing a library that may run code at exit is not worth it
        }
        g_library.loaded = true;
        g_library.path   = library_file(handle, reinterpret_cast<void *>(g_library.initialize), name);
        return;
    }
    g_library.problem = "espeak-ng could not be loaded (" + tried + "). " + k_install_hint;
}

// Requires g_espeak_mutex.
void require_library_locked() {
    load_library_locked();
    if (!g_library.loaded) {
        fail(VALL_E_ERR_UNAVAILABLE, "%s", g_library.problem.c_str());
    }
}

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
    require_library_locked();
    // DONT_EXIT: report a missing data directory instead of calling exit().
    const int rate = g_library.initialize(espeak_abi::AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, espeak_abi::INITIALIZE_DONT_EXIT);
    if (rate <= 0) {
        fail(VALL_E_ERR_UNAVAILABLE,
             "espeak-ng (%s) could not be initialised: no espeak-ng-data in %s. %s",
             g_library.path.c_str(), data_path ? data_path : "its default data directory or ESPEAK_DATA_PATH",
             k_install_hint);
    }
    const char * data   = nullptr;
    const char * info   = g_library.info(&data);
    g_espeak.version    = info ? info : "";
    g_espeak.data_dir   = data ? data : "";

    const espeak_abi::voice ** voices = g_library.list_voices(nullptr);
    for (size_t i = 0; voices && voices[i]; ++i) {
        const espeak_abi::voice * voice = voices[i];
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
    if (g_library.set_voice_by_name(found->second.c_str()) != espeak_abi::EE_OK) {
        fail(VALL_E_ERR_INTERNAL, "espeak-ng failed to load the voice \"%s\"", found->second.c_str());
    }
    g_espeak.current_language = language;
}


}  // namespace
}  // namespace vall_e

extern "C" {

int32_t vall_e_espeak_available(void) {
    using namespace vall_e;
    std::lock_guard<std::mutex> lock(g_espeak_mutex);
    load_library_locked();
    return g_library.loaded ? 1 : 0;
}

const char * vall_e_espeak_library(const char ** problem) {
    using namespace vall_e;
    std::lock_guard<std::mutex> lock(g_espeak_mutex);
    load_library_locked();
    if (problem) {
        *problem = g_library.loaded ? nullptr : g_library.problem.c_str();
    }
    return g_library.loaded ? g_library.path.c_str() : nullptr;
}

vall_e_status vall_e_espeak_init(const char * data_path, const char ** version, const char ** data_dir) {
    using namespace vall_e;
    return guard([&] {
        std::lock_guard<std::mutex> lock(g_espeak_mutex);
        init_locked(data_path);
        if (version) {
            *version = g_espeak.version.c_str();
        }
        if (data_dir) {
            *data_dir = g_espeak.data_dir.c_str();
        }
    });
}

vall_e_status vall_e_espeak_languages(char ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_espeak_languages: out must not be NULL");
        }
        *out = nullptr;
        std::lock_guard<std::mutex> lock(g_espeak_mutex);
        init_locked(nullptr);
        *out = copy_string(g_espeak.languages_listing);
    });
}

vall_e_status vall_e_espeak_text_to_phonemes(const char * language, const char * text, char ** out) {
    using namespace vall_e;
    return guard([&] {
        if (!language || !text || !out) {
            fail(VALL_E_ERR_INVALID_ARGUMENT, "vall_e_espeak_text_to_phonemes: arguments must not be NULL");
        }
        *out = nullptr;
        std::lock_guard<std::mutex> lock(g_espeak_mutex);
        init_locked(nullptr);
        select_language_locked(language);
        // IPA (bit 1), '_' between phonemes (bits 8-23).
        const int    phoneme_mode = ('_' << 8) | 0x02;
        const void * cursor       = text;
        std::string  result;
        while (cursor != nullptr) {
            const char * clause = g_library.text_to_phonemes(&cursor, espeak_abi::CHARS_UTF8, phoneme_mode);
            if (clause && clause[0]) {
                if (!result.empty()) {
                    result += ' ';
                }
                result += clause;
            }
        }
        *out = copy_string(result);
    });
}

void vall_e_string_free(char * text) { std::free(text); }

}  // extern "C"
