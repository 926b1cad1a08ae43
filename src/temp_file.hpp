// The one way the library creates or replaces files: a new file beside the
// target that appears under the target's name, complete, in one rename.
//
// Crash safety: the file is created unnamed (O_TMPFILE), so a writer killed
// while writing leaves nothing behind; the kernel frees its blocks. It gets a
// name only at commit, for the instant between link and rename, and that name
// says whose it is: `.<target name>.mmap_array-<pid>-<random>.tmp`. A
// successful commit removes such leftovers of its target whose process is
// gone (every commit in a directory of fewer than 256 entries; in larger ones,
// about once per 30 µs per entry: see directory_listing_schedule), so even a
// writer killed in that instant leaves nothing for long.
// Filesystems without O_TMPFILE get the named file from the start, with the
// same name and the same cleanup.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "file_posix.hpp"

namespace mmap_array::detail {

/// The marker in the names of temporaries, between the target's name and the writer's pid.
inline constexpr std::string_view kTempMarker = ".mmap_array-";

/// A new file beside a target, renamed over it on commit and removed (or never named) if
/// destroyed uncommitted.
class temp_file {
 public:
  /// Creates the file in the directory of `target` (following a symlink `target` to the file
  /// it names); the new file takes the existing target's permission bits, or 0666 minus the
  /// umask. Throws os_error naming `target`.
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
  /// True while the file has no name in the directory (O_TMPFILE).
  bool unnamed() const noexcept { return temp_.empty(); }

  /// Allocates disk blocks for `bytes` bytes, so a full disk fails here with ENOSPC.
  void preallocate(std::uint64_t bytes);
  /// Sets the file's length.
  void truncate(std::uint64_t bytes);
  /// [fsync], name, close, rename over the target, [fsync of the directory], then removal of
  /// dead writers' leftovers; throws os_error, after which the temporary is gone and the
  /// target untouched (except when only the directory's fsync fails: see atomic_writer).
  void commit(bool durable);
  /// Closes and removes the temporary; never throws.
  void discard() noexcept;

 private:
  temp_file(unique_fd fd, std::filesystem::path given, std::filesystem::path target,
            std::filesystem::path temp) noexcept;
  void give_a_name();

  unique_fd fd_;
  std::filesystem::path given_;
  std::filesystem::path target_;
  std::filesystem::path temp_;  // empty while unnamed
  bool pending_ = true;         // uncommitted: a named temporary must be removed
};

/// A fresh name for a temporary of `target`, made by this process.
std::filesystem::path temp_name_for(const std::filesystem::path& target);

/// If `name` is a temporary of the file named `target_name`, the pid of its writer; else 0.
long writer_of_temp(std::string_view name, std::string_view target_name) noexcept;

/// Removes the temporaries of `target` left by processes that no longer exist (killed
/// between naming and renaming, or on filesystems without O_TMPFILE). Best effort: never
/// throws, and keeps every temporary whose writer may still be running. Lists the directory
/// only when listing_schedule() says it is due.
void remove_dead_writers_temporaries(const std::filesystem::path& target) noexcept;

/// When a commit lists its directory for dead writers' leftovers. A listing costs time in
/// proportion to the directory's entries (15 ms for 50,000 on the development machine,
/// against 0.2 ms for writing a small file), which a program saving many files into one
/// directory would otherwise pay on every save. So a directory that held
/// kAlwaysListedEntries or more at its last listing is listed again only after
/// kQuietPerEntryNs for each of them (1.5 s for 50,000): listing then takes about 1% of the
/// time at most. Smaller directories, and any this process has not listed yet, are listed
/// on every commit. Lock-free and allocation-free; a race between threads costs at most one
/// listing more or fewer, and leftovers are only disk space, never a torn file.
class directory_listing_schedule {
 public:
  static constexpr std::size_t kAlwaysListedEntries = 256;
  static constexpr std::int64_t kQuietPerEntryNs = 30'000;

  /// True if `directory` (directory_key()) should be listed at `now_ns` (steady clock).
  bool due(std::uint64_t directory, std::int64_t now_ns) const noexcept;
  /// Records that `directory` was listed at `now_ns` and held `entries` entries.
  void listed(std::uint64_t directory, std::size_t entries, std::int64_t now_ns) noexcept;

 private:
  struct slot {
    std::atomic<std::uint64_t> directory{0};  // 0: empty
    std::atomic<std::int64_t> next_ns{0};     // not listed again before this
  };
  static constexpr std::size_t kSlots = 64;  // directories remembered; others share slots
  static std::size_t slot_of(std::uint64_t directory) noexcept;
  std::array<slot, kSlots> slots_;
};

/// A directory's identity for the schedule, from its device and inode; never 0.
std::uint64_t directory_key(std::uint64_t device, std::uint64_t inode) noexcept;

/// The process's schedule, used by remove_dead_writers_temporaries().
directory_listing_schedule& listing_schedule() noexcept;

/// True if a commit to `target` now would list its directory (false if it cannot be stat'ed).
bool leftovers_listing_due(const std::filesystem::path& target) noexcept;

}  // namespace mmap_array::detail
