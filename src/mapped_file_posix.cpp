#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <limits>
#include <string>
#include <utility>

#include "aligned_map.hpp"
#include "capture_error.hpp"
#include "fault_registry.hpp"
#include "checked_math.hpp"
#include "file_posix.hpp"
#include "temp_file.hpp"
#include "mapping_access.hpp"
#include "mmap_array/fault_guard.hpp"
#include "mmap_array/mapped_file.hpp"
#include "syscalls.hpp"

namespace mmap_array {
namespace detail {
namespace {

std::uint64_t page_size() noexcept {
  static const std::uint64_t size = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

std::uint64_t region_length(const file_region& region, std::uint64_t file_size,
                            const std::filesystem::path& path) {
  if (region.offset > file_size) {
    throw layout_error(errc::offset_past_end, "map", path,
                       "offset " + std::to_string(region.offset) +
                           " is past the end of the file (size " + std::to_string(file_size) +
                           ")");
  }
  const std::uint64_t rest = file_size - region.offset;
  if (region.length && *region.length > rest) {
    throw layout_error(errc::range_past_end, "map", path,
                       std::to_string(*region.length) + " bytes at offset " +
                           std::to_string(region.offset) + " end past the end of the file (size " +
                           std::to_string(file_size) + ")");
  }
  return region.length.value_or(rest);
}

mapped_file mapping_access::map(int fd, const file_identity& identity,
                                std::filesystem::path given_path, access_mode mode,
                                std::uint64_t offset, std::uint64_t length) {
  mapped_file file;
  file.path_ = std::move(given_path);
  const std::filesystem::path& path = file.path_;
  file.mode_ = mode;
  file.offset_ = offset;
  file.identity_ = identity;
  if (mode == access_mode::read_write) {
    // flush() reopens the file to fsync it; an absolute path survives a later chdir.
    std::error_code ec;
    file.absolute_path_ = std::filesystem::absolute(path, ec);
    if (ec) throw_os_error(ec.value(), "resolve the path of", path);
  }

  if (length > 0) {
    // mmap wants a page-aligned file offset: map from the page boundary below and point
    // data() at the requested byte.
    const std::uint64_t aligned = offset - offset % page_size();
    const std::uint64_t lead = offset - aligned;
    std::uint64_t mapped = 0;
    if (!checked_add(length, lead, mapped) || mapped > std::numeric_limits<std::size_t>::max() ||
        aligned > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
      throw layout_error(errc::size_overflow, "map", path,
                         std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                             " do not fit in the address space");
    }
    // A private mapping is charged against the commit limit in full unless MAP_NORESERVE;
    // only the pages actually written need memory.
    const int prot = mode == access_mode::read_only ? PROT_READ : PROT_READ | PROT_WRITE;
    const int flags =
        mode == access_mode::copy_on_write ? MAP_PRIVATE | MAP_NORESERVE : MAP_SHARED;
    void* base = map_pmd_aligned(static_cast<std::size_t>(mapped), prot, flags, fd,
                                 static_cast<off_t>(aligned));
    if (base == MAP_FAILED) throw_os_error(errno, "map", path);
    file.base_ = static_cast<std::byte*>(base);
    file.mapped_length_ = static_cast<std::size_t>(mapped);
    file.data_ = file.base_ + lead;
    file.size_ = static_cast<std::size_t>(length);
    file.fault_slot_ = register_mapping(base, file.mapped_length_, prot, aligned, path);
  }
  file.open_ = true;
  return file;
}

mapped_file mapping_access::create(const std::filesystem::path& path,
                                   std::span<const std::byte> prefix, std::uint64_t file_size,
                                   std::uint64_t offset, std::uint64_t length) {
  temp_file temp = temp_file::create_beside(path);
  temp.preallocate(file_size);
  // The new file's descriptor is at offset 0: the prefix overwrites the first zeros.
  if (!prefix.empty()) write_all(temp.fd(), prefix, path);
  struct stat st {};
  if (syscalls().fstat(temp.fd(), &st) != 0) throw_os_error(errno, "stat", path);
  mapped_file file = map(temp.fd(), identity_of(st), path, access_mode::read_write, offset, length);
  temp.commit(false);
  mark_created(file, temp.target());
  fill_in_huge_pages(file);
  return file;
}

// A new file is about to be filled, nearly always from start to end. With MADV_HUGEPAGE,
// filesystems with large folios (ext4 and XFS on recent kernels) give each 2 MiB of it one
// folio, mapped writable with one PMD: filling 80 MB took 43 page faults instead of 2,751
// and 17 ms instead of 29 on the development machine (Linux 6.18, ext4), and the flush
// 27 ms instead of 33. The price is for sparse writers: a 4 KiB write dirties, and
// writeback then writes, the whole 2 MiB folio; advise("nohugepage") opts out. Only a hint:
// kernels without transparent huge pages refuse it, and small pages remain.
void mapping_access::fill_in_huge_pages(mapped_file& file) noexcept {
  if (file.mapped_length_ < pmd_size()) return;
  [[maybe_unused]] const int ignored =
      syscalls().madvise(file.base_, file.mapped_length_, MADV_HUGEPAGE);
}

void mapping_access::mark_created(mapped_file& file, const std::filesystem::path& target) {
  std::error_code ec;
  file.absolute_path_ = std::filesystem::absolute(target, ec);
  if (ec) throw_os_error(ec.value(), "resolve the path of", file.path_);
  file.sync_directory_on_flush_ = true;
}

}  // namespace detail

mapped_file::mapped_file(mapped_file&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      mapped_length_(std::exchange(other.mapped_length_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      offset_(std::exchange(other.offset_, 0)),
      mode_(other.mode_),
      open_(std::exchange(other.open_, false)),
      sync_directory_on_flush_(std::exchange(other.sync_directory_on_flush_, false)),
      fault_slot_(std::exchange(other.fault_slot_, detail::no_fault_slot)),
      path_(std::move(other.path_)),
      absolute_path_(std::move(other.absolute_path_)),
      identity_(other.identity_) {}

mapped_file& mapped_file::operator=(mapped_file&& other) noexcept {
  if (this != &other) {
    close();
    base_ = std::exchange(other.base_, nullptr);
    mapped_length_ = std::exchange(other.mapped_length_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    offset_ = std::exchange(other.offset_, 0);
    mode_ = other.mode_;
    open_ = std::exchange(other.open_, false);
    sync_directory_on_flush_ = std::exchange(other.sync_directory_on_flush_, false);
    fault_slot_ = std::exchange(other.fault_slot_, detail::no_fault_slot);
    path_ = std::move(other.path_);
    absolute_path_ = std::move(other.absolute_path_);
    identity_ = other.identity_;
  }
  return *this;
}

mapped_file::~mapped_file() { close(); }

void mapped_file::close() noexcept {
  // Out of the registry first: once unmapped, the range may be reused by anyone.
  detail::unregister_mapping(std::exchange(fault_slot_, detail::no_fault_slot));
  // munmap can only fail for arguments this object never produces.
  if (base_ != nullptr) detail::syscalls().munmap(base_, mapped_length_);
  base_ = nullptr;
  mapped_length_ = 0;
  data_ = nullptr;
  size_ = 0;
  open_ = false;
  sync_directory_on_flush_ = false;
}

mapped_file mapped_file::open(const std::filesystem::path& path, access_mode mode,
                              file_region region) {
  detail::opened_file file = detail::open_regular_file(path, mode);
  const std::uint64_t length = detail::region_length(region, file.identity.size, path);
  return detail::mapping_access::map(file.fd.get(), file.identity, path, mode, region.offset,
                                     length);
}

mapped_file mapped_file::open(const std::filesystem::path& path, access_mode mode,
                              file_region region, std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return open(path, mode, region); });
}

mapped_file mapped_file::create(const std::filesystem::path& path, std::uint64_t file_size,
                                file_region region) {
  const std::uint64_t length = detail::region_length(region, file_size, path);
  return detail::mapping_access::create(path, {}, file_size, region.offset, length);
}

mapped_file mapped_file::create(const std::filesystem::path& path, std::uint64_t file_size,
                                file_region region, std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return create(path, file_size, region); });
}

bool mapped_file::truncated() const noexcept { return detail::mapping_truncated(fault_slot_); }

std::error_code mapped_file::check_view(std::size_t item_size, std::size_t item_align,
                                        bool want_writable) const noexcept {
  if (!open_) return errc::closed;
  if (want_writable && mode_ == access_mode::read_only) return errc::not_writable;
  if (size_ % item_size != 0) return errc::misaligned;
  if (reinterpret_cast<std::uintptr_t>(data_) % item_align != 0) return errc::misaligned;
  return {};
}

void mapped_file::flush() {
  if (!open_) throw_error(errc::closed, "flush", path_);
  if (truncated()) {
    throw file_truncated_error("flush", path_,
                               "the file shrank under the mapping; writes to the vanished pages "
                               "went to zero pages and cannot reach the file");
  }
  if (mode_ != access_mode::read_write) return;
  if (mapped_length_ > 0 && detail::syscalls().msync(base_, mapped_length_, MS_SYNC) != 0) {
    detail::throw_os_error(errno, "flush", path_, {});
  }
  // The descriptor was closed after mapping, so fsync needs a new one. Only the same inode
  // is synced: if the path is gone or now names another file, this one was deleted or
  // replaced, and msync(MS_SYNC) above has already written its data (Linux syncs the
  // range then). Any other failure to reopen is reported, not passed off as a success.
  detail::unique_fd fd(detail::retry_on_eintr([&] {
    return detail::syscalls().open(absolute_path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  }));
  if (!fd && errno != ENOENT && errno != ENOTDIR) detail::throw_os_error(errno, "sync", path_);
  struct stat st {};
  if (fd && detail::syscalls().fstat(fd.get(), &st) != 0) detail::throw_os_error(errno, "sync", path_);
  if (fd && static_cast<std::uint64_t>(st.st_dev) == identity_.device &&
      static_cast<std::uint64_t>(st.st_ino) == identity_.inode &&
      detail::retry_on_eintr([&] { return detail::syscalls().fsync(fd.get()); }) != 0) {
    detail::throw_os_error(errno, "sync", path_);
  }
  if (sync_directory_on_flush_) {
    detail::fsync_parent_directory(absolute_path_, path_);
    sync_directory_on_flush_ = false;
  }
}

void mapped_file::flush(std::error_code& ec) noexcept {
  detail::capture_error(ec, [&] { flush(); });
}

}  // namespace mmap_array
