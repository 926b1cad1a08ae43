// atomic_file: the target shows the complete old file or the complete new
// one; every failure (injected through the seam) leaves the old bytes and no
// temporary behind.
#include "mmap_array/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "mmap_array/mapped_file.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::atomic_writer;
using mmap_array::errc;
using mmap_array::os_error;
using mmap_array::state_error;
using mmap_array::write_options;
using namespace mmap_array_test;

std::error_code os_code(int err) { return {err, std::system_category()}; }

void write_atomically(const std::filesystem::path& path, std::vector<std::string_view> chunks,
                      write_options options = {}) {
  std::vector<std::span<const std::byte>> spans;
  for (std::string_view chunk : chunks) spans.push_back(as_bytes(chunk));
  mmap_array::write_file_atomically(path, spans, options);
}

std::error_code write_atomically_ec(const std::filesystem::path& path, std::string_view bytes) {
  const std::span<const std::byte> chunks[] = {as_bytes(bytes)};
  std::error_code ec;
  mmap_array::write_file_atomically(path, chunks, {}, ec);
  return ec;
}

mode_t permissions_of(const std::filesystem::path& path) { return lstat_of(path).st_mode & 07777; }

// Sets the process umask for one test; it is process-wide, so it must be put back.
class umask_guard {
 public:
  explicit umask_guard(mode_t mask) : saved_(::umask(mask)) {}
  umask_guard(const umask_guard&) = delete;
  umask_guard& operator=(const umask_guard&) = delete;
  ~umask_guard() { ::umask(saved_); }

 private:
  mode_t saved_;
};

// State of the fakes below; each test that installs one resets what it uses.
int g_write_calls = 0;
int g_eintr_left = 0;
std::vector<char> g_syncs;  // 'f' for a file, 'd' for a directory, in call order
ino_t g_synced_file_inode = 0;

ssize_t seven_bytes_at_most(int fd, const void* buffer, std::size_t count) {
  ++g_write_calls;
  return mmap_array::detail::real_syscalls().write(fd, buffer, std::min<std::size_t>(count, 7));
}

ssize_t eintr_first(int fd, const void* buffer, std::size_t count) {
  ++g_write_calls;
  if (g_eintr_left > 0) {
    --g_eintr_left;
    errno = EINTR;
    return -1;
  }
  return mmap_array::detail::real_syscalls().write(fd, buffer, count);
}

// Writes a little, then the disk is full: the temporary holds a torn prefix.
ssize_t enospc_after_seven_bytes(int fd, const void* buffer, std::size_t count) {
  if (g_write_calls++ == 0) {
    return mmap_array::detail::real_syscalls().write(fd, buffer, std::min<std::size_t>(count, 7));
  }
  errno = ENOSPC;
  return -1;
}

int rename_eio(const char*, const char*) {
  errno = EIO;
  return -1;
}

int fsync_eio(int) {
  errno = EIO;
  return -1;
}

int recording_fsync(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    g_syncs.push_back('d');
  } else {
    g_syncs.push_back('f');
    g_synced_file_inode = st.st_ino;
  }
  return mmap_array::detail::real_syscalls().fsync(fd);
}

class AtomicFile : public ::testing::Test {
 protected:
  // An existing target with known bytes, to check that failures leave it alone.
  std::filesystem::path existing_target() {
    const auto path = tmp / "data.bin";
    write_file(path, old_bytes);
    old_inode = lstat_of(path).st_ino;
    return path;
  }

  void expect_target_untouched(const std::filesystem::path& path) {
    EXPECT_EQ(read_file(path), old_bytes);
    EXPECT_EQ(lstat_of(path).st_ino, old_inode);
    EXPECT_EQ(tmp.names(), std::vector<std::string>{path.filename().string()});
  }

  temp_dir tmp;
  const std::string old_bytes = pattern(3000, 7);
  ino_t old_inode = 0;
};

