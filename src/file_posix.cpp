#include "file_posix.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "fault_registry.hpp"
#include "mmap_array/fault_guard.hpp"
#include "syscalls.hpp"

namespace mmap_array::detail {

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int unique_fd::release() noexcept { return std::exchange(fd_, -1); }

void unique_fd::reset() noexcept {
  // close(2) is not retried on EINTR: Linux has released the descriptor either way.
  if (fd_ >= 0) syscalls().close(std::exchange(fd_, -1));
}

int unique_fd::close_checked() noexcept {
  if (fd_ < 0) return 0;
  return syscalls().close(std::exchange(fd_, -1)) == 0 ? 0 : errno;
}

void throw_os_error(int err, std::string_view operation, const std::filesystem::path& path,
                    std::string_view detail) {
  throw os_error(std::error_code(err, std::system_category()), operation, path, detail);
}

file_identity identity_of(const struct stat& st) noexcept {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

const char* kind_of(mode_t mode) noexcept {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

opened_file open_regular_file(const std::filesystem::path& path, access_mode mode) {
  // O_NONBLOCK keeps open() of a FIFO from waiting for a writer; it changes nothing for
  // regular files, and the descriptor lives only until the range is mapped.
  const int flags = (mode == access_mode::read_write ? O_RDWR : O_RDONLY) | O_CLOEXEC |
                    O_NOCTTY | O_NONBLOCK;
  unique_fd fd(retry_on_eintr([&] { return syscalls().open(path.c_str(), flags, 0); }));
  if (!fd) {
    const int err = errno;
    // open(2) refuses a socket with ENXIO before fstat could name it; report it as every
    // other file that is not regular.
    struct stat st {};
    if (err == ENXIO && syscalls().stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      throw_os_error(ENODEV, "map", path, std::string("not a regular file (") +
                                              kind_of(st.st_mode) + ")");
    }
    throw_os_error(err, "open", path);
  }

  struct stat st {};
  if (syscalls().fstat(fd.get(), &st) != 0) throw_os_error(errno, "stat", path);
  if (S_ISDIR(st.st_mode)) throw_os_error(EISDIR, "map", path);
  if (!S_ISREG(st.st_mode)) {
    throw_os_error(ENODEV, "map", path, std::string("not a regular file (") +
                                            kind_of(st.st_mode) + ")");
  }
  return {std::move(fd), identity_of(st)};
}

void read_exact(int fd, std::uint64_t offset, std::span<std::byte> buffer,
                const std::filesystem::path& path) {
  while (!buffer.empty()) {
    if (offset > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
      throw_os_error(EOVERFLOW, "read", path);
    }
    const std::size_t chunk = std::min(buffer.size(), std::size_t{1} << 30);
    const ssize_t n = retry_on_eintr([&] {
      return syscalls().pread(fd, buffer.data(), chunk, static_cast<off_t>(offset));
    });
    if (n < 0) throw_os_error(errno, "read", path);
    if (n == 0) {
      throw format_error(format_errc::truncated, "read", path,
                         "the file ends at byte " + std::to_string(offset) + ", " +
                             std::to_string(buffer.size()) + " bytes before what it declares");
    }
    buffer = buffer.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

namespace {

// A failed write of `source`: EFAULT means the kernel could not read it, and if it is one of
// our mappings, its file shrank.
[[noreturn]] void throw_write_error(int err, const std::byte* source,
                                    const std::filesystem::path& path) {
  if (err == EFAULT) {
    const std::size_t slot = find_mapping(source);
    if (slot != no_fault_slot) {
      mark_mapping_truncated(slot);
      throw file_truncated_error("write", path,
                                 "its data comes from a mapping of '" +
                                     mapping_path(slot).string() + "', which shrank under it");
    }
  }
  throw_os_error(err, "write", path);
}

}  // namespace

void write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path) {
  // Linux moves at most 0x7ffff000 bytes per write(2); a smaller bound keeps every
  // request well inside that and inside ssize_t.
  constexpr std::size_t kMaxChunk = std::size_t{1} << 30;
  while (!bytes.empty()) {
    const std::size_t chunk = std::min(bytes.size(), kMaxChunk);
    const ssize_t n =
        retry_on_eintr([&] { return syscalls().write(fd, bytes.data(), chunk); });
    if (n < 0) throw_write_error(errno, bytes.data(), path);
    if (n == 0) throw_os_error(EIO, "write", path, "write(2) made no progress");
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

void write_all_at(int fd, std::uint64_t offset, std::span<const std::byte> bytes,
                  const std::filesystem::path& path) {
  constexpr std::size_t kMaxChunk = std::size_t{1} << 30;  // as write_all
  while (!bytes.empty()) {
    if (offset > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
      throw_os_error(EFBIG, "write", path);
    }
    const std::size_t chunk = std::min(bytes.size(), kMaxChunk);
    const ssize_t n = retry_on_eintr([&] {
      return syscalls().pwrite(fd, bytes.data(), chunk, static_cast<off_t>(offset));
    });
    if (n < 0) throw_write_error(errno, bytes.data(), path);
    if (n == 0) throw_os_error(EIO, "write", path, "pwrite(2) made no progress");
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

void fsync_parent_directory(const std::filesystem::path& path, const std::filesystem::path& given) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  unique_fd fd(retry_on_eintr([&] {
    return syscalls().open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  }));
  if (!fd && (errno == ENOENT || errno == ENOTDIR)) return;
  if (!fd) throw_os_error(errno, "open the directory of", given);
  // EINVAL: this filesystem cannot sync directories; nothing more can be done for it.
  if (retry_on_eintr([&] { return syscalls().fsync(fd.get()); }) != 0 && errno != EINVAL) {
    throw_os_error(errno, "sync the directory of", given);
  }
}

unique_fd reopen_same_file(const std::filesystem::path& path, const file_identity& identity,
                           bool (*accept)(const struct statfs&)) noexcept {
  const unique_fd handle(retry_on_eintr(
      [&] { return syscalls().open(path.c_str(), O_PATH | O_CLOEXEC, 0); }));
  if (!handle) return {};
  struct stat st {};
  if (syscalls().fstat(handle.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_dev) != identity.device ||
      static_cast<std::uint64_t>(st.st_ino) != identity.inode) {
    return {};
  }
  struct statfs fs {};
  if (accept != nullptr && (syscalls().fstatfs(handle.get(), &fs) != 0 || !accept(fs))) return {};
  // The very inode just checked, opened for reading through its descriptor's link.
  const std::string link = "/proc/self/fd/" + std::to_string(handle.get());
  return unique_fd(retry_on_eintr(
      [&] { return syscalls().open(link.c_str(), O_RDONLY | O_CLOEXEC, 0); }));
}

}  // namespace mmap_array::detail
