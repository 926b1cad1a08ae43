// Rows of a mapped file read with pread instead of page faults, for take_rows.
//
// A fault on a page of the page cache maps the pages around it too. When the
// cache holds the file in 2 MiB folios one fault maps all 2 MiB, and faulting
// is the cheapest way in. A file cached in small folios (written in small
// pieces, or through a mapping) costs a fault per row instead, each mapping and
// later unmapping 16 pages. Measured in C++ on a warm 4 GiB file, 20,000
// random 4 KiB rows on 2 threads through a fresh mapping, unmap included:
// small folios 80 ms by faults, 21 ms by pread; 2 MiB folios 14 ms by faults,
// 19.5 ms by pread (an in-RAM gather: 17 ms). So each batch of rows is read
// the way that suits how its pages are cached.
#pragma once

#include <cstddef>

#include "file_posix.hpp"
#include "mmap_array/mapped_file.hpp"

namespace mmap_array::detail {

/// Rows at or above this size may be read with pread; smaller ones share pages, and a
/// system call per row would cost more than the faults.
inline constexpr std::size_t kMinReadRowBytes = 2048;

/// A second way into a mapping's file: pread through another descriptor of the same file,
/// and /proc/self/pagemap to tell when that beats faulting pages in.
class row_reads {
 public:
  /// Opens the file at `file.path()` again and /proc/self/pagemap. Not usable when either
  /// fails, when the path now names another file, or for a private mapping (whose pages
  /// may differ from the file's).
  explicit row_reads(const mapped_file& file) noexcept;

  bool usable() const noexcept { return static_cast<bool>(data_) && static_cast<bool>(pagemap_); }

  /// Faults in the page holding `byte` (as copying it would) and tells whether that mapped
  /// only the small window around it: true when a page of the same 2 MiB region half a
  /// region away is still unmapped, the sign of a file cached in small folios. False when
  /// it cannot tell.
  bool faults_map_little(const std::byte* byte) const noexcept;

  /// Copies the `length` bytes of the mapping at `source` to `destination` with pread.
  /// False if the file ended first (it shrank): the rest is then zero-filled, as the
  /// mapping reads vanished pages. Other read errors copy through the mapping instead,
  /// where the fault guard reports them as it does for every copy.
  bool read(const std::byte* source, std::size_t length, std::byte* destination) const noexcept;

 private:
  const mapped_file* file_;
  unique_fd data_;
  unique_fd pagemap_;
};

}  // namespace mmap_array::detail
