#include "row_reads.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "aligned_map.hpp"
#include "page_span.hpp"
#include "syscalls.hpp"

namespace mmap_array::detail {
namespace {

// Local filesystems whose reads and shared mappings go through the one page cache.
bool reads_see_the_mapping(const struct statfs& fs) noexcept {
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // ext2 and ext3 too
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case TMPFS_MAGIC:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool row_reads::faults_map_little(const std::byte* byte) noexcept {
  std::call_once(pagemap_opened_, [this] {
    pagemap_ = unique_fd(retry_on_eintr(
        [] { return syscalls().open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0); }));
  });
  if (!pagemap_) return false;
  (void)*static_cast<const volatile std::byte*>(byte);  // the fault the copy would take
  const std::size_t huge = pmd_size();
  const auto address = reinterpret_cast<std::uintptr_t>(byte);
  const std::uintptr_t region = address - address % huge;
  // Half a region away: well outside the 64 KiB a fault maps around a small folio, and
  // inside the 2 MiB that a fault on a 2 MiB folio maps whole.
  const std::uintptr_t probe = address - region < huge / 2 ? address + huge / 2 : address - huge / 2;
  const auto first = reinterpret_cast<std::uintptr_t>(file_->data());
  if (probe < first || probe >= first + file_->size()) return false;
  // One 64-bit entry per page; bit 63 says the page is mapped in this process.
  std::uint64_t entry = 0;
  const auto at = static_cast<off_t>(probe / system_page_size() * sizeof entry);
  const ssize_t n = retry_on_eintr(
      [&] { return syscalls().pread(pagemap_.get(), &entry, sizeof entry, at); });
  return n == static_cast<ssize_t>(sizeof entry) && (entry >> 63) == 0;
}

bool row_reads::ready() noexcept {
  std::call_once(file_opened_, [this] { open_file(); });
  return static_cast<bool>(data_);
}

void row_reads::open_file() noexcept {
  if (!file_->is_open() || file_->mode() == access_mode::copy_on_write) return;
  // Another file now, or one whose reads may not see the mapping: rows are faulted in.
  data_ = reopen_same_file(*path_, file_->identity(), reads_see_the_mapping);
}

void row_reads::read(const std::byte* source, std::size_t length, std::byte* destination) const noexcept {
  const std::uint64_t offset = file_->offset() + static_cast<std::uint64_t>(source - file_->data());
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n = syscalls().pread(data_.get(), destination + done, length - done,
                                       static_cast<off_t>(offset + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      // The file ended or the read failed: the mapping says what these bytes are now (and the
      // fault guard marks the mapping truncated if their pages are gone).
      std::memcpy(destination + done, source + done, length - done);
      return;
    }
  }
}

}  // namespace mmap_array::detail
