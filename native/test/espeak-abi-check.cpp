// Compiled (never run) when the system has espeak-ng's header: the declarations in src/espeak-abi.h must be the
// header's, or the build fails here. The header is used for this check only; the addon includes none of it.
#include <cstddef>
#include <type_traits>

#include <espeak-ng/speak_lib.h>

#include "espeak-abi.h"

namespace abi = vall_e::espeak_abi;

static_assert(abi::AUDIO_OUTPUT_SYNCHRONOUS == AUDIO_OUTPUT_SYNCHRONOUS, "AUDIO_OUTPUT_SYNCHRONOUS");
static_assert(abi::INITIALIZE_DONT_EXIT == espeakINITIALIZE_DONT_EXIT, "espeakINITIALIZE_DONT_EXIT");
static_assert(abi::CHARS_UTF8 == espeakCHARS_UTF8, "espeakCHARS_UTF8");
static_assert(abi::EE_OK == EE_OK, "EE_OK");
static_assert(sizeof(espeak_AUDIO_OUTPUT) == sizeof(int) && sizeof(espeak_ERROR) == sizeof(int), "enums are ints");

static_assert(sizeof(abi::voice) == sizeof(espeak_VOICE), "espeak_VOICE size");
static_assert(offsetof(abi::voice, languages) == offsetof(espeak_VOICE, languages), "espeak_VOICE.languages");
static_assert(offsetof(abi::voice, identifier) == offsetof(espeak_VOICE, identifier), "espeak_VOICE.identifier");
static_assert(offsetof(abi::voice, spare) == offsetof(espeak_VOICE, spare), "espeak_VOICE.spare");

// Each function's type, with the header's enums in place of our ints.
static_assert(std::is_same<decltype(&espeak_Info), abi::info_fn>::value, "espeak_Info");
static_assert(std::is_same<decltype(&espeak_TextToPhonemes), abi::text_to_phonemes_fn>::value, "espeak_TextToPhonemes");
static_assert(std::is_same<decltype(&espeak_Initialize), int (*)(espeak_AUDIO_OUTPUT, int, const char *, int)>::value,
              "espeak_Initialize");
static_assert(std::is_same<decltype(&espeak_ListVoices), const espeak_VOICE ** (*)(espeak_VOICE *)>::value,
              "espeak_ListVoices");
static_assert(std::is_same<decltype(&espeak_SetVoiceByName), espeak_ERROR (*)(const char *)>::value,
              "espeak_SetVoiceByName");