TEST_F(AtomicFile, NewFileRoundTrips) {
  umask_guard mask(022);
  const auto path = tmp / "out.bin";
  write_atomically(path, {"hello, world"});
  EXPECT_EQ(read_file(path), "hello, world");
  EXPECT_EQ(permissions_of(path), 0644u);
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"out.bin"});
}

TEST_F(AtomicFile, ChunksAreConcatenated) {
  const auto path = tmp / "out.bin";
  const std::string big = pattern(100000);
  write_atomically(path, {"ab", "", "cde", big});
  EXPECT_EQ(read_file(path), "abcde" + big);

  write_atomically(path, {});
  EXPECT_EQ(read_file(path), "");
}

TEST_F(AtomicFile, ReplacementKeepsThePermissionBits) {
  umask_guard mask(022);  // would give 0644 to a file made from scratch
  const auto path = existing_target();
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  write_atomically(path, {"new"});
  EXPECT_EQ(read_file(path), "new");
  EXPECT_EQ(permissions_of(path), 0640u);
  EXPECT_NE(lstat_of(path).st_ino, old_inode);
}

TEST_F(AtomicFile, LiveMappingOfTheOldFileKeepsItsBytes) {
  const auto path = existing_target();
  const mmap_array::mapped_file old =
      mmap_array::mapped_file::open(path, mmap_array::access_mode::read_only);
  write_atomically(path, {"new"});
  EXPECT_EQ(as_text({old.data(), old.size()}), old_bytes);
  EXPECT_EQ(read_file(path), "new");
}

TEST_F(AtomicFile, SymlinkIsFollowedAndKept) {
  const auto sub = tmp / "sub";
  std::filesystem::create_directory(sub);
  write_file(sub / "real.bin", "old");
  std::filesystem::create_symlink("sub/real.bin", tmp / "link.bin");

  write_atomically(tmp / "link.bin", {"new contents"});

  EXPECT_TRUE(S_ISLNK(lstat_of(tmp / "link.bin").st_mode));
  EXPECT_EQ(std::filesystem::read_symlink(tmp / "link.bin").string(), "sub/real.bin");
  EXPECT_EQ(read_file(sub / "real.bin"), "new contents");
  EXPECT_EQ(tmp.names(), (std::vector<std::string>{"link.bin", "sub"}));
  EXPECT_EQ(directory_names(sub), std::vector<std::string>{"real.bin"});
}

TEST_F(AtomicFile, PartialWritesAreContinued) {
  const auto path = tmp / "out.bin";
  const std::string bytes = pattern(1000);
  seam_guard guard;
  g_write_calls = 0;
  guard.table().write = seven_bytes_at_most;
  write_atomically(path, {bytes.substr(0, 500), bytes.substr(500)});
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(g_write_calls, 2 * ((500 + 6) / 7));
}

TEST_F(AtomicFile, EintrIsRetried) {
  const auto path = tmp / "out.bin";
  seam_guard guard;
  g_write_calls = 0;
  g_eintr_left = 3;
  guard.table().write = eintr_first;
  write_atomically(path, {"interrupted"});
  EXPECT_EQ(read_file(path), "interrupted");
  EXPECT_EQ(g_write_calls, 4);
}

