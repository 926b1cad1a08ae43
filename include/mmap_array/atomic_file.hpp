// Atomic file replacement: bytes go to a fresh temporary file in the target's
// directory and are renamed over the target only once all of them are
// written. Readers (and live mappings of the old file) see the complete old
// file or the complete new one, never a torn mix, and a failed write leaves
// the target untouched and no temporary behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <system_error>

#include "mmap_array/export.hpp"

namespace mmap_array {

namespace detail {
class temp_file;
}

/// Options of an atomic write.
struct write_options {
  /// Also fsync the file before the rename and its directory after it, so the new contents
  /// survive a power loss, not just a crash of the process.
  bool fsync = false;
};

/// Writes a replacement for one file; the replacement appears only on `commit()`.
///
/// Not copyable; destroying an uncommitted writer removes its temporary file.
class MMAP_ARRAY_EXPORT atomic_writer {
 public:
  /// Creates the temporary file beside `path` (a symlink is followed to its target, whose
  /// permission bits the new file takes over); throws os_error.
  explicit atomic_writer(const std::filesystem::path& path, write_options options = {});
  atomic_writer(atomic_writer&& other) noexcept;
  atomic_writer& operator=(atomic_writer&& other) noexcept;
  atomic_writer(const atomic_writer&) = delete;
  atomic_writer& operator=(const atomic_writer&) = delete;
  /// Removes the temporary file unless committed; never throws.
  ~atomic_writer();

  /// Reserves `total_bytes` on disk now, so a full disk fails here with ENOSPC; optional.
  void preallocate(std::uint64_t total_bytes);
  /// Appends `bytes`, looping over partial writes and EINTR; throws os_error, after which the
  /// writer is aborted (its temporary removed): a torn file can never be committed.
  void write(std::span<const std::byte> bytes);
  /// Bytes appended so far.
  std::uint64_t bytes_written() const noexcept { return written_; }
  /// Renames the temporary over the target (after fsync if asked); throws os_error, after
  /// which the target is unchanged and the temporary removed, except when only the final
  /// fsync of the directory fails: the target is then already replaced, but the rename may
  /// not survive a power loss. Throws file_truncated_error, leaving the target unchanged, if
  /// the fault guard absorbed a fault since writing began: data copied from a shrinking
  /// mapping may hold zeros where the file's bytes were. Calls after commit(), abort() or a
  /// failed write throw state_error.
  void commit();
  /// Drops the temporary without touching the target; never throws.
  void abort() noexcept;
  /// True until `commit()`, `abort()` or a failed write.
  bool active() const noexcept { return temp_ != nullptr; }

 private:
  void require_active(const char* operation) const;

  std::filesystem::path path_;  // as given, for messages once the temporary is gone
  std::unique_ptr<detail::temp_file> temp_;
  std::uint64_t written_ = 0;
  std::uint64_t preallocated_ = 0;
  std::uint64_t faults_at_start_ = 0;  // the fault guard's count when writing began
  write_options options_;
};

/// Atomically replaces `path` with the concatenation of `chunks`; throws os_error.
MMAP_ARRAY_EXPORT void write_file_atomically(const std::filesystem::path& path,
                                             std::span<const std::span<const std::byte>> chunks,
                                             write_options options = {});
/// As `write_file_atomically`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT void write_file_atomically(const std::filesystem::path& path,
                                             std::span<const std::span<const std::byte>> chunks,
                                             write_options options, std::error_code& ec) noexcept;

}  // namespace mmap_array
