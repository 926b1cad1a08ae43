#include "file_posix.hpp"

#include <fcntl.h>
#include <sys/random.h>
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

namespace {

const char* kind_of(mode_t mode) noexcept {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace

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

void write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path) {
  // Linux moves at most 0x7ffff000 bytes per write(2); a smaller bound keeps every
  // request well inside that and inside ssize_t.
  constexpr std::size_t kMaxChunk = std::size_t{1} << 30;
  while (!bytes.empty()) {
    const std::size_t chunk = std::min(bytes.size(), kMaxChunk);
    const ssize_t n =
        retry_on_eintr([&] { return syscalls().write(fd, bytes.data(), chunk); });
    if (n < 0 && errno == EFAULT) {
      // The kernel cannot read the source: if it is one of our mappings, its file shrank.
      const std::size_t slot = find_mapping(bytes.data());
      if (slot != no_fault_slot) {
        mark_mapping_truncated(slot);
        throw file_truncated_error("write", path,
                                   "its data comes from a mapping of '" +
                                       mapping_path(slot).string() + "', which shrank under it");
      }
    }
    if (n < 0) throw_os_error(errno, "write", path);
    if (n == 0) throw_os_error(EIO, "write", path, "write(2) made no progress");
    bytes = bytes.subspan(static_cast<std::size_t>(n));
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

namespace {

std::string random_hex() {
  std::uint64_t bits = 0;
  if (getrandom(&bits, sizeof bits, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bits)) {
    // No entropy source: the name only has to be unlikely to collide, and O_EXCL
    // catches a collision anyway.
    bits = static_cast<std::uint64_t>(
               std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (static_cast<std::uint64_t>(getpid()) << 32);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}

// Follows symlinks at `given`, so an atomic replace updates the file a link names (as a
// plain write would, even when that file does not exist yet) instead of replacing the link.
std::filesystem::path resolve_target(const std::filesystem::path& given) {
  constexpr int kMaxLinks = 40;  // Linux's own limit on links followed in one lookup
  std::filesystem::path target = given;
  for (int hops = 0;; ++hops) {
    struct stat st {};
    if (syscalls().lstat(target.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return target;
    if (hops == kMaxLinks) throw_os_error(ELOOP, "replace", given);
    std::string destination(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
    const ssize_t n = syscalls().readlink(target.c_str(), destination.data(), destination.size());
    if (n < 0) throw_os_error(errno, "resolve the symlink", given);
    destination.resize(static_cast<std::size_t>(n));
    const std::filesystem::path next(destination);
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
}

}  // namespace

temp_file::temp_file(unique_fd fd, std::filesystem::path given, std::filesystem::path target,
                     std::filesystem::path temp) noexcept
    : fd_(std::move(fd)),
      given_(std::move(given)),
      target_(std::move(target)),
      temp_(std::move(temp)) {}

temp_file temp_file::create_beside(const std::filesystem::path& given) {
  std::filesystem::path target = resolve_target(given);
  if (!target.has_filename()) throw_os_error(EISDIR, "replace", given);

  struct stat existing {};
  const bool exists = syscalls().stat(target.c_str(), &existing) == 0;
  if (exists && S_ISDIR(existing.st_mode)) throw_os_error(EISDIR, "replace", given);
  if (exists && !S_ISREG(existing.st_mode)) {
    // Renaming over a FIFO, socket or device would destroy it, not write to it.
    throw_os_error(ENODEV, "replace", given,
                   std::string("not a regular file (") + kind_of(existing.st_mode) + ")");
  }
  // The rename needs only the directory's permission; a file its owner made read-only is
  // refused as an in-place writer would refuse it.
  if (exists && syscalls().faccessat(AT_FDCWD, target.c_str(), W_OK, AT_EACCESS) != 0) {
    throw_os_error(errno, "replace", given);
  }

  // Long names would overflow NAME_MAX once the prefix and suffix are added.
  std::string stem = target.filename().string().substr(0, 200);
  for (int attempt = 0;; ++attempt) {
    std::filesystem::path temp = target;
    temp.replace_filename("." + stem + "." + random_hex() + ".tmp");
    unique_fd fd(retry_on_eintr([&] {
      return syscalls().open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                             0666);
    }));
    if (!fd) {
      if (errno == EEXIST && attempt < 100) continue;
      throw_os_error(errno, "create a temporary file for", given);
    }
    temp_file file(std::move(fd), given, std::move(target), std::move(temp));
    if (exists && syscalls().fchmod(file.fd(), existing.st_mode & 07777) != 0) {
      throw_os_error(errno, "copy the permissions of", given);
    }
    return file;
  }
}

temp_file::temp_file(temp_file&& other) noexcept
    : fd_(std::move(other.fd_)),
      given_(std::move(other.given_)),
      target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      pending_(std::exchange(other.pending_, false)) {}

temp_file::~temp_file() { discard(); }

void temp_file::discard() noexcept {
  fd_.reset();
  if (std::exchange(pending_, false)) syscalls().unlink(temp_.c_str());
}

void temp_file::preallocate(std::uint64_t bytes) {
  if (bytes == 0) return;
  if (bytes > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
    throw_os_error(EFBIG, "preallocate", given_);
  }
  int err = 0;
  do {
    err = syscalls().fallocate(fd_.get(), 0, static_cast<off_t>(bytes));
  } while (err == EINTR);
  if (err != 0) throw_os_error(err, "preallocate", given_);
}

void temp_file::truncate(std::uint64_t bytes) {
  if (bytes > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
    throw_os_error(EFBIG, "resize", given_);
  }
  if (retry_on_eintr([&] { return syscalls().ftruncate(fd_.get(), static_cast<off_t>(bytes)); }) !=
      0) {
    throw_os_error(errno, "resize", given_);
  }
}

void temp_file::commit(bool durable) {
  if (durable && retry_on_eintr([&] { return syscalls().fsync(fd_.get()); }) != 0) {
    const int err = errno;
    discard();
    throw_os_error(err, "sync", given_);
  }
  // close(2) can report a delayed write error (NFS); it must not pass unseen.
  if (const int err = fd_.close_checked(); err != 0) {
    discard();
    throw_os_error(err, "write", given_);
  }
  if (syscalls().rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    discard();
    throw_os_error(err, "replace", given_);
  }
  pending_ = false;
  if (durable) fsync_parent_directory(target_, given_);
}

}  // namespace mmap_array::detail
