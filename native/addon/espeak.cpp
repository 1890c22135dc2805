// espeak-ng for JS: espeakInit() and espeakTextToPhonemes(), both on worker threads (the core serialises them).
#include "addon.h"

#include <string>
#include <utility>
#include <vector>

namespace vall_e_addon {
namespace {

class InitWorker : public PromiseWorker {
  public:
    InitWorker(Napi::Env env, std::string data_path, bool has_path)
        : PromiseWorker(env), data_path_(std::move(data_path)), has_path_(has_path) {}

    ~InitWorker() override { vall_e_string_free(languages_); }

  protected:
    vall_e_status Run() override {
        const vall_e_status status =
            vall_e_espeak_init(has_path_ ? data_path_.c_str() : nullptr, &version_, &data_dir_);
        if (status != VALL_E_OK) {
            return status;
        }
        return vall_e_espeak_languages(&languages_);
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object out = Napi::Object::New(env);
        out.Set("version", version_ ? version_ : "");
        out.Set("dataDir", data_dir_ ? data_dir_ : "");
        out.Set("languages", languages_ ? languages_ : "");
        return out;
    }

  private:
    std::string  data_path_;
    bool         has_path_;
    const char * version_   = nullptr;
    const char * data_dir_  = nullptr;
    char *       languages_ = nullptr;
};

class TextToPhonemesWorker : public PromiseWorker {
  public:
    TextToPhonemesWorker(Napi::Env env, std::string language, std::vector<std::string> texts)
        : PromiseWorker(env), language_(std::move(language)), texts_(std::move(texts)) {}

  protected:
    vall_e_status Run() override {
        results_.reserve(texts_.size());
        for (const std::string & text : texts_) {
            char *              out    = nullptr;
            const vall_e_status status = vall_e_espeak_text_to_phonemes(language_.c_str(), text.c_str(), &out);
            if (status != VALL_E_OK) {
                return status;
            }
            results_.emplace_back(out);
            vall_e_string_free(out);
        }
        return VALL_E_OK;
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Array out = Napi::Array::New(env, results_.size());
        for (size_t i = 0; i < results_.size(); ++i) {
            out.Set((uint32_t) i, results_[i]);
        }
        return out;
    }

  private:
    std::string              language_;
    std::vector<std::string> texts_;
    std::vector<std::string> results_;
};

std::string string_arg(const Napi::Env & env, const Napi::Value & value, const char * name) {
    if (!value.IsString()) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, std::string("Expected a string for ") + name);
    }
    std::string text = value.As<Napi::String>().Utf8Value();
    if (text.find('\0') != std::string::npos) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, std::string("Expected no NUL character in ") + name);
    }
    return text;
}

}  // namespace

// espeakLibrary() → { path: string } when the system's libespeak-ng loads, else { problem: string } (what to install)
Napi::Value EspeakLibrary(const Napi::CallbackInfo & info) {
    Napi::Env    env     = info.Env();
    const char * problem = nullptr;
    const char * path    = vall_e_espeak_library(&problem);
    Napi::Object result  = Napi::Object::New(env);
    if (path) {
        result.Set("path", Napi::String::New(env, path));
    } else {
        result.Set("problem", Napi::String::New(env, problem ? problem : "espeak-ng could not be loaded"));
    }
    return result;
}

// espeakInit(dataPath?: string) → Promise<{ version, dataDir, languages: "lang\tvoice\n..." }>
Napi::Value EspeakInit(const Napi::CallbackInfo & info) {
    Napi::Env  env      = info.Env();
    const bool has_path = info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull();
    auto *     worker   = new InitWorker(env, has_path ? string_arg(env, info[0], "dataPath") : "", has_path);
    worker->Queue();
    return worker->Promise();
}

// espeakTextToPhonemes(language: string, texts: string[]) → Promise<string[]>
Napi::Value EspeakTextToPhonemes(const Napi::CallbackInfo & info) {
    Napi::Env         env      = info.Env();
    const std::string language = string_arg(env, info[0], "language");
    if (!info[1].IsArray()) {
        throw_error(env, VALL_E_ERR_INVALID_ARGUMENT, "Expected an array of strings for texts");
    }
    Napi::Array              array = info[1].As<Napi::Array>();
    std::vector<std::string> texts;
    texts.reserve(array.Length());
    for (uint32_t i = 0; i < array.Length(); ++i) {
        texts.push_back(string_arg(env, array.Get(i), "texts[i]"));
    }
    auto * worker = new TextToPhonemesWorker(env, language, std::move(texts));
    worker->Queue();
    return worker->Promise();
}

}  // namespace vall_e_addon
