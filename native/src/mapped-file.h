// A file memory-mapped read-only (POSIX mmap; Windows file mapping): the LM's GGUF (its weights stay in place in the
// mapping) and the EnCodec loader (which reads its records out of it once).
#pragma once

#include "core.h"

#include <string>

namespace vall_e {

class mapped_file {
  public:
    // Map `path`; an empty file maps to no bytes. Fails with VALL_E_ERR_INVALID_ARGUMENT "Cannot open <what><path>:
    // <reason>" when the file cannot be opened (`what` prefixes the path, e.g. "EnCodec weights ").
    explicit mapped_file(const std::string & path, const char * what = "");
    ~mapped_file();
    mapped_file(const mapped_file &)             = delete;
    mapped_file & operator=(const mapped_file &) = delete;

    const uint8_t * data() const { return data_; }
    uint8_t *       data() { return data_; }
    size_t          size() const { return size_; }

    // Drop the whole pages of [offset, offset + bytes) from this process's resident memory (their data was copied
    // elsewhere, e.g. repacked weights); they are read from the file again if touched.
    void release(size_t offset, size_t bytes);

  private:
    uint8_t * data_ = nullptr;
    size_t    size_ = 0;
};

}  // namespace vall_e
