// temp_file: crash safety of replacements. A writer killed while writing leaves
// nothing (the temporary has no name); a temporary that did get a name says
// whose it is, and the next commit to the same target removes those of dead
// writers and keeps everything else.
#include "temp_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <string>
#include <vector>

#include "mmap_array/atomic_file.hpp"
#include "mmap_array/error.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::atomic_writer;
using mmap_array::detail::directory_key;
using mmap_array::detail::directory_listing_schedule;
using mmap_array::detail::leftovers_listing_due;
using mmap_array::detail::temp_name_for;
using mmap_array::detail::writer_of_temp;
using namespace mmap_array_test;

int open_without_tmpfile(const char* path, int flags, mode_t mode) {
  if ((flags & O_TMPFILE) == O_TMPFILE) {
    errno = EOPNOTSUPP;
    return -1;
  }
  return mmap_array::detail::real_syscalls().open(path, flags, mode);
}

int linkat_eio(int, const char*, int, const char*, int) {
  errno = EIO;
  return -1;
}

// A pid that belonged to a process which has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::string leftover_name(const std::string& target_name, long pid,
                          const std::string& random = "0123456789abcdef") {
  return "." + target_name + ".mmap_array-" + std::to_string(pid) + "-" + random + ".tmp";
}

void commit_bytes(const std::filesystem::path& path, std::string_view bytes) {
  atomic_writer writer(path);
  writer.write(as_bytes(bytes));
  writer.commit();
}

TEST(TempFileName, NamesItsTargetAndItsWriter) {
  const auto name = temp_name_for("/some/dir/weights.npy").filename().string();
  EXPECT_TRUE(name.starts_with(".weights.npy.mmap_array-" + std::to_string(::getpid()) + "-"))
      << name;
  EXPECT_TRUE(name.ends_with(".tmp")) << name;
  EXPECT_EQ(writer_of_temp(name, "weights.npy"), ::getpid());
  EXPECT_NE(temp_name_for("/d/x"), temp_name_for("/d/x"));  // random part
}

TEST(TempFileName, ALongTargetNameStillFitsNameMax) {
  const std::string long_name(255, 'n');
  const auto name = temp_name_for("/d/" + long_name).filename().string();
  EXPECT_LE(name.size(), 255u);
  EXPECT_EQ(writer_of_temp(name, long_name), ::getpid());
}

TEST(TempFileName, OnlyExactTemporariesOfTheTargetAreRecognised) {
  EXPECT_EQ(writer_of_temp(leftover_name("a.bin", 42), "a.bin"), 42);
  EXPECT_EQ(writer_of_temp(leftover_name("a.bin", 42), "b.bin"), 0);
  EXPECT_EQ(writer_of_temp(leftover_name("a.bin", 42), "a"), 0);
  EXPECT_EQ(writer_of_temp(leftover_name("a.bin", 42, "0123456789ABCDEF"), "a.bin"), 0);
  EXPECT_EQ(writer_of_temp(leftover_name("a.bin", 42, "0123456789abcde"), "a.bin"), 0);
  EXPECT_EQ(writer_of_temp(".a.bin.mmap_array--0123456789abcdef.tmp", "a.bin"), 0);
  EXPECT_EQ(writer_of_temp(".a.bin.mmap_array-4x2-0123456789abcdef.tmp", "a.bin"), 0);
  EXPECT_EQ(writer_of_temp(".a.bin.mmap_array-99999999999-0123456789abcdef.tmp", "a.bin"), 0);
  EXPECT_EQ(writer_of_temp(leftover_name("a.bin", 0), "a.bin"), 0);
  EXPECT_EQ(writer_of_temp(leftover_name("a.bin", 42) + "x", "a.bin"), 0);
  EXPECT_EQ(writer_of_temp("a.bin", "a.bin"), 0);
  EXPECT_EQ(writer_of_temp(".a.bin.0123456789abcdef.tmp", "a.bin"), 0);
}

