// Descriptors and files, RAII all the way down: every descriptor the library
// opens is owned by a unique_fd from the moment open() returns.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "mmap_array/mapped_file.hpp"

namespace mmap_array::detail {

/// Owns one file descriptor; closes it on destruction.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept;
  void reset() noexcept;
  /// Closes now and reports close(2)'s error (which can carry a late write error).
  int close_checked() noexcept;

 private:
  int fd_ = -1;
};

/// Throws os_error for `err` (an errno value captured right after the failing call).
[[noreturn]] void throw_os_error(int err, std::string_view operation,
                                 const std::filesystem::path& path, std::string_view detail = {});

/// Converts fstat's answer into the library's identity record.
file_identity identity_of(const struct stat& st) noexcept;

/// A descriptor of a regular file and what fstat said about it.
struct opened_file {
  unique_fd fd;
  file_identity identity;
};

/// Opens `path` for `mode` (read-write only for read_write) and checks that it is a regular
/// file: a directory is EISDIR, a FIFO, socket or device ENODEV; throws os_error.
opened_file open_regular_file(const std::filesystem::path& path, access_mode mode);

/// Reads exactly `buffer.size()` bytes at `offset`, looping over short reads and EINTR;
/// throws os_error, or format_error(truncated) if the file ends first (it was checked to be
/// long enough, so it shrank, or lied about its size).
void read_exact(int fd, std::uint64_t offset, std::span<std::byte> buffer,
                const std::filesystem::path& path);

/// Writes all of `bytes` at the current offset, looping over partial writes and EINTR.
void write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path);

/// Makes a directory entry durable: fsync of the directory holding `path`; `given` names the
/// file in messages. A directory that no longer exists has nothing left to sync.
void fsync_parent_directory(const std::filesystem::path& path, const std::filesystem::path& given);

/// A new, exclusively created file beside a target, renamed over it on commit and removed
/// if destroyed uncommitted. The one way the library creates or replaces files.
class temp_file {
 public:
  /// Creates `.<name>.<random>.tmp` in the directory of `target` (following a symlink
  /// `target` to the file it names); the new file takes the existing target's permission
  /// bits, or 0666 minus the umask. Throws os_error naming `target`.
  static temp_file create_beside(const std::filesystem::path& target);

  temp_file(temp_file&& other) noexcept;
  temp_file& operator=(temp_file&&) = delete;
  temp_file(const temp_file&) = delete;
  ~temp_file();

  int fd() const noexcept { return fd_.get(); }
  /// The path as the caller gave it, for messages.
  const std::filesystem::path& given() const noexcept { return given_; }
  /// The path the rename replaces.
  const std::filesystem::path& target() const noexcept { return target_; }
  /// The temporary's own path.
  const std::filesystem::path& path() const noexcept { return temp_; }

  /// Allocates disk blocks for `bytes` bytes, so a full disk fails here with ENOSPC.
  void preallocate(std::uint64_t bytes);
  /// Sets the file's length.
  void truncate(std::uint64_t bytes);
  /// [fsync], close, rename over the target, [fsync of the directory]; throws os_error,
  /// after which the temporary is removed and the target untouched.
  void commit(bool durable);
  /// Closes and removes the temporary; never throws.
  void discard() noexcept;

 private:
  temp_file(unique_fd fd, std::filesystem::path given, std::filesystem::path target,
            std::filesystem::path temp) noexcept;

  unique_fd fd_;
  std::filesystem::path given_;
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool pending_ = true;  // the temporary exists on disk and must be renamed or removed
};

}  // namespace mmap_array::detail
