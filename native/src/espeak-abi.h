// The part of espeak-ng's C interface that the phonemizer calls, declared here from espeak-ng's published ABI
// (speak_lib.h of espeak-ng ≥ 1.49.2; unchanged through 1.52) so that no espeak-ng header is compiled into the
// addon: the library is loaded at run time (espeak.cpp). test/espeak-abi-check.cpp holds these declarations
// against the system's header whenever one is installed.
#pragma once

namespace vall_e {
namespace espeak_abi {

constexpr int AUDIO_OUTPUT_SYNCHRONOUS = 2;      // espeak_AUDIO_OUTPUT: no audio device, no callback thread
constexpr int INITIALIZE_DONT_EXIT     = 0x8000; // report a missing data directory instead of calling exit()
constexpr int CHARS_UTF8               = 1;      // textmode of espeak_TextToPhonemes
constexpr int EE_OK                    = 0;      // espeak_ERROR

// espeak_VOICE: only `languages` and `identifier` are read; the layout is the library's.
struct voice {
    const char *  name;
    const char *  languages;  // (priority byte, language name, NUL)…, ended by a zero priority byte
    const char *  identifier; // the voice file within espeak-ng-data/voices
    unsigned char gender;
    unsigned char age;
    unsigned char variant;
    unsigned char xx1;
    int           score;
    void *        spare;
};

using initialize_fn        = int (*)(int output, int buflength, const char * path, int options);
using info_fn              = const char * (*)(const char ** path_data);
using list_voices_fn       = const voice ** (*)(voice * voice_spec);
using set_voice_by_name_fn = int (*)(const char * name);
using text_to_phonemes_fn  = const char * (*)(const void ** textptr, int textmode, int phonememode);

}  // namespace espeak_abi
}  // namespace vall_e
