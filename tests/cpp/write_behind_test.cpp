// write_behind: dirty pages of a mapping being filled go to the disk in batches, through a
// descriptor of its own, and the loop ends by itself.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "mmap_array/access.hpp"
#include "mmap_array/mapped_file.hpp"
#include "syscalls.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::mapped_file;
using mmap_array::write_behind;
using mmap_array::write_behind_options;
using mmap_array::detail::page_cache_stat;
using namespace mmap_array_test;
using namespace std::chrono_literals;

constexpr std::size_t kFileBytes = std::size_t{16} << 20;

struct writeback_call {
  off_t offset;
  off_t length;
  unsigned flags;
};
std::vector<writeback_call> g_writebacks;
mmap_array::detail::syscall_table g_inner;

// The file's dirty pages now, asked through a descriptor of the test's own.
std::uint64_t dirty_pages(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  page_cache_stat stat{};
  EXPECT_EQ(mmap_array::detail::real_syscalls().cachestat(fd, 0, 0, &stat), 0);
  ::close(fd);
  return stat.dirty;
}

// True where the kernel has cachestat (Linux 6.5), without which write_behind does nothing.
bool kernel_has_cachestat() {
  page_cache_stat stat{};
  return mmap_array::detail::real_syscalls().cachestat(0, 0, 0, &stat) == 0 || errno != ENOSYS;
}

class WriteBehind : public ::testing::Test {
 protected:
  void SetUp() override {
    g_writebacks.clear();
    g_inner = guard.table();
    guard.table().sync_file_range = [](int fd, off_t offset, off_t length, unsigned flags) {
      g_writebacks.push_back({offset, length, flags});
      return g_inner.sync_file_range(fd, offset, length, flags);
    };
  }

  // A new file mapped read-write, every byte written through the mapping (so every page of
  // it is dirty in the page cache).
  mapped_file filled(std::uint64_t lead = 0) {
    mapped_file m = mapped_file::create(path, lead + kFileBytes, {lead});
    std::memset(m.data(), 0x5a, m.size());
    return m;
  }

  static write_behind_options quick() {
    write_behind_options options;
    options.interval = 1ms;
    options.idle = 20ms;
    options.first_write = 20ms;
    return options;
  }

  temp_dir tmp;
  std::filesystem::path path = tmp / "data.bin";
  seam_guard guard;
};

TEST_F(WriteBehind, WritesTheDirtyPagesBackAndEndsOnceTheyStopChanging) {
  mapped_file m = filled();
  ASSERT_TRUE(kernel_has_cachestat()) << "this kernel has no cachestat (Linux 6.5)";
  EXPECT_EQ(dirty_pages(path), kFileBytes / 4096);  // the kernel left them for now
  const std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(write_behind(m, {}, quick()).run(stop));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_GE(g_writebacks.size(), 1u);
  EXPECT_EQ(g_writebacks[0].offset, 0);
  EXPECT_EQ(g_writebacks[0].length, static_cast<off_t>(kFileBytes));
  EXPECT_EQ(g_writebacks[0].flags, static_cast<unsigned>(SYNC_FILE_RANGE_WRITE));
  EXPECT_EQ(dirty_pages(path), 0u);  // written, with no flush
}

TEST_F(WriteBehind, WaitsForTheProducersFirstWriteLongerThanTheIdleTime) {
  mapped_file m = mapped_file::create(path, kFileBytes);
  write_behind_options options = quick();
  options.first_write = 5s;
  const write_behind behind(m, {}, options);
  const std::atomic<bool> stop{false};
  bool ran = false;
  std::thread thread([&] { ran = behind.run(stop); });
  std::this_thread::sleep_for(200ms);  // ten times the idle time before the first write
  std::memset(m.data(), 0x5a, m.size());
  thread.join();
  EXPECT_TRUE(ran);
  EXPECT_GE(g_writebacks.size(), 1u);
}