TEST(TempFile, AWriterKilledWhileWritingLeavesNothing) {
  temp_dir tmp;
  const auto path = tmp / "data.bin";
  write_file(path, "old");
  const pid_t child = ::fork();
  if (child == 0) {
    atomic_writer writer(path);
    writer.write(as_bytes(pattern(1 << 20)));
    ::raise(SIGKILL);  // no destructor runs, as in a real kill
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.bin"});
  EXPECT_EQ(read_file(path), "old");
}

TEST(TempFile, WithoutOTmpfileTheTemporaryIsNamedForItsWriter) {
  temp_dir tmp;
  const auto path = tmp / "data.bin";
  seam_guard guard;
  guard.table().open = open_without_tmpfile;
  {
    atomic_writer writer(path);
    writer.write(as_bytes("partial"));
    const auto names = tmp.names();
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(writer_of_temp(names[0], "data.bin"), ::getpid()) << names[0];
    EXPECT_EQ(read_file(tmp / names[0]), "partial");
  }
  EXPECT_TRUE(tmp.names().empty());  // destroyed uncommitted: removed

  commit_bytes(path, "new");
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.bin"});
  EXPECT_EQ(read_file(path), "new");
}

TEST(TempFile, AFailedNamingLeavesTheTargetAndNothingBehind) {
  temp_dir tmp;
  const auto path = tmp / "data.bin";
  write_file(path, "old");
  seam_guard guard;
  guard.table().linkat = linkat_eio;
  atomic_writer writer(path);
  writer.write(as_bytes("new"));
  try {
    writer.commit();
    FAIL() << "commit succeeded without a name for its file";
  } catch (const mmap_array::os_error& e) {
    EXPECT_EQ(e.errno_value(), EIO);
    EXPECT_EQ(e.path(), path);
  }
  EXPECT_FALSE(writer.active());
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.bin"});
  EXPECT_EQ(read_file(path), "old");
}

TEST(TempFile, ACommitRemovesTheLeftoversOfDeadWritersOnly) {
  temp_dir tmp;
  const auto path = tmp / "data.bin";
  write_file(path, "old");
  const pid_t dead = dead_pid();
  const std::vector<std::string> kept = {
      leftover_name("data.bin", ::getppid()),        // its writer is alive
      leftover_name("data.bin", ::getpid()),         // this process's, maybe in progress
      leftover_name("other.bin", dead),              // another target's
      ".data.bin.mmap_array-x-0123456789abcdef.tmp",  // not one of ours
      "data.bin.tmp",
  };
  for (const auto& name : kept) write_file(tmp / name, "keep");
  write_file(tmp / leftover_name("data.bin", dead), "torn");
  write_file(tmp / leftover_name("data.bin", dead, "fedcba9876543210"), "torn");

  commit_bytes(path, "new");

  std::vector<std::string> expected = kept;
  expected.push_back("data.bin");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(tmp.names(), expected);
  EXPECT_EQ(read_file(path), "new");
}

TEST(DirectoryListingSchedule, ListsSmallDirectoriesAlwaysAndLargeOnesAfterAQuietTime) {
  directory_listing_schedule schedule;
  const std::uint64_t a = directory_key(1, 2);
  const std::uint64_t b = directory_key(1, 3);
  EXPECT_TRUE(schedule.due(a, 0));  // never listed by this process
  schedule.listed(a, directory_listing_schedule::kAlwaysListedEntries - 1, 1000);
  EXPECT_TRUE(schedule.due(a, 1000));  // small: every commit lists it
  schedule.listed(a, 50'000, 2000);
  const std::int64_t quiet = 50'000 * directory_listing_schedule::kQuietPerEntryNs;  // 1.5 s
  EXPECT_FALSE(schedule.due(a, 2000));
  EXPECT_FALSE(schedule.due(a, 2000 + quiet - 1));
  EXPECT_TRUE(schedule.due(a, 2000 + quiet));
  EXPECT_TRUE(schedule.due(b, 2000));  // another directory keeps its own time
  schedule.listed(a, 10, 3000);        // it shrank: every commit again
  EXPECT_TRUE(schedule.due(a, 3000));
  EXPECT_NE(directory_key(0, 0), 0u);  // 0 marks an empty slot
  EXPECT_NE(directory_key(1, 2), directory_key(1, 3));
  EXPECT_NE(directory_key(1, 2), directory_key(2, 2));
}

// A program saving many files into one directory would otherwise list all of it on every
// save (15 ms for 50,000 entries, for a save of 0.2 ms).
TEST(TempFile, ALargeDirectoryIsListedForLeftoversOnlyAfterItsQuietTime) {
  temp_dir tmp;
  constexpr int kFiles = 20'000;  // a quiet time of 0.6 s
  for (int i = 0; i < kFiles; ++i) {
    const int fd = ::open((tmp / ("f" + std::to_string(i))).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  const auto path = tmp / "data.bin";
  EXPECT_TRUE(leftovers_listing_due(path));
  commit_bytes(path, "first");  // lists the directory, which holds 20,000 entries
  const std::string leftover = leftover_name("data.bin", dead_pid());
  write_file(tmp / leftover, "torn");
  ASSERT_FALSE(leftovers_listing_due(path));
  commit_bytes(path, "second");
  EXPECT_TRUE(std::filesystem::exists(tmp / leftover)) << "listed again within its quiet time";

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!leftovers_listing_due(path) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(leftovers_listing_due(path));
  commit_bytes(path, "third");
  EXPECT_FALSE(std::filesystem::exists(tmp / leftover));
  EXPECT_EQ(read_file(path), "third");
}

TEST(TempFile, AFailedCommitRemovesNoLeftovers) {
  temp_dir tmp;
  const auto path = tmp / "data.bin";
  write_file(path, "old");
  const std::string leftover = leftover_name("data.bin", dead_pid());
  write_file(tmp / leftover, "torn");
  {
    seam_guard guard;
    guard.table().linkat = linkat_eio;
    EXPECT_THROW(commit_bytes(path, "new"), mmap_array::os_error);
  }
  EXPECT_EQ(tmp.names(), (std::vector<std::string>{leftover, "data.bin"}));
}

}  // namespace
