#include "row_reads.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "aligned_map.hpp"
#include "page_span.hpp"
#include "syscalls.hpp"

namespace mmap_array::detail {

row_reads::row_reads(const mapped_file& file) noexcept : file_(&file) {
  if (!file.is_open() || file.mode() == access_mode::copy_on_write || file.size() == 0) return;
  try {
    opened_file opened = open_regular_file(file.path(), access_mode::read_only);
    // A relative path after a chdir, or a file renamed over the mapped one, names another
    // file: its bytes are not the mapping's.
    if (opened.identity.device != file.identity().device ||
        opened.identity.inode != file.identity().inode) {
      return;
    }
    data_ = std::move(opened.fd);
  } catch (...) {
    return;  // no way in but the mapping: the rows are faulted in, as before
  }
  pagemap_ = unique_fd(retry_on_eintr(
      [] { return syscalls().open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0); }));
}

bool row_reads::faults_map_little(const std::byte* byte) const noexcept {
  (void)*static_cast<const volatile std::byte*>(byte);  // the fault the copy would take
  const std::size_t huge = pmd_size();
  const auto address = reinterpret_cast<std::uintptr_t>(byte);
  const std::uintptr_t region = address - address % huge;
  // Half a region away, well outside the 64 KiB a fault maps around a small folio, and
  // inside the same 2 MiB that a fault on a 2 MiB folio maps whole.
  const std::uintptr_t probe = address - region < huge / 2 ? address + huge / 2 : address - huge / 2;
  const auto first = reinterpret_cast<std::uintptr_t>(file_->data());
  if (probe < first || probe >= first + file_->size()) return false;
  // One 64-bit entry per page; bit 63 says the page is mapped in this process.
  std::uint64_t entry = 0;
  const auto at = static_cast<off_t>(probe / system_page_size() * sizeof entry);
  const ssize_t n = retry_on_eintr([&] { return syscalls().pread(pagemap_.get(), &entry, sizeof entry, at); });
  return n == static_cast<ssize_t>(sizeof entry) && (entry >> 63) == 0;
}

bool row_reads::read(const std::byte* source, std::size_t length, std::byte* destination) const noexcept {
  const std::uint64_t offset = file_->offset() + static_cast<std::uint64_t>(source - file_->data());
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n = syscalls().pread(data_.get(), destination + done, length - done,
                                       static_cast<off_t>(offset + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      std::memset(destination + done, 0, length - done);
      return false;
    } else if (errno != EINTR) {
      std::memcpy(destination + done, source + done, length - done);
      return true;
    }
  }
  return true;
}

}  // namespace mmap_array::detail