TEST_F(AtomicFile, FullDiskLeavesTheTargetAndNoTemporary) {
  const auto path = existing_target();
  seam_guard guard;
  guard.table().write = enospc_after_seven_bytes;

  g_write_calls = 0;
  auto e = thrown<os_error>([&] { write_atomically(path, {pattern(1000)}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOSPC);
  EXPECT_EQ(e->operation(), "write");
  EXPECT_EQ(e->path().string(), path.string());
  expect_target_untouched(path);

  g_write_calls = 0;
  EXPECT_EQ(write_atomically_ec(path, pattern(1000)), os_code(ENOSPC));
  expect_target_untouched(path);
}

TEST_F(AtomicFile, FailedRenameRemovesTheTemporary) {
  const auto path = existing_target();
  seam_guard guard;
  guard.table().rename = rename_eio;
  auto e = thrown<os_error>([&] { write_atomically(path, {"new"}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EIO);
  EXPECT_EQ(e->operation(), "replace");
  expect_target_untouched(path);
  EXPECT_EQ(write_atomically_ec(path, "new"), os_code(EIO));
  expect_target_untouched(path);
}

TEST_F(AtomicFile, FailedFsyncRemovesTheTemporary) {
  const auto path = existing_target();
  seam_guard guard;
  guard.table().fsync = fsync_eio;
  auto e = thrown<os_error>([&] { write_atomically(path, {"new"}, {.fsync = true}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EIO);
  expect_target_untouched(path);
}

TEST_F(AtomicFile, FsyncOptionSyncsTheFileThenItsDirectory) {
  const auto path = tmp / "out.bin";
  seam_guard guard;
  guard.table().fsync = recording_fsync;

  g_syncs.clear();
  write_atomically(path, {"durable"}, {.fsync = true});
  EXPECT_EQ(g_syncs, (std::vector<char>{'f', 'd'}));
  EXPECT_EQ(g_synced_file_inode, lstat_of(path).st_ino);  // the new file, before the rename

  g_syncs.clear();
  write_atomically(path, {"not durable"});
  EXPECT_TRUE(g_syncs.empty());
  EXPECT_EQ(read_file(path), "not durable");
}

TEST_F(AtomicFile, TargetThatIsADirectoryIsEISDIR) {
  const auto dir = tmp / "dir";
  std::filesystem::create_directory(dir);
  auto e = thrown<os_error>([&] { write_atomically(dir, {"x"}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EISDIR);
  EXPECT_EQ(e->path().string(), dir.string());
  EXPECT_EQ(write_atomically_ec(dir, "x"), os_code(EISDIR));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"dir"});

  // No file name at all: nothing to replace.
  EXPECT_EQ(write_atomically_ec(dir.string() + "/", "x"), os_code(EISDIR));
}

TEST_F(AtomicFile, MissingDirectoryIsENOENTNamingTheTarget) {
  const auto path = tmp / "missing" / "out.bin";
  auto e = thrown<os_error>([&] { atomic_writer writer(path); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOENT);
  EXPECT_EQ(e->path().string(), path.string());
  EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));
  EXPECT_TRUE(tmp.names().empty());
}

TEST_F(AtomicFile, UncommittedWriterLeavesTheTargetAlone) {
  const auto path = existing_target();
  {
    atomic_writer writer(path);
    writer.write(as_bytes("partial"));
    EXPECT_TRUE(writer.active());
    EXPECT_EQ(writer.bytes_written(), 7u);

    // The temporary has no name yet (O_TMPFILE): a writer killed now leaves nothing.
    EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.bin"});
  }
  expect_target_untouched(path);
}

TEST_F(AtomicFile, AbortDropsTheTemporary) {
  const auto path = existing_target();
  atomic_writer writer(path);
  writer.write(as_bytes("partial"));
  writer.abort();
  EXPECT_FALSE(writer.active());
  writer.abort();
  expect_target_untouched(path);
  auto e = thrown<state_error>([&] { writer.commit(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::closed);
  expect_target_untouched(path);
}

TEST_F(AtomicFile, WriterIsSpentAfterCommit) {
  const auto path = tmp / "out.bin";
  atomic_writer writer(path);
  writer.write(as_bytes("first"));
  writer.commit();
  EXPECT_FALSE(writer.active());

  auto e = thrown<state_error>([&] { writer.commit(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::closed);
  EXPECT_EQ(e->operation(), "commit");
  EXPECT_EQ(e->path().string(), path.string());
  e = thrown<state_error>([&] { writer.write(as_bytes("second")); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::closed);
  EXPECT_EQ(e->operation(), "write");
  EXPECT_THROW(writer.preallocate(10), state_error);
  EXPECT_EQ(read_file(path), "first");
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"out.bin"});
}

TEST_F(AtomicFile, FailedWriteAbortsTheWriterSoNoTornFileCanBeCommitted) {
  const auto path = existing_target();
  atomic_writer writer(path);
  {
    seam_guard guard;
    guard.table().write = enospc_after_seven_bytes;
    g_write_calls = 0;
    auto e = thrown<os_error>([&] { writer.write(as_bytes(pattern(1000))); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), ENOSPC);
  }
  EXPECT_FALSE(writer.active());
  expect_target_untouched(path);  // and the temporary with its 7 bytes is gone already

  auto e = thrown<state_error>([&] { writer.write(as_bytes("more")); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path().string(), path.string());
  EXPECT_TRUE(contains(e->what(), "failed"));
  EXPECT_THROW(writer.commit(), state_error);
  expect_target_untouched(path);
}

TEST_F(AtomicFile, PreallocatedSpaceBeyondTheWrittenBytesIsDropped) {
  const auto path = tmp / "out.bin";
  atomic_writer writer(path);
  writer.preallocate(1 << 16);
  writer.write(as_bytes("short"));
  writer.commit();
  EXPECT_EQ(read_file(path), "short");
}

TEST_F(AtomicFile, ShrunkPreallocationStillDropsTheExcess) {
  // A caller may revise its estimate downwards; the file already holds the larger size.
  const auto path = tmp / "out.bin";
  atomic_writer writer(path);
  writer.preallocate(100);
  writer.preallocate(10);
  writer.write(as_bytes("twenty bytes exactly"));
  writer.commit();
  EXPECT_EQ(read_file(path), "twenty bytes exactly");
}

TEST_F(AtomicFile, MovedWriterCommitsOnce) {
  const auto path = tmp / "out.bin";
  atomic_writer first(path);
  first.write(as_bytes("moved"));
  atomic_writer second(std::move(first));
  EXPECT_FALSE(first.active());  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_TRUE(second.active());
  EXPECT_THROW(first.commit(), state_error);
  second.commit();
  EXPECT_EQ(read_file(path), "moved");
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"out.bin"});
}

}  // namespace

namespace {

TEST_F(AtomicFile, AFifoTargetIsRefusedAndKept) {
  const auto path = tmp / "fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto e = thrown<os_error>([&] { write_atomically(path, {"data"}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENODEV);
  EXPECT_TRUE(contains(e->what(), "a FIFO"));
  EXPECT_TRUE(S_ISFIFO(lstat_of(path).st_mode));
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"fifo"});
}

TEST_F(AtomicFile, ADeviceTargetIsRefused) {
  auto e = thrown<os_error>([&] { atomic_writer writer("/dev/null"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENODEV);
  EXPECT_TRUE(S_ISCHR(lstat_of("/dev/null").st_mode));
}

TEST_F(AtomicFile, AReadOnlyTargetIsRefusedAsAnInPlaceWriteWouldBe) {
  const auto path = existing_target();
  ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
  EXPECT_EQ(run_without_permission_override([&] {
              std::error_code ec;
              mmap_array::write_file_atomically(path, {}, {}, ec);
              return ec == os_code(EACCES);
            }),
            0);
  expect_target_untouched(path);
}

TEST_F(AtomicFile, ADanglingSymlinkIsFollowedToCreateItsTarget) {
  std::filesystem::create_directory(tmp / "a");
  std::filesystem::create_directory(tmp / "b");
  std::filesystem::create_symlink("../b/new.bin", tmp / "a" / "link.bin");
  write_atomically(tmp / "a" / "link.bin", {"made"});
  EXPECT_TRUE(S_ISLNK(lstat_of(tmp / "a" / "link.bin").st_mode));
  EXPECT_EQ(read_file(tmp / "b" / "new.bin"), "made");
}

TEST_F(AtomicFile, ASymlinkLoopIsELOOP) {
  std::filesystem::create_symlink("two", tmp / "one");
  std::filesystem::create_symlink("one", tmp / "two");
  auto e = thrown<os_error>([&] { write_atomically(tmp / "one", {"x"}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ELOOP);
}

}  // namespace
