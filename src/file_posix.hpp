// Descriptors and files, RAII all the way down: every descriptor the library
// opens is owned by a unique_fd from the moment open() returns.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>

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

/// What a file that is not regular is, for messages: "a FIFO", "a socket", ...
const char* kind_of(mode_t mode) noexcept;

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

/// Writes all of `bytes` at `offset` (pwrite), looping over partial writes and EINTR.
void write_all_at(int fd, std::uint64_t offset, std::span<const std::byte> bytes,
                  const std::filesystem::path& path);

/// Opens for reading the regular file `path` names now, if it is still the file `identity`
/// describes (device and inode) and `accept`, when given, accepts its filesystem; an empty
/// unique_fd otherwise. Nothing else is opened: a FIFO or device put at `path` since is looked
/// at through an O_PATH descriptor, which wakes no writer and touches no device.
unique_fd reopen_same_file(const std::filesystem::path& path, const file_identity& identity,
                           bool (*accept)(const struct statfs&) = nullptr) noexcept;

/// Makes a directory entry durable: fsync of the directory holding `path`; `given` names the
/// file in messages. A directory that no longer exists has nothing left to sync.
void fsync_parent_directory(const std::filesystem::path& path, const std::filesystem::path& given);

}  // namespace mmap_array::detail