TEST_F(WriteBehind, WritesOnlyTheMappedRangeOfTheFile) {
  const std::uint64_t lead = 8192;
  mapped_file m = filled(lead);
  const std::atomic<bool> stop{false};
  EXPECT_TRUE(write_behind(m, {.offset = 4096, .length = 8u << 20}, quick()).run(stop));
  ASSERT_GE(g_writebacks.size(), 1u);
  EXPECT_EQ(g_writebacks[0].offset, static_cast<off_t>(lead + 4096));
  EXPECT_EQ(g_writebacks[0].length, static_cast<off_t>(8u << 20));
}

TEST_F(WriteBehind, FewerDirtyBytesThanABatchWaitForFlush) {
  mapped_file m = filled();
  write_behind_options options = quick();
  options.batch_bytes = 2 * kFileBytes;
  const std::atomic<bool> stop{false};
  EXPECT_TRUE(write_behind(m, {}, options).run(stop));
  EXPECT_TRUE(g_writebacks.empty());
  EXPECT_EQ(dirty_pages(path), kFileBytes / 4096);
}

TEST_F(WriteBehind, EndsWhenTheStopFlagIsSet) {
  mapped_file m = filled();
  const std::atomic<bool> stop{true};
  EXPECT_TRUE(write_behind(m, {}, quick()).run(stop));
  EXPECT_TRUE(g_writebacks.empty());
}

TEST_F(WriteBehind, RunsOnAfterTheMappingIsClosed) {
  mapped_file m = filled();
  const write_behind behind(m, {}, quick());
  m.close();  // the dirty pages stay in the page cache, to be written
  const std::atomic<bool> stop{false};
  EXPECT_TRUE(behind.run(stop));
  EXPECT_EQ(dirty_pages(path), 0u);
}

TEST_F(WriteBehind, WithoutCachestatItWritesNothing) {
  mapped_file m = filled();
  guard.table().cachestat = [](int, std::uint64_t, std::uint64_t, page_cache_stat*) {
    errno = ENOSYS;
    return -1;
  };
  const std::atomic<bool> stop{false};
  EXPECT_FALSE(write_behind(m, {}, quick()).run(stop));
  EXPECT_TRUE(g_writebacks.empty());
}

TEST_F(WriteBehind, AnotherFileAtThePathIsNotWritten) {
  mapped_file m = filled();
  write_file(tmp / "other.bin", "replacement");
  ASSERT_EQ(::rename((tmp / "other.bin").c_str(), path.c_str()), 0);
  const std::atomic<bool> stop{false};
  EXPECT_FALSE(write_behind(m, {}, quick()).run(stop));
  EXPECT_TRUE(g_writebacks.empty());
}

TEST_F(WriteBehind, ReopensThroughTheGivenPath) {
  mapped_file m = filled();
  write_file(tmp / "other.bin", "replacement");
  ASSERT_EQ(::link(path.c_str(), (tmp / "alias.bin").c_str()), 0);
  ASSERT_EQ(::rename((tmp / "other.bin").c_str(), path.c_str()), 0);
  write_behind_options options = quick();
  options.reopen_path = tmp / "alias.bin";  // still the mapped inode
  const std::atomic<bool> stop{false};
  EXPECT_TRUE(write_behind(m, {}, options).run(stop));
  EXPECT_GE(g_writebacks.size(), 1u);
}

TEST_F(WriteBehind, RefusesMappingsThatWriteNothingToTheFile) {
  write_file(path, pattern(1 << 20));
  for (const access_mode mode : {access_mode::read_only, access_mode::copy_on_write}) {
    const mapped_file m = mapped_file::open(path, mode);
    try {
      write_behind behind(m);
      FAIL() << "expected layout_error";
    } catch (const mmap_array::layout_error& e) {
      EXPECT_EQ(e.code(), mmap_array::errc::not_writable);
      EXPECT_TRUE(contains(e.what(), path.string()));
    }
  }
}

TEST_F(WriteBehind, RefusesAClosedMappingAndARangePastTheEnd) {
  mapped_file m = filled();
  EXPECT_THROW(write_behind(m, {.offset = kFileBytes + 1}), mmap_array::layout_error);
  m.close();
  EXPECT_THROW(write_behind behind(m), mmap_array::state_error);
}

}  // namespace
