// The platform seam: every system call the library makes goes through this
// table, so tests can inject EINTR, EIO, ENOSPC or short writes at any step,
// and a future port replaces one file (syscalls_posix.cpp), not every caller.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace mmap_array::detail {

/// cachestat(2)'s answer, in pages (declared here: libc headers before Linux 6.5 lack it).
struct page_cache_stat {
  std::uint64_t cached = 0;             ///< pages in the page cache
  std::uint64_t dirty = 0;              ///< of which dirty
  std::uint64_t writeback = 0;          ///< of which being written back
  std::uint64_t evicted = 0;            ///< evicted from the cache
  std::uint64_t recently_evicted = 0;   ///< evicted recently
};

struct syscall_table {
  int (*open)(const char* path, int flags, mode_t mode);
  int (*close)(int fd);
  int (*fstat)(int fd, struct stat* st);
  int (*stat)(const char* path, struct stat* st);   // follows symlinks
  int (*lstat)(const char* path, struct stat* st);  // does not
  void* (*mmap)(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset);
  int (*munmap)(void* addr, std::size_t length);
  int (*msync)(void* addr, std::size_t length, int flags);
  int (*fsync)(int fd);
  ssize_t (*write)(int fd, const void* buffer, std::size_t count);
  ssize_t (*pread)(int fd, void* buffer, std::size_t count, off_t offset);
  ssize_t (*pwrite)(int fd, const void* buffer, std::size_t count, off_t offset);
  // posix_fallocate's contract: returns 0 or an errno value, does not set errno.
  int (*fallocate)(int fd, off_t offset, off_t length);
  int (*ftruncate)(int fd, off_t length);
  int (*fchmod)(int fd, mode_t mode);
  int (*rename)(const char* from, const char* to);
  int (*linkat)(int from_dirfd, const char* from, int to_dirfd, const char* to, int flags);
  int (*unlink)(const char* path);
  ssize_t (*readlink)(const char* path, char* buffer, std::size_t size);
  int (*faccessat)(int dirfd, const char* path, int mode, int flags);
  int (*madvise)(void* addr, std::size_t length, int advice);
  int (*mincore)(void* addr, std::size_t length, unsigned char* vector);
  int (*fstatfs)(int fd, struct statfs* st);
  int (*sync_file_range)(int fd, off_t offset, off_t length, unsigned flags);
  // cachestat(2) (Linux 6.5): pages of [offset, offset + length) of the file in the page
  // cache, and how many are dirty; -1 with ENOSYS on older kernels.
  int (*cachestat)(int fd, std::uint64_t offset, std::uint64_t length, struct page_cache_stat* stat);
};

/// The table in use; tests may overwrite entries and must restore them.
syscall_table& syscalls() noexcept;
/// The real system calls, to restore the table or to forward to from a fake.
const syscall_table& real_syscalls() noexcept;

/// Repeats a call that failed with EINTR (retries are written once, here).
template <class Call>
auto retry_on_eintr(Call call) {
  for (;;) {
    auto result = call();
    if (!(result == -1 && errno == EINTR)) return result;
  }
}

}  // namespace mmap_array::detail
