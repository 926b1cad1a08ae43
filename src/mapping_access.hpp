// The library's one way of turning an open descriptor into a mapped_file: the
// fd is only borrowed, and the caller closes it right after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "mmap_array/mapped_file.hpp"

namespace mmap_array::detail {

struct mapping_access {
  /// Maps `length` bytes at `offset` of the file open as `fd`; `offset + length` must already
  /// be checked against the file size. The mapping keeps `path` (moved in: copying a path
  /// copies each of its components). Throws os_error.
  static mapped_file map(int fd, const file_identity& identity, std::filesystem::path path,
                         access_mode mode, std::uint64_t offset, std::uint64_t length);

  /// Creates a file of `file_size` bytes that starts with `prefix` and is zero after it,
  /// preallocated (a full disk fails here, with ENOSPC, before anything is visible), maps
  /// `length` bytes at `offset` of it read-write, and atomically renames it over `path`.
  /// `prefix.size()` and `offset + length` must not exceed `file_size`. Throws os_error,
  /// after which `path` is untouched and no temporary is left.
  static mapped_file create(const std::filesystem::path& path, std::span<const std::byte> prefix,
                            std::uint64_t file_size, std::uint64_t offset, std::uint64_t length);

  /// Marks a mapping of a file just created at `target` (a symlink already resolved), whose
  /// directory entry flush() must also sync.
  static void mark_created(mapped_file& file, const std::filesystem::path& target);

  /// Advises huge pages over a new file's mapping, which is about to be filled (best effort).
  static void fill_in_huge_pages(mapped_file& file) noexcept;

  /// The absolute path by which a read-write mapping reopens its file (empty for others).
  static const std::filesystem::path& absolute_path(const mapped_file& file) noexcept {
    return file.absolute_path_;
  }

  /// Makes `file`, a new mapping of the file `from` maps (the same inode), take over `from`'s
  /// absolute path and pending directory sync, with `identity` as the file is now.
  static void succeed(mapped_file& file, const mapped_file& from,
                      const file_identity& identity) {
    file.absolute_path_ = from.absolute_path_;
    file.sync_directory_on_flush_ = from.sync_directory_on_flush_;
    file.identity_ = identity;
  }
};

/// Resolves `region` against a file of `file_size` bytes into a length; throws layout_error.
std::uint64_t region_length(const file_region& region, std::uint64_t file_size,
                            const std::filesystem::path& path);

}  // namespace mmap_array::detail
