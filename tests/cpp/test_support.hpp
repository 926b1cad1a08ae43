// Shared fixtures of the C++ tests: scratch directories, plain POSIX file I/O
// (independent of the code under test), and an RAII guard for the syscall
// seam, so an injected failure can never leak into the next test.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "syscalls.hpp"

namespace mmap_array_test {

/// Names in `dir` (hidden ones included), sorted.
inline std::vector<std::string> directory_names(const std::filesystem::path& dir) {
  std::vector<std::string> result;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    result.push_back(entry.path().filename().string());
  }
  std::sort(result.begin(), result.end());
  return result;
}

/// A fresh directory under testing::TempDir(), removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern =
        (std::filesystem::path(::testing::TempDir()) / "mmap_array_test.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    dir_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::filesystem::path operator/(std::string_view name) const { return dir_ / name; }

  /// Names in the directory (hidden ones included), sorted: leftover temporaries show up here.
  std::vector<std::string> names() const { return directory_names(dir_); }

 private:
  std::filesystem::path dir_;
};

/// Writes `bytes` to a new file with plain POSIX calls (not through the library or its seam).
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "write " + path.string());
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

/// Reads a whole file with plain read(2), so the check does not depend on the mapping.
inline std::string read_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
  std::string result;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "read " + path.string());
    }
    if (n == 0) break;
    result.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return result;
}

/// lstat(2) of `path`; throws if it fails.
inline struct stat lstat_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    throw std::system_error(errno, std::generic_category(), "lstat " + path.string());
  }
  return st;
}

/// `n` bytes that differ from their neighbours and from zero, so an off-by-one shows.
inline std::string pattern(std::size_t n, unsigned seed = 0) {
  std::string bytes(n, '\0');
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(1 + (i + seed) % 251);
  return bytes;
}

inline std::span<const std::byte> as_bytes(std::string_view text) noexcept {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

inline std::string_view as_text(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// Open descriptors of this process, as /proc/self/fd lists them.
inline std::size_t open_descriptor_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

/// Runs `call`, expecting exactly an `E`; returns it, or nothing after recording a failure.
template <class E, class Call>
std::optional<E> thrown(Call&& call) {
  try {
    call();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE() << "nothing was thrown";
  return std::nullopt;
}

/// `text` contains `part`, with both shown on failure.
inline ::testing::AssertionResult contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

/// Saves the live syscall table and restores it on destruction. Tests overwrite entries of
/// `table()` with captureless fakes that forward to `real()`.
class seam_guard {
 public:
  seam_guard() : saved_(mmap_array::detail::syscalls()) {}
  seam_guard(const seam_guard&) = delete;
  seam_guard& operator=(const seam_guard&) = delete;
  ~seam_guard() { mmap_array::detail::syscalls() = saved_; }

  static mmap_array::detail::syscall_table& table() noexcept {
    return mmap_array::detail::syscalls();
  }
  static const mmap_array::detail::syscall_table& real() noexcept {
    return mmap_array::detail::real_syscalls();
  }

 private:
  mmap_array::detail::syscall_table saved_;
};

/// Calls made through the seam since the last `counting_seam` was installed.
struct call_counts {
  int open = 0;
  int close = 0;
  int mmap = 0;
  int munmap = 0;
  int msync = 0;
  int fsync = 0;
  int pread = 0;
};

inline call_counts g_calls;

/// A seam_guard whose table counts calls of the entries in call_counts, then forwards them
/// to whatever the table held before (a fake installed earlier keeps working).
class counting_seam : public seam_guard {
 public:
  counting_seam() {
    // One set of counters and one saved inner table: a nested seam would forward to itself.
    if (g_active) throw std::logic_error("counting_seam cannot be nested");
    g_active = true;
    g_calls = {};
    g_inner = table();
    table().open = [](const char* path, int flags, mode_t mode) {
      ++g_calls.open;
      return g_inner.open(path, flags, mode);
    };
    table().close = [](int fd) {
      ++g_calls.close;
      return g_inner.close(fd);
    };
    table().mmap = [](void* addr, std::size_t length, int prot, int flags, int fd, off_t offset) {
      ++g_calls.mmap;
      return g_inner.mmap(addr, length, prot, flags, fd, offset);
    };
    table().munmap = [](void* addr, std::size_t length) {
      ++g_calls.munmap;
      return g_inner.munmap(addr, length);
    };
    table().msync = [](void* addr, std::size_t length, int flags) {
      ++g_calls.msync;
      return g_inner.msync(addr, length, flags);
    };
    table().fsync = [](int fd) {
      ++g_calls.fsync;
      return g_inner.fsync(fd);
    };
    table().pread = [](int fd, void* buffer, std::size_t count, off_t offset) {
      ++g_calls.pread;
      return g_inner.pread(fd, buffer, count, offset);
    };
  }

  counting_seam(const counting_seam&) = delete;
  counting_seam& operator=(const counting_seam&) = delete;
  ~counting_seam() { g_active = false; }

  const call_counts& counts() const noexcept { return g_calls; }

 private:
  static inline bool g_active = false;
  static inline mmap_array::detail::syscall_table g_inner{};
};

/// Runs `check` in a forked child that has dropped CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH,
/// the capabilities that let root ignore file modes, so permissions count for root too.
/// Returns 0 if `check` returned true, 1 if false, 2 if the capabilities could not be dropped.
template <class Check>
int run_without_permission_override(Check check) {
  const pid_t child = ::fork();
  if (child < 0) return 3;
  if (child == 0) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) ::_exit(2);
    for (unsigned cap : {unsigned{CAP_DAC_OVERRIDE}, unsigned{CAP_DAC_READ_SEARCH}}) {
      data[cap / 32].effective &= ~(1u << (cap % 32));
    }
    if (::syscall(SYS_capset, &header, data) != 0) ::_exit(2);
    ::_exit(check() ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 4;
  return WEXITSTATUS(status);
}

}  // namespace mmap_array_test
