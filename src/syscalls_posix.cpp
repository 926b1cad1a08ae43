#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "syscalls.hpp"

namespace mmap_array::detail {
namespace {

#ifndef SYS_cachestat
#define SYS_cachestat 451  // the same number on every architecture (Linux 6.5)
#endif

int cachestat(int fd, std::uint64_t offset, std::uint64_t length, page_cache_stat* stat) {
  struct {
    std::uint64_t offset;
    std::uint64_t length;
  } range{offset, length};
  static_assert(sizeof(page_cache_stat) == 5 * sizeof(std::uint64_t), "struct cachestat");
  return static_cast<int>(::syscall(SYS_cachestat, fd, &range, stat, 0));
}

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
    [](int fd, off_t offset, off_t length, unsigned flags) {
      return ::sync_file_range(fd, offset, length, flags);
    },
    cachestat,
};

syscall_table gTable = kReal;

}  // namespace

syscall_table& syscalls() noexcept { return gTable; }
const syscall_table& real_syscalls() noexcept { return kReal; }

}  // namespace mmap_array::detail
