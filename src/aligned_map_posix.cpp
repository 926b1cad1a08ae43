#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "aligned_map.hpp"
#include "syscalls.hpp"

namespace mmap_array::detail {
namespace {

std::size_t page_bytes() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

std::size_t pmd_size() noexcept { return page_bytes() * (page_bytes() / 8); }

void* map_pmd_aligned(std::size_t length, int prot, int flags, int fd, off_t offset) noexcept {
  void* mapped = syscalls().mmap(nullptr, length, prot, flags, fd, offset);
  const std::size_t huge = pmd_size();
  if (mapped == MAP_FAILED || length < huge) return mapped;
  const auto address = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t wanted = static_cast<std::uintptr_t>(offset) % huge;
  if (address % huge == wanted) return mapped;  // the kernel placed it well already

  // Reserve length + huge bytes of address space (no memory: PROT_NONE, MAP_NORESERVE), map
  // the file over the part of it that starts at a well-placed address, and give back the rest.
  const int saved_errno = errno;
  const std::size_t reserved_length = length + huge;
  void* reserved = syscalls().mmap(nullptr, reserved_length, PROT_NONE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) {
    errno = saved_errno;
    return mapped;
  }
  const auto low = reinterpret_cast<std::uintptr_t>(reserved);
  const std::uintptr_t target = low + (wanted + huge - low % huge) % huge;
  void* moved = syscalls().mmap(reinterpret_cast<void*>(target), length, prot, flags | MAP_FIXED,
                                fd, offset);
  if (moved == MAP_FAILED) {
    syscalls().munmap(reserved, reserved_length);
    errno = saved_errno;
    return mapped;
  }
  syscalls().munmap(mapped, length);
  const std::size_t page = page_bytes();
  const std::uintptr_t end = target + (length + page - 1) / page * page;
  if (target > low) syscalls().munmap(reserved, target - low);
  if (low + reserved_length > end) {
    syscalls().munmap(reinterpret_cast<void*>(end), low + reserved_length - end);
  }
  errno = saved_errno;
  return moved;
}

}  // namespace mmap_array::detail
