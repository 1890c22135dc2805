#include "mapped-file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vall_e {

mapped_file::mapped_file(const std::string & path, const char * what) {
    const int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Cannot open %s%s: %s", what, path.c_str(), std::strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        const int error = errno;
        close(fd);
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Cannot open %s%s: %s", what, path.c_str(), std::strerror(error));
    }
    size_ = (size_t) st.st_size;
    if (size_ == 0) {
        close(fd);
        return;
    }
    void * addr = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int error = errno;
    close(fd);
    if (addr == MAP_FAILED) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "Cannot map %s%s: %s", what, path.c_str(), std::strerror(error));
    }
    data_ = static_cast<uint8_t *>(addr);
}

mapped_file::~mapped_file() {
    if (data_) {
        munmap(data_, size_);
    }
}

}  // namespace vall_e
