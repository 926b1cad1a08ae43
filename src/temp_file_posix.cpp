#include "temp_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "syscalls.hpp"

namespace mmap_array::detail {
namespace {

// Long names would overflow NAME_MAX once the marker, pid and suffix are added.
constexpr std::size_t kMaxStem = 200;
constexpr std::size_t kRandomDigits = 16;
constexpr std::string_view kSuffix = ".tmp";

std::string random_hex() {
  std::uint64_t bits = 0;
  if (getrandom(&bits, sizeof bits, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bits)) {
    // No entropy source: the name only has to be unlikely to collide, and O_EXCL (or
    // linkat's EEXIST) catches a collision anyway.
    bits = static_cast<std::uint64_t>(
               std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (static_cast<std::uint64_t>(getpid()) << 32);
  }
  char text[kRandomDigits + 1];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}

std::string prefix_for(std::string_view target_name) {
  std::string prefix = ".";
  prefix += target_name.substr(0, kMaxStem);
  prefix += kTempMarker;
  return prefix;
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

// Naming an O_TMPFILE file needs /proc/self/fd (linkat with AT_EMPTY_PATH needs a
// capability); without /proc the file is named from the start instead.
bool can_name_unnamed_files() noexcept {
  static const bool proc_mounted = ::access("/proc/self/fd", X_OK) == 0;
  return proc_mounted;
}

// Errors with which a filesystem (or kernel) says it cannot make unnamed files.
bool means_no_tmpfile_support(int err) noexcept {
  return err == EOPNOTSUPP || err == EISDIR || err == EINVAL;
}

}  // namespace

std::filesystem::path temp_name_for(const std::filesystem::path& target) {
  std::filesystem::path temp = target;
  temp.replace_filename(prefix_for(target.filename().string()) + std::to_string(getpid()) + "-" +
                        random_hex() + std::string(kSuffix));
  return temp;
}

long writer_of_temp(std::string_view name, std::string_view target_name) noexcept {
  const std::string prefix = prefix_for(target_name);
  if (!name.starts_with(prefix) || !name.ends_with(kSuffix)) return 0;
  name.remove_prefix(prefix.size());
  name.remove_suffix(kSuffix.size());
  // What is left is "<pid>-<16 hex digits>".
  const std::size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 10) return 0;
  if (name.size() - dash - 1 != kRandomDigits) return 0;
  long pid = 0;
  for (char c : name.substr(0, dash)) {
    if (c < '0' || c > '9') return 0;
    pid = pid * 10 + (c - '0');
  }
  for (char c : name.substr(dash + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return pid > 0 && pid <= std::numeric_limits<pid_t>::max() ? pid : 0;
}

std::size_t directory_listing_schedule::slot_of(std::uint64_t directory) noexcept {
  return static_cast<std::size_t>((directory * 0x9E3779B97F4A7C15ull) >> 58) % kSlots;
}

bool directory_listing_schedule::due(std::uint64_t directory, std::int64_t now_ns) const noexcept {
  const slot& s = slots_[slot_of(directory)];
  return s.directory.load(std::memory_order_relaxed) != directory ||
         now_ns >= s.next_ns.load(std::memory_order_relaxed);
}

void directory_listing_schedule::listed(std::uint64_t directory, std::size_t entries,
                                        std::int64_t now_ns) noexcept {
  slot& s = slots_[slot_of(directory)];
  const std::int64_t quiet =
      entries < kAlwaysListedEntries ? 0 : static_cast<std::int64_t>(entries) * kQuietPerEntryNs;
  s.next_ns.store(now_ns + quiet, std::memory_order_relaxed);
  s.directory.store(directory, std::memory_order_relaxed);
}

std::uint64_t directory_key(std::uint64_t device, std::uint64_t inode) noexcept {
  // splitmix64's finaliser: every bit of the device and inode moves the whole key.
  std::uint64_t key = inode ^ (device * 0x9E3779B97F4A7C15ull);
  key = (key ^ (key >> 30)) * 0xBF58476D1CE4E5B9ull;
  key = (key ^ (key >> 27)) * 0x94D049BB133111EBull;
  key ^= key >> 31;
  return key != 0 ? key : 1;  // 0 marks an empty slot
}

directory_listing_schedule& listing_schedule() noexcept {
  static directory_listing_schedule schedule;
  return schedule;
}

namespace {

std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::filesystem::path directory_of(const std::filesystem::path& target) {
  std::filesystem::path dir = target.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

// 0 if the directory cannot be stat'ed (it will not be listed either).
std::uint64_t key_of_directory(const std::filesystem::path& dir) noexcept {
  struct stat st {};
  if (syscalls().stat(dir.c_str(), &st) != 0) return 0;
  return directory_key(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
}

}  // namespace

bool leftovers_listing_due(const std::filesystem::path& target) noexcept {
  const std::uint64_t key = key_of_directory(directory_of(target));
  return key != 0 && listing_schedule().due(key, steady_now_ns());
}

void remove_dead_writers_temporaries(const std::filesystem::path& target) noexcept {
  const std::filesystem::path dir = directory_of(target);
  const std::uint64_t key = key_of_directory(dir);
  if (key == 0 || !listing_schedule().due(key, steady_now_ns())) return;
  const std::string target_name = target.filename().string();
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), ::closedir);
  if (!listing) return;
  const long self = getpid();
  std::size_t entries = 0;
  while (const dirent* entry = ::readdir(listing.get())) {
    ++entries;
    const long pid = writer_of_temp(entry->d_name, target_name);
    if (pid == 0 || pid == self) continue;  // not a temporary, or one of ours in progress
    // ESRCH: no such process. EPERM means it exists (another user's): keep its file.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    syscalls().unlink((dir / entry->d_name).c_str());
  }
  listing_schedule().listed(key, entries, steady_now_ns());
}

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

  auto with_permissions = [&](temp_file file) {
    if (exists && syscalls().fchmod(file.fd(), existing.st_mode & 07777) != 0) {
      throw_os_error(errno, "copy the permissions of", given);
    }
    return file;
  };

  if (can_name_unnamed_files()) {
    std::filesystem::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    unique_fd fd(retry_on_eintr(
        [&] { return syscalls().open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0666); }));
    if (fd) return with_permissions(temp_file(std::move(fd), given, std::move(target), {}));
    if (!means_no_tmpfile_support(errno)) throw_os_error(errno, "create a temporary file for", given);
  }
  for (int attempt = 0;; ++attempt) {
    std::filesystem::path temp = temp_name_for(target);
    unique_fd fd(retry_on_eintr([&] {
      return syscalls().open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                             0666);
    }));
    if (!fd) {
      if (errno == EEXIST && attempt < 100) continue;
      throw_os_error(errno, "create a temporary file for", given);
    }
    return with_permissions(temp_file(std::move(fd), given, std::move(target), std::move(temp)));
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
  fd_.reset();  // an unnamed file vanishes with its last descriptor
  if (std::exchange(pending_, false) && !unnamed()) syscalls().unlink(temp_.c_str());
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

void temp_file::give_a_name() {
  const std::string self = "/proc/self/fd/" + std::to_string(fd_.get());
  for (int attempt = 0;; ++attempt) {
    std::filesystem::path temp = temp_name_for(target_);
    if (syscalls().linkat(AT_FDCWD, self.c_str(), AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      temp_ = std::move(temp);
      return;
    }
    if (errno == EEXIST && attempt < 100) continue;
    const int err = errno;
    discard();
    throw_os_error(err, "name the temporary file for", given_);
  }
}

void temp_file::commit(bool durable) {
  if (durable && retry_on_eintr([&] { return syscalls().fsync(fd_.get()); }) != 0) {
    const int err = errno;
    discard();
    throw_os_error(err, "sync", given_);
  }
  // rename(2) needs a name; from here until the rename, a killed writer leaves this name
  // behind, for the next commit to remove.
  if (unnamed()) give_a_name();
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
  remove_dead_writers_temporaries(target_);
}

}  // namespace mmap_array::detail
