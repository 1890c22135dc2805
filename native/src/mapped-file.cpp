#include "mapped-file.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <cstring>
#include <string>

namespace vall_e {

#if defined(_WIN32)

namespace {

std::wstring widen(const std::string & text) {
    const int n = MultiByteToWideChar(CP_UTF8, 0, text.c_str(), (int) text.size(), nullptr, 0);
    std::wstring out((size_t) (n > 0 ? n : 0), L'\0');
    if (n > 0) MultiByteToWideChar(CP_UTF8, 0, text.c_str(), (int) text.size(), &out[0], n);
    return out;
}

std::string last_error_text() {
    const DWORD code = GetLastError();
    char *      text = nullptr;
    FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                   code, 0, reinterpret_cast<char *>(&text), 0, nullptr);
    std::string message = text ? text : "error " + std::to_string(code);
    if (text) LocalFree(text);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == '.')) message.pop_back();
    return message;
}

}  // namespace

mapped_file::mapped_file(const std::string & path, const char * what) {
    HANDLE file = CreateFileW(widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) {
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Cannot open %s%s: %s", what, path.c_str(), last_error_text().c_str());
    }
    LARGE_INTEGER size;
    if (!GetFileSizeEx(file, &size) || size.QuadPart < 0) {
        const std::string error = last_error_text();
        CloseHandle(file);
        fail(VALL_E_ERR_INVALID_ARGUMENT, "Cannot open %s%s: %s", what, path.c_str(), error.c_str());
    }
    size_ = (size_t) size.QuadPart;
    if (size_ == 0) {
        CloseHandle(file);
        return;
    }
    HANDLE mapping = CreateFileMappingW(file, nullptr, PAGE_READONLY, 0, 0, nullptr);
    void * addr    = mapping ? MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0) : nullptr;
    const std::string error = addr ? "" : last_error_text();
    if (mapping) CloseHandle(mapping); // the view keeps the mapping alive
    CloseHandle(file);
    if (!addr) {
        fail(VALL_E_ERR_OUT_OF_MEMORY, "Cannot map %s%s: %s", what, path.c_str(), error.c_str());
    }
    data_ = static_cast<uint8_t *>(addr);
}

mapped_file::~mapped_file() {
    if (data_) {
        UnmapViewOfFile(data_);
    }
}

void mapped_file::release(size_t, size_t) {} // the system trims a read-only view's pages under pressure

#else

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

void mapped_file::release(size_t offset, size_t bytes) {
    if (!data_ || offset >= size_) return;
    const size_t page  = (size_t) sysconf(_SC_PAGESIZE);
    const size_t begin = (offset + page - 1) / page * page; // whole pages inside the range only
    const size_t end   = (offset + (bytes < size_ - offset ? bytes : size_ - offset)) / page * page;
    if (end > begin) {
        (void) madvise(data_ + begin, end - begin, MADV_DONTNEED); // clean file pages: read again if ever touched
    }
}

#endif

}  // namespace vall_e
