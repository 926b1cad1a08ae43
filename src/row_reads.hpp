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
//
// A read must return what the mapping holds. On the local filesystems listed
// in row_reads_posix.cpp both go through the one page cache; elsewhere they may
// not (overlayfs maps a lower layer that a fresh open no longer reads; FUSE
// direct_io, 9p or CIFS without a cache read around it), and rows are faulted
// in as before.
#pragma once

#include <cstddef>
#include <mutex>

#include "file_posix.hpp"
#include "mmap_array/mapped_file.hpp"

namespace mmap_array::detail {

/// Rows at or above this size may be read with pread; smaller ones share pages, and a
/// system call per row would cost more than the faults.
inline constexpr std::size_t kMinReadRowBytes = 2048;

/// A second way into a mapping's file: pread through another descriptor of the same file,
/// and /proc/self/pagemap to tell when that beats faulting pages in. Opens nothing until a
/// batch needs it; safe to share between threads.
class row_reads {
 public:
  /// Reads `file` through `reopen_path` (empty: the mapping's path); both must outlive this.
  row_reads(const mapped_file& file, const std::filesystem::path& reopen_path) noexcept
      : file_(&file), path_(reopen_path.empty() ? &file.path() : &reopen_path) {}

  /// Faults in the page holding `byte` (as copying it would) and tells whether that mapped
  /// only the small window around it: true when a page of the same 2 MiB region half a
  /// region away is still unmapped, the sign of a file cached in small folios. False when
  /// it cannot tell.
  bool faults_map_little(const std::byte* byte) noexcept;

  /// True if rows can be read with pread: the mapping is shared, and the path still names
  /// the mapped file (device and inode), a regular file on a filesystem whose reads see
  /// the mapping's pages. The file is opened on the first call.
  bool ready() noexcept;

  /// Copies the `length` bytes of the mapping at `source` to `destination`, with pread as
  /// far as the file goes. What pread cannot give (the file ended: it shrank; a read error)
  /// is copied through the mapping, where the fault guard handles it as for every copy.
  void read(const std::byte* source, std::size_t length, std::byte* destination) const noexcept;

 private:
  void open_file() noexcept;

  const mapped_file* file_;
  const std::filesystem::path* path_;  // the file's, or the one take_options gave
  std::once_flag pagemap_opened_;
  std::once_flag file_opened_;
  unique_fd pagemap_;
  unique_fd data_;
};

}  // namespace mmap_array::detail
