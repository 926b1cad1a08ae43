#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

#include "syscalls.hpp"

namespace mmap_array::detail {
namespace {

const syscall_table kReal = {
    [](const char* path, int flags, mode_t mode) { return ::open(path, flags, mode); },
    ::close,
    ::fstat,
    ::stat,
    ::lstat,
    ::mmap,
    ::munmap,
    ::msync,
    ::fsync,
    ::write,
    ::pread,
    ::pwrite,
    ::posix_fallocate,
    ::ftruncate,
    ::fchmod,
    ::rename,
    ::linkat,
    ::unlink,
    ::readlink,
    ::faccessat,
    ::madvise,
    ::mincore,
    ::fstatfs,
};

syscall_table gTable = kReal;

}  // namespace

syscall_table& syscalls() noexcept { return gTable; }
const syscall_table& real_syscalls() noexcept { return kReal; }

}  // namespace mmap_array::detail
