// The pattern every slow native call follows: work on a libuv worker thread, a Promise for the result, and
// C API failures turned into rejections whose Error carries `code` (the vall_e_status name) and the message.
#pragma once

#include "vall_e.h"

#include <napi.h>

#include <string>
#include <utility>

namespace vall_e_addon {

// An Error with `code` set, for synchronous throws and for rejections alike.
inline Napi::Error make_error(Napi::Env env, const std::string & code, const std::string & message) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", Napi::String::New(env, code));
    return error;
}

// Throw (synchronously) as a JS error with a code; used for argument checks on the main thread.
[[noreturn]] inline void throw_error(Napi::Env env, vall_e_status status, const std::string & message) {
    throw make_error(env, vall_e_status_name(status), message);
}

// Base for async calls: subclasses implement Run() (worker thread, returns a status) and Result() (main thread).
class PromiseWorker : public Napi::AsyncWorker {
  public:
    explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

    Napi::Promise Promise() { return deferred_.Promise(); }

  protected:
    virtual vall_e_status Run() = 0;
    virtual Napi::Value   Result(Napi::Env env) = 0;

    // Called on the main thread when the work is over, before the Promise settles, on success and failure alike.
    virtual void Finish() {}

    // Keep a JS object alive (and so its native handle) until the work completes.
    void Retain(const Napi::Object & object) { retained_ = Napi::Persistent(object); }

  private:
    void Execute() final {
        try {
            status_ = Run();
            if (status_ != VALL_E_OK) {
                message_ = vall_e_last_error();
            }
        } catch (...) {
            status_  = VALL_E_ERR_INTERNAL;
            message_ = "internal error: unexpected exception in a worker";
        }
        if (status_ != VALL_E_OK) {
            SetError(message_);
        }
    }

    void OnOK() final {
        Napi::HandleScope scope(Env());
        Finish();
        deferred_.Resolve(Result(Env()));
    }

    void OnError(const Napi::Error &) final {
        Napi::HandleScope scope(Env());
        Finish();
        deferred_.Reject(make_error(Env(), vall_e_status_name(status_), message_).Value());
    }

    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference   retained_;
    vall_e_status           status_ = VALL_E_OK;
    std::string             message_;
};

}  // namespace vall_e_addon
