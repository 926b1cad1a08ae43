// mapped_file: a move-only owner of one memory mapping of a byte range of a
// file. The file descriptor is closed as soon as the range is mapped, so a
// process can hold many thousands of mappings without running out of
// descriptors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>

#include "mmap_array/error.hpp"

namespace mmap_array {

namespace detail {
struct mapping_access;  // the library's own constructor of mapped_file objects
}

/// How a file is mapped.
enum class access_mode {
  read_only,      ///< reads only; writing to the memory faults, so views are const
  read_write,     ///< shared: writes reach the file (and other processes mapping it)
  copy_on_write,  ///< private: writes stay in this process, the file never changes
};

/// A byte range of a file: `length` empty means "to the end of the file".
struct file_region {
  std::uint64_t offset = 0;                ///< first byte, any value (no page alignment needed)
  std::optional<std::uint64_t> length{};  ///< number of bytes, or the rest of the file
};

/// Identity of the file a mapping was made from (as fstat reported it at open).
struct file_identity {
  std::uint64_t device = 0;             ///< st_dev
  std::uint64_t inode = 0;              ///< st_ino
  std::uint64_t size = 0;               ///< st_size, in bytes
  std::int64_t modified_ns = 0;         ///< st_mtim, nanoseconds since the epoch
  friend bool operator==(const file_identity&, const file_identity&) = default;
};

/// The identity of the file at `path` now (stat(2), following symlinks), to compare with a
/// mapping's `identity()`; throws os_error (ENOENT if there is no such file).
MMAP_ARRAY_EXPORT file_identity identify_file(const std::filesystem::path& path);
/// As `identify_file`; on failure sets `ec` and returns an all-zero identity.
MMAP_ARRAY_EXPORT file_identity identify_file(const std::filesystem::path& path,
                                              std::error_code& ec) noexcept;

/// A move-only RAII mapping of a byte range of a file.
///
/// Each fallible call comes in two forms: one throws (`os_error`,
/// `layout_error`, `state_error`), the other is `noexcept` and reports the
/// same condition through a `std::error_code&`.
class MMAP_ARRAY_EXPORT mapped_file {
 public:
  /// An empty, closed mapping.
  mapped_file() noexcept = default;
  mapped_file(mapped_file&& other) noexcept;
  mapped_file& operator=(mapped_file&& other) noexcept;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  /// Unmaps; never throws.
  ~mapped_file();

  /// Maps `region` of the existing regular file at `path`; throws os_error or layout_error.
  static mapped_file open(const std::filesystem::path& path, access_mode mode,
                          file_region region = {});
  /// Maps `region` of the file at `path`; on failure sets `ec` and returns a closed mapping.
  static mapped_file open(const std::filesystem::path& path, access_mode mode, file_region region,
                          std::error_code& ec) noexcept;

  /// Creates a zero-filled, preallocated file of `file_size` bytes that atomically replaces
  /// `path`, and maps `region` of it read-write; throws os_error (ENOSPC when the disk is full,
  /// the old file then untouched) or layout_error. A mapping of 2 MiB or more is advised
  /// MADV_HUGEPAGE, since a new file is usually filled whole (see access_advice::nohugepage).
  static mapped_file create(const std::filesystem::path& path, std::uint64_t file_size,
                            file_region region = {});
  /// As `create`, reporting failure through `ec`.
  static mapped_file create(const std::filesystem::path& path, std::uint64_t file_size,
                            file_region region, std::error_code& ec) noexcept;

  /// True until `close()` (or a move from this object).
  bool is_open() const noexcept { return open_; }
  /// First byte of the requested range (nullptr when the range is empty).
  std::byte* data() noexcept { return data_; }
  /// First byte of the requested range (nullptr when the range is empty).
  const std::byte* data() const noexcept { return data_; }
  /// Bytes in the requested range (not rounded to pages).
  std::size_t size() const noexcept { return size_; }
  /// Bytes actually mapped: the range widened down to a page boundary, 0 when empty.
  std::size_t mapped_length() const noexcept { return mapped_length_; }
  /// File offset of `data()`.
  std::uint64_t offset() const noexcept { return offset_; }
  /// The access mode the range was mapped with.
  access_mode mode() const noexcept { return mode_; }
  /// True when the memory may be written (read_write or copy_on_write).
  bool writable() const noexcept { return mode_ != access_mode::read_only; }
  /// The path as given when the mapping was made.
  const std::filesystem::path& path() const noexcept { return path_; }
  /// The file's identity at the time it was mapped.
  const file_identity& identity() const noexcept { return identity_; }
  /// True once the fault guard found pages of this mapping gone from the file (they now read
  /// as zeros; see fault_guard.hpp).
  bool truncated() const noexcept;

  /// A typed view of the whole range; throws layout_error if the size is not a multiple
  /// of sizeof(T), the data is misaligned for T, or T is not const and the mapping is
  /// read-only; state_error if closed.
  template <class T>
  std::span<T> as_span() {
    std::error_code ec;
    std::span<T> view = as_span<T>(ec);
    if (ec) throw_error(ec, "view", path_);
    return view;
  }
  /// A typed view of the whole range; on failure sets `ec` and returns an empty span.
  template <class T>
  std::span<T> as_span(std::error_code& ec) noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "mapped memory holds trivially copyable types");
    ec = check_view(sizeof(T), alignof(T), !std::is_const_v<T>);
    if (ec) return {};
    return {reinterpret_cast<T*>(data_), size_ / sizeof(T)};
  }

  /// A read-only typed view of a const mapping; T must be const. Throws as the non-const form.
  template <class T>
  std::span<T> as_span() const {
    static_assert(std::is_const_v<T>, "a const mapped_file gives views of const elements");
    return const_cast<mapped_file*>(this)->as_span<T>();
  }
  /// A read-only typed view of a const mapping; on failure sets `ec` and returns an empty span.
  template <class T>
  std::span<T> as_span(std::error_code& ec) const noexcept {
    static_assert(std::is_const_v<T>, "a const mapped_file gives views of const elements");
    return const_cast<mapped_file*>(this)->as_span<T>(ec);
  }

  /// Writes dirty pages of a read_write mapping to disk (msync, then fsync of the file and,
  /// after `create`, of its directory); no-op for other modes; throws os_error or state_error.
  void flush();
  /// As `flush`, reporting failure through `ec`.
  void flush(std::error_code& ec) noexcept;

  /// Unmaps the range; idempotent, never throws.
  void close() noexcept;

 private:
  friend struct detail::mapping_access;
  std::error_code check_view(std::size_t item_size, std::size_t item_align,
                             bool want_writable) const noexcept;

  std::byte* base_ = nullptr;         // page-aligned start of the mapping
  std::size_t mapped_length_ = 0;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::uint64_t offset_ = 0;
  access_mode mode_ = access_mode::read_only;
  bool open_ = false;
  bool sync_directory_on_flush_ = false;  // set by create(): the new name must reach the disk
  std::size_t fault_slot_ = static_cast<std::size_t>(-1);  // in the fault guard's registry
  std::filesystem::path path_;
  std::filesystem::path absolute_path_;  // for flush's reopen, immune to later chdir
  file_identity identity_;
};

}  // namespace mmap_array
