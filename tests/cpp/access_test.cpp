// access.hpp: advice, prefetch, populate, residency, page_info and take_rows,
// on real files and with failures injected through the syscall seam. Cold-cache
// tests evict their file with posix_fadvise(DONTNEED) and skip, saying why, on
// a filesystem that cannot evict (tmpfs).
#include "mmap_array/access.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mmap_array/fault_guard.hpp"
#include "mmap_array/mapped_file.hpp"
#include "test_support.hpp"

// Linux 5.14's names, for C libraries that predate them (as src/access_posix.cpp does).
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace {

using mmap_array::access_advice;
using mmap_array::access_mode;
using mmap_array::errc;
using mmap_array::file_truncated_error;
using mmap_array::layout_error;
using mmap_array::mapped_file;
using mmap_array::mapping_range;
using mmap_array::os_error;
using mmap_array::row_layout;
using mmap_array::state_error;
using mmap_array::strided_dim;
using namespace mmap_array_test;

const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

std::error_code os_code(int err) { return {err, std::system_category()}; }

// --- recording and failing fakes of madvise and mincore ---------------------------------

struct madvise_call {
  std::uintptr_t address;
  std::size_t length;
  int advice;
  std::thread::id thread = std::this_thread::get_id();
};
std::vector<madvise_call> g_madvise_calls;  // guarded by g_madvise_mutex: populate's threads
std::mutex g_madvise_mutex;
int g_fail_advice = -1;   // the advice the failing fake refuses (-1: any)
int g_fail_errno = 0;

int recording_madvise(void* address, std::size_t length, int advice) {
  std::lock_guard lock(g_madvise_mutex);
  g_madvise_calls.push_back({reinterpret_cast<std::uintptr_t>(address), length, advice});
  return mmap_array::detail::real_syscalls().madvise(address, length, advice);
}

int failing_madvise(void* address, std::size_t length, int advice) {
  std::lock_guard lock(g_madvise_mutex);
  g_madvise_calls.push_back({reinterpret_cast<std::uintptr_t>(address), length, advice});
  if (g_fail_advice < 0 || advice == g_fail_advice) {
    errno = g_fail_errno;
    return -1;
  }
  return mmap_array::detail::real_syscalls().madvise(address, length, advice);
}

// Reports every page whose number (counted from the start of the address space) is even as
// resident, so bin arithmetic can be checked exactly.
int even_pages_mincore(void* address, std::size_t length, unsigned char* vector) {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(address) / kPage;
  for (std::size_t i = 0; i < (length + kPage - 1) / kPage; ++i) vector[i] = (first + i) % 2 == 0;
  return 0;
}

int failing_mincore(void*, std::size_t, unsigned char*) {
  errno = ENOMEM;
  return -1;
}

std::size_t count_advice(int advice) {
  std::size_t n = 0;
  for (const madvise_call& call : g_madvise_calls) n += call.advice == advice;
  return n;
}

// Removes populate's huge-page hint from the recorded calls and returns how many there were,
// each checked to cover [begin, begin + length) whole: the tests below count the reads.
std::size_t take_huge_page_hints(std::uintptr_t begin, std::size_t length) {
  std::size_t hints = 0;
  std::erase_if(g_madvise_calls, [&](const madvise_call& call) {
    if (call.advice != MADV_HUGEPAGE) return false;
    EXPECT_EQ(call.address, begin);
    EXPECT_EQ(call.length, length);
    ++hints;
    return true;
  });
  return hints;
}

class Access : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mmap_array::install_fault_handler(); }
  void SetUp() override {
    g_madvise_calls.clear();
    g_fail_advice = -1;
    g_fail_errno = 0;
    mmap_array::take_truncation_events();
  }

  temp_dir tmp;

  std::filesystem::path file_of(std::size_t bytes, const char* name = "data.bin") {
    const auto path = tmp / name;
    write_file(path, pattern(bytes));
    return path;
  }

  // Drops the file's pages from the page cache; false if the filesystem keeps them (tmpfs).
  static bool evict(const std::filesystem::path& path, const mapped_file& file) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
    return mmap_array::residency(file) < 0.5;
  }
};

// --- advice names --------------------------------------------------------------------------

TEST_F(Access, AdviceNamesRoundTrip) {
  for (access_advice advice :
       {access_advice::normal, access_advice::sequential, access_advice::random,
        access_advice::willneed, access_advice::dontneed, access_advice::hugepage,
        access_advice::nohugepage}) {
    EXPECT_EQ(mmap_array::parse_access_advice(mmap_array::to_string(advice)), advice);
  }
  EXPECT_FALSE(mmap_array::parse_access_advice("Random"));
  EXPECT_FALSE(mmap_array::parse_access_advice(""));
  EXPECT_FALSE(mmap_array::parse_access_advice("populate"));
}

// --- advise --------------------------------------------------------------------------------

TEST_F(Access, AdviseWidensAMidPageRangeToWholePages) {
  // Data starting 100 bytes into the file starts 100 bytes into a page.
  const auto path = file_of(5 * kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only, {100});
  seam_guard guard;
  guard.table().madvise = recording_madvise;
  const std::size_t offset = kPage;  // bytes [kPage, kPage + 10) of the data
  mmap_array::advise(m, access_advice::random, {offset, 10});
  ASSERT_EQ(g_madvise_calls.size(), 1u);
  const auto first = reinterpret_cast<std::uintptr_t>(m.data() + offset);
  const madvise_call& call = g_madvise_calls[0];
  EXPECT_EQ(call.advice, MADV_RANDOM);
  EXPECT_EQ(call.address % kPage, 0u);
  EXPECT_EQ(call.address, first - first % kPage);  // the page holding byte `offset`
  EXPECT_EQ(call.length, kPage);                   // the 10 bytes do not cross a page
  // A range crossing a page boundary takes both pages.
  g_madvise_calls.clear();
  mmap_array::advise(m, access_advice::sequential, {kPage - 200, 300});
  ASSERT_EQ(g_madvise_calls.size(), 1u);
  EXPECT_EQ(g_madvise_calls[0].length, 2 * kPage);
  EXPECT_EQ(g_madvise_calls[0].advice, MADV_SEQUENTIAL);
  // The whole mapping: from its first page to the end of its last.
  g_madvise_calls.clear();
  mmap_array::advise(m, access_advice::normal);
  ASSERT_EQ(g_madvise_calls.size(), 1u);
  EXPECT_EQ(g_madvise_calls[0].address, reinterpret_cast<std::uintptr_t>(m.data()) - 100);
  EXPECT_EQ(g_madvise_calls[0].length, 5 * kPage);
}

TEST_F(Access, EveryAdviceReachesTheKernel) {
  const auto path = file_of(3 * kPage);
  for (access_mode mode : {access_mode::read_only, access_mode::read_write,
                           access_mode::copy_on_write}) {
    mapped_file m = mapped_file::open(path, mode);
    for (access_advice advice : {access_advice::normal, access_advice::sequential,
                                 access_advice::random, access_advice::willneed,
                                 access_advice::dontneed}) {
      std::error_code ec = os_code(EIO);
      mmap_array::advise(m, advice, {}, ec);
      EXPECT_FALSE(ec) << mmap_array::to_string(advice) << ": " << ec.message();
    }
    // Without transparent huge pages in the kernel, hugepage is EINVAL, said as such.
    try {
      mmap_array::advise(m, access_advice::hugepage);
    } catch (const os_error& e) {
      EXPECT_EQ(e.errno_value(), EINVAL);
      EXPECT_TRUE(contains(e.what(), "'hugepage'"));
    }
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(m.data()), m.size()),
              pattern(3 * kPage));
  }
}

TEST_F(Access, DontneedDropsTheChangesOfACopyOnWriteMapping) {
  // Documented in access.hpp: the kernel refaults the file's bytes.
  const auto path = file_of(kPage);
  mapped_file m = mapped_file::open(path, access_mode::copy_on_write);
  m.data()[0] = std::byte{0};
  mmap_array::advise(m, access_advice::dontneed);
  EXPECT_EQ(m.data()[0], std::byte{1});
}

TEST_F(Access, UnsupportedAdviceIsAnOsErrorNamingItAndTheFile) {
  const auto path = file_of(kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().madvise = failing_madvise;
  g_fail_errno = EINVAL;
  auto e = thrown<os_error>([&] { mmap_array::advise(m, access_advice::random); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EINVAL);
  EXPECT_EQ(e->operation(), "advise");
  EXPECT_TRUE(contains(e->what(), "'random'"));
  EXPECT_TRUE(contains(e->what(), path.string()));
  EXPECT_TRUE(contains(e->what(), "does not support"));
  g_fail_errno = ENOMEM;
  std::error_code ec;
  mmap_array::advise(m, access_advice::sequential, {}, ec);
  EXPECT_EQ(ec, os_code(ENOMEM));
}

TEST_F(Access, RangesPastTheEndAndClosedMappingsAreRefused) {
  const auto path = file_of(1000);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().madvise = recording_madvise;
  for (mapping_range range : {mapping_range{1001}, mapping_range{0, 1001}, mapping_range{999, 2},
                              mapping_range{std::numeric_limits<std::size_t>::max(), 2}}) {
    auto e = thrown<layout_error>([&] { mmap_array::advise(m, access_advice::random, range); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), errc::range_past_end);
    EXPECT_TRUE(contains(e->what(), "outside the mapping's 1000 bytes")) << e->what();
    EXPECT_THROW(mmap_array::populate(m, range), layout_error);
    EXPECT_THROW(mmap_array::residency(m, range), layout_error);
    EXPECT_THROW(mmap_array::prefetch(m, range), layout_error);
  }
  // The end itself is a valid, empty range: no system call.
  mmap_array::advise(m, access_advice::random, {1000, 0});
  mmap_array::populate(m, {1000});
  EXPECT_EQ(mmap_array::residency(m, {1000}), 1.0);
  EXPECT_TRUE(g_madvise_calls.empty());

  m.close();
  EXPECT_THROW(mmap_array::advise(m, access_advice::random), state_error);
  std::error_code ec;
  mmap_array::populate(m, {}, {}, ec);
  EXPECT_EQ(ec, errc::closed);
  EXPECT_EQ(mmap_array::residency(m, {}, ec), 0.0);
  EXPECT_EQ(ec, errc::closed);
  mmap_array::page_info(m, ec);
  EXPECT_EQ(ec, errc::closed);
}

TEST_F(Access, AnEmptyMappingMakesNoSystemCall) {
  const auto path = file_of(0);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().madvise = failing_madvise;
  guard.table().mincore = failing_mincore;
  g_fail_errno = EIO;
  mmap_array::advise(m, access_advice::hugepage);
  mmap_array::prefetch(m);
  mmap_array::populate(m);
  EXPECT_EQ(mmap_array::residency(m), 1.0);
  EXPECT_EQ(mmap_array::residency_map(m, 3), (std::vector<double>{1.0, 1.0, 1.0}));
  EXPECT_TRUE(g_madvise_calls.empty());
}

// --- prefetch ------------------------------------------------------------------------------

TEST_F(Access, PrefetchAsksInStepsTheKernelDoesNotCap) {
  const auto path = file_of(300 * 1024 + 7);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().madvise = recording_madvise;
  mmap_array::prefetch(m);
  // 300 KiB + 7 bytes = 76 pages: 128 KiB, 128 KiB, and the rest.
  ASSERT_EQ(g_madvise_calls.size(), 3u);
  std::uintptr_t next = reinterpret_cast<std::uintptr_t>(m.data());
  std::size_t total = 0;
  for (const madvise_call& call : g_madvise_calls) {
    EXPECT_EQ(call.advice, MADV_WILLNEED);
    EXPECT_EQ(call.address, next);
    EXPECT_LE(call.length, 128u * 1024);
    next += call.length;
    total += call.length;
  }
  EXPECT_EQ(total, (300 * 1024 + 7 + kPage - 1) / kPage * kPage);
  // advise(willneed) is the same request.
  g_madvise_calls.clear();
  mmap_array::advise(m, access_advice::willneed);
  EXPECT_EQ(g_madvise_calls.size(), 3u);
}

TEST_F(Access, PrefetchReadsAnEvictedFileInTheBackground) {
  const auto path = file_of(8 << 20);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  if (!evict(path, m)) GTEST_SKIP() << "the file system under " << tmp.dir() << " cannot evict";
  mmap_array::prefetch(m);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (mmap_array::residency(m) < 1.0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(mmap_array::residency(m), 1.0);
}

TEST_F(Access, PrefetchFailureIsAnOsError) {
  const auto path = file_of(kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().madvise = failing_madvise;
  g_fail_errno = EBADF;
  auto e = thrown<os_error>([&] { mmap_array::prefetch(m); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EBADF);
  EXPECT_EQ(e->operation(), "prefetch");
}

// --- populate ------------------------------------------------------------------------------

TEST_F(Access, PopulateMakesAnEvictedFileResident) {
  const auto path = file_of((20 << 20) + 123);
  mapped_file m = mapped_file::open(path, access_mode::read_only, {123});
  if (!evict(path, m)) GTEST_SKIP() << "the file system under " << tmp.dir() << " cannot evict";
  seam_guard guard;
  guard.table().madvise = recording_madvise;
  mmap_array::populate(m, {}, {.threads = 4});
  EXPECT_EQ(mmap_array::residency(m), 1.0);
  // First the hint to read in huge pages, over every page of the range.
  EXPECT_EQ(take_huge_page_hints(reinterpret_cast<std::uintptr_t>(m.data()) - 123,
                                 (m.size() + 123 + kPage - 1) / kPage * kPage),
            1u);
  // 20 MiB in 8 MiB chunks: 3 calls that tile the pages exactly once.
  ASSERT_EQ(g_madvise_calls.size(), 3u);
  std::sort(g_madvise_calls.begin(), g_madvise_calls.end(),
            [](const madvise_call& a, const madvise_call& b) { return a.address < b.address; });
  std::uintptr_t next = reinterpret_cast<std::uintptr_t>(m.data()) - 123;
  for (const madvise_call& call : g_madvise_calls) {
    EXPECT_EQ(call.advice, MADV_POPULATE_READ);
    EXPECT_EQ(call.address, next);
    next += call.length;
  }
  EXPECT_EQ(next, reinterpret_cast<std::uintptr_t>(m.data()) + m.size() + kPage - 1 -
                      (reinterpret_cast<std::uintptr_t>(m.data()) + m.size() + kPage - 1) % kPage);
}

TEST_F(Access, PopulateGivesEachThreadOneSequentialPart) {
  // A sparse 80 MiB file: two threads, each reading one contiguous half from start to end.
  const auto path = tmp / "sparse.bin";
  write_file(path, "");
  ASSERT_EQ(::truncate(path.c_str(), 80 << 20), 0);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().madvise = recording_madvise;
  mmap_array::populate(m, {}, {.threads = 2});
  EXPECT_EQ(take_huge_page_hints(reinterpret_cast<std::uintptr_t>(m.data()), 80 << 20), 1u);
  ASSERT_EQ(g_madvise_calls.size(), 10u);  // 2 parts of 40 MiB, in 8 MiB steps
  std::map<std::thread::id, std::vector<madvise_call>> by_thread;
  for (const madvise_call& call : g_madvise_calls) by_thread[call.thread].push_back(call);
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> parts;
  for (const auto& [thread, calls] : by_thread) {
    for (std::size_t i = 1; i < calls.size(); ++i) {
      EXPECT_EQ(calls[i].address, calls[i - 1].address + calls[i - 1].length);  // in order
    }
    parts.emplace_back(calls.front().address, calls.back().address + calls.back().length);
  }
  std::sort(parts.begin(), parts.end());
  // Usually one part each; a thread that started late may find both taken by the other.
  const auto begin = reinterpret_cast<std::uintptr_t>(m.data());
  EXPECT_EQ(parts.front().first, begin);
  EXPECT_EQ(parts.back().second, begin + (80u << 20));
  if (parts.size() == 2) {
    EXPECT_EQ(parts[0].second, parts[1].first);
  }
  // A range under 32 MiB is one stream, whatever the threads asked for.
  g_madvise_calls.clear();
  mmap_array::populate(m, {0, 20 << 20}, {.threads = 8});
  EXPECT_EQ(take_huge_page_hints(reinterpret_cast<std::uintptr_t>(m.data()), 20 << 20), 1u);
  EXPECT_EQ(g_madvise_calls.size(), 3u);
  for (const madvise_call& call : g_madvise_calls) EXPECT_EQ(call.thread, g_madvise_calls[0].thread);
}

TEST_F(Access, PopulateOfARangeLeavesTheRestOnDisk) {
  const auto path = file_of(64 * kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  if (!evict(path, m)) GTEST_SKIP() << "the file system under " << tmp.dir() << " cannot evict";
  mmap_array::advise(m, access_advice::random);  // no read-around beyond the range
  mmap_array::populate(m, {16 * kPage, 16 * kPage});
  EXPECT_EQ(mmap_array::residency(m, {16 * kPage, 16 * kPage}), 1.0);
  EXPECT_LT(mmap_array::residency(m, {40 * kPage, 24 * kPage}), 1.0);
}

TEST_F(Access, PopulateFallsBackToTouchingOnKernelsWithoutPopulateRead) {
  const auto path = file_of(3 << 20);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  const bool evicted = evict(path, m);
  seam_guard guard;
  guard.table().madvise = failing_madvise;
  g_fail_advice = MADV_POPULATE_READ;
  g_fail_errno = EINVAL;  // what Linux before 5.14 answers to an unknown advice
  mmap_array::populate(m, {}, {.threads = 1});
  EXPECT_EQ(count_advice(MADV_POPULATE_READ), 1u);  // asked once, then never again
  if (evicted) {
    EXPECT_EQ(mmap_array::residency(m), 1.0);
  }
  EXPECT_FALSE(m.truncated());
}

TEST_F(Access, PopulateOfAShrunkFileIsFileTruncatedError) {
  const auto path = file_of(8 * kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(2 * kPage)), 0);
  auto e = thrown<file_truncated_error>([&] { mmap_array::populate(m); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EFAULT);
  EXPECT_EQ(e->operation(), "populate");
  EXPECT_TRUE(m.truncated());  // poisoned, like every other way of finding it out
  // And again: the mapping stays refused.
  std::error_code ec;
  mmap_array::populate(m, {}, {}, ec);
  EXPECT_EQ(ec, os_code(EFAULT));
}

TEST_F(Access, PopulateFallbackOnAShrunkFileIsAbsorbedAndReported) {
  // The touching fallback meets SIGBUS; the fault guard (installed by the fixture) absorbs it.
  const auto path = file_of(8 * kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(2 * kPage)), 0);
  seam_guard guard;
  guard.table().madvise = failing_madvise;
  g_fail_advice = MADV_POPULATE_READ;
  g_fail_errno = EINVAL;
  const std::uint64_t before = mmap_array::absorbed_fault_count();
  EXPECT_THROW(mmap_array::populate(m, {}, {.threads = 3}), file_truncated_error);
  EXPECT_EQ(mmap_array::absorbed_fault_count() - before, 6u);  // one per vanished page
  EXPECT_TRUE(m.truncated());
}

TEST_F(Access, PopulateReportsOtherErrorsAsOsError) {
  const auto path = file_of(kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().madvise = failing_madvise;
  g_fail_errno = EIO;
  auto e = thrown<os_error>([&] { mmap_array::populate(m); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EIO);
  EXPECT_FALSE(m.truncated());
}

TEST_F(Access, PopulateForWritingOnlyForSharedWritableMappings) {
  const auto path = file_of(4 * kPage);
  for (access_mode mode : {access_mode::read_only, access_mode::copy_on_write}) {
    mapped_file m = mapped_file::open(path, mode);
    auto e = thrown<layout_error>([&] { mmap_array::populate(m, {}, {.write = true}); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), errc::not_writable);
  }
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  seam_guard guard;
  guard.table().madvise = recording_madvise;
  mmap_array::populate(m, {}, {.write = true});
  EXPECT_EQ(count_advice(MADV_POPULATE_WRITE), 1u);
  g_madvise_calls.clear();
  mmap_array::populate(m);  // read_write, but reading by default: nothing becomes dirty
  EXPECT_EQ(count_advice(MADV_POPULATE_READ), 1u);
}

// --- residency -----------------------------------------------------------------------------

TEST_F(Access, ResidencyMapCountsStraddlingPagesInBothBins) {
  const auto path = file_of(8 * kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().mincore = even_pages_mincore;
  const bool first_even = (reinterpret_cast<std::uintptr_t>(m.data()) / kPage) % 2 == 0;
  EXPECT_EQ(mmap_array::residency(m), 0.5);
  // Two bins of 4 pages: 2 of each resident.
  EXPECT_EQ(mmap_array::residency_map(m, 2), (std::vector<double>{0.5, 0.5}));
  // Eight bins of one page: alternating.
  const std::vector<double> single = mmap_array::residency_map(m, 8);
  for (std::size_t b = 0; b < 8; ++b) EXPECT_EQ(single[b], (b % 2 == 0) == first_even ? 1.0 : 0.0);
  // Three bins: pages [0, 3), [2, 6), [5, 8): page 2 and page 5 count in two bins each.
  const std::vector<double> three = mmap_array::residency_map(m, 3);
  const double a = first_even ? 2.0 / 3 : 1.0 / 3;
  const double b = 2.0 / 4;
  const double c = first_even ? 1.0 / 3 : 2.0 / 3;
  EXPECT_DOUBLE_EQ(three[0], a);
  EXPECT_DOUBLE_EQ(three[1], b);
  EXPECT_DOUBLE_EQ(three[2], c);
  // More bins than bytes in a range: empty bins count as resident.
  const std::vector<double> tiny = mmap_array::residency_map(m, 4, {0, 2});
  // Bin b holds bytes [floor(2b / 4), floor(2(b + 1) / 4)): [0, 0), [0, 1), [1, 1), [1, 2).
  EXPECT_EQ(tiny, (std::vector<double>{1.0, first_even ? 1.0 : 0.0, 1.0, first_even ? 1.0 : 0.0}));
}

TEST_F(Access, ResidencyMapRefusesZeroBins) {
  const auto path = file_of(kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  auto e = thrown<layout_error>([&] { mmap_array::residency_map(m, 0); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::bad_argument);
  EXPECT_TRUE(contains(e->what(), "bins"));
  std::error_code ec;
  EXPECT_TRUE(mmap_array::residency_map(m, std::size_t{1} << 33, {}, ec).empty());
  EXPECT_EQ(ec, errc::bad_argument);
}

TEST_F(Access, ResidencyFailureIsAnOsError) {
  const auto path = file_of(kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().mincore = failing_mincore;
  auto e = thrown<os_error>([&] { mmap_array::residency(m); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOMEM);
  EXPECT_TRUE(contains(e->what(), "residency"));
  EXPECT_THROW(mmap_array::residency_map(m, 4), os_error);
}

TEST_F(Access, ResidencyOfALargeMappingIsCountedInBlocks) {
  // More pages than one mincore block (65,536): the blocks must join without gaps.
  const auto path = tmp / "sparse.bin";
  write_file(path, "");
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>((70000 + 5) * kPage)), 0);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().mincore = even_pages_mincore;
  EXPECT_NEAR(mmap_array::residency(m), 0.5, 1.0 / 70005);
  const std::vector<double> map = mmap_array::residency_map(m, 70005);
  const bool first_even = (reinterpret_cast<std::uintptr_t>(m.data()) / kPage) % 2 == 0;
  for (std::size_t b = 0; b < map.size(); b += 997) {
    EXPECT_EQ(map[b], (b % 2 == 0) == first_even ? 1.0 : 0.0) << b;
  }
}

// --- page_info -----------------------------------------------------------------------------

std::uint64_t counter(const mmap_array::page_report& report, std::string_view name) {
  for (const auto& [key, value] : report.smaps) {
    if (key == name) return value;
  }
  ADD_FAILURE() << "no smaps counter " << name;
  return 0;
}

TEST_F(Access, PageInfoReportsTheMappingsOwnVma) {
  const auto path = file_of((4 << 20) + 100);
  mapped_file m = mapped_file::open(path, access_mode::read_only, {100});
  mmap_array::populate(m);
  const mmap_array::page_report report = mmap_array::page_info(m);
  EXPECT_EQ(report.page_size, kPage);
  EXPECT_EQ(report.vmas, 1u);
  const std::uint64_t mapped = (m.mapped_length() + kPage - 1) / kPage * kPage;
  EXPECT_EQ(counter(report, "Size"), mapped);
  EXPECT_EQ(counter(report, "Rss"), mapped);  // populated: every page mapped
  if (report.huge_page_size > 0) {
    ASSERT_TRUE(report.thp_enabled);
    EXPECT_TRUE(*report.thp_enabled == "always" || *report.thp_enabled == "madvise" ||
                *report.thp_enabled == "never")
        << *report.thp_enabled;
    EXPECT_TRUE(report.pmd_aligned);  // at least 2 MiB: placed for huge pages
  }
  // populate read the read-only range in huge pages where the kernel has them.
  EXPECT_EQ(report.hugepage_advised, report.huge_page_size > 0);
  // Advice over part of the mapping splits its VMA.
  mmap_array::advise(m, access_advice::random, {0, kPage});
  EXPECT_EQ(mmap_array::page_info(m).vmas, 2u);
  std::error_code ec;
  mmap_array::advise(m, access_advice::hugepage, {}, ec);
  if (!ec) {
    EXPECT_TRUE(mmap_array::page_info(m).hugepage_advised);
  }
}

TEST_F(Access, PopulateReadsOnlyLargeRangesOfReadOnlyMappingsInHugePages) {
  const auto path = file_of(4 << 20);
  const bool huge_pages = mmap_array::page_info(mapped_file::open(path, access_mode::read_only))
                              .huge_page_size > 0;
  for (const access_mode mode : {access_mode::read_only, access_mode::copy_on_write}) {
    mapped_file m = mapped_file::open(path, mode);
    EXPECT_FALSE(mmap_array::page_info(m).hugepage_advised);
    mmap_array::populate(m);
    EXPECT_EQ(mmap_array::page_info(m).hugepage_advised, huge_pages);
  }
  // A dirtied 2 MiB folio may be written back whole: shared writable mappings keep small pages.
  mapped_file writable = mapped_file::open(path, access_mode::read_write);
  mmap_array::populate(writable);
  EXPECT_FALSE(mmap_array::page_info(writable).hugepage_advised);
  // Under 2 MiB there is no huge page to read.
  mapped_file small = mapped_file::open(path, access_mode::read_only, {0, 1 << 20});
  mmap_array::populate(small);
  EXPECT_FALSE(mmap_array::page_info(small).hugepage_advised);
}

int g_refused_open_count = 0;
int refusing_proc_open(const char* path, int flags, mode_t mode) {
  if (std::string_view(path) == "/proc/self/smaps") {
    ++g_refused_open_count;
    errno = EACCES;
    return -1;
  }
  return mmap_array::detail::real_syscalls().open(path, flags, mode);
}

TEST_F(Access, PageInfoFailsClearlyWithoutSmaps) {
  const auto path = file_of(kPage);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  seam_guard guard;
  guard.table().open = refusing_proc_open;
  g_refused_open_count = 0;
  auto e = thrown<os_error>([&] { mmap_array::page_info(m); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EACCES);
  EXPECT_TRUE(contains(e->what(), "/proc/self/smaps"));
  EXPECT_EQ(g_refused_open_count, 1);
}

// --- take_rows -----------------------------------------------------------------------------

// A file of `count` int32 values 0, 1, 2...
std::filesystem::path int_file(const temp_dir& dir, std::size_t count, std::size_t lead = 0) {
  std::string bytes(lead, 'x');
  for (std::uint32_t i = 0; i < count; ++i) {
    bytes.append(reinterpret_cast<const char*>(&i), sizeof i);
  }
  const auto path = dir / "ints.bin";
  write_file(path, bytes);
  return path;
}

std::vector<std::int32_t> take(const mapped_file& m, const row_layout& layout,
                               const std::vector<std::int64_t>& indices, unsigned threads = 0) {
  std::vector<std::int32_t> out(mmap_array::take_size(layout, indices.size()) / 4, -1);
  mmap_array::take_rows(m, layout, indices, std::as_writable_bytes(std::span(out)),
                        {.threads = threads});
  return out;
}

TEST_F(Access, TakeRowsOfACArrayWithNegativeAndRepeatedIndices) {
  // A 5 x 3 C array of int32 starting 12 bytes into the file.
  mapped_file m = mapped_file::open(int_file(tmp, 15, 12), access_mode::read_only, {12});
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {}, .axis = {5, 12},
                          .inner = {{3, 4}}};
  EXPECT_EQ(take(m, layout, {4, -1, 0, 0, -5, 2}),
            (std::vector<std::int32_t>{12, 13, 14, 12, 13, 14, 0, 1, 2, 0, 1, 2, 0, 1, 2, 6, 7, 8}));
  EXPECT_TRUE(take(m, layout, {}).empty());
}

TEST_F(Access, TakeAlongAMiddleAxis) {
  // A 2 x 3 x 4 C array; take along axis 1: result 2 x k x 4.
  mapped_file m = mapped_file::open(int_file(tmp, 24), access_mode::read_only);
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {{2, 48}}, .axis = {3, 16},
                          .inner = {{4, 4}}, .axis_number = 1};
  EXPECT_EQ(take(m, layout, {2, 0}),
            (std::vector<std::int32_t>{8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15}));
}

TEST_F(Access, TakeFromAStridedRowCopiesElementByElement) {
  // The file holds a Fortran-ordered 3 x 4 array: element (i, j) at (i + 3 j) * 4 bytes.
  // Rows along axis 0 are 4 elements 12 bytes apart.
  mapped_file m = mapped_file::open(int_file(tmp, 12), access_mode::read_only);
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {}, .axis = {3, 4},
                          .inner = {{4, 12}}};
  EXPECT_EQ(take(m, layout, {1, -1}), (std::vector<std::int32_t>{1, 4, 7, 10, 2, 5, 8, 11}));
  // Columns along axis 1 (outer: the 3 rows) are contiguous.
  const row_layout columns{.offset = 0, .element_bytes = 4, .outer = {{3, 4}}, .axis = {4, 12},
                           .inner = {}, .axis_number = 1};
  EXPECT_EQ(take(m, columns, {3, 0}), (std::vector<std::int32_t>{9, 0, 10, 1, 11, 2}));
}

TEST_F(Access, TakeWithOneThreadOrManyGivesTheSameBytes) {
  const std::size_t rows = 20000;
  const std::size_t width = 37;  // int32 per row: rows straddle pages
  mapped_file m = mapped_file::open(int_file(tmp, rows * width), access_mode::read_only);
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {},
                          .axis = {rows, width * 4}, .inner = {{width, 4}}};
  std::mt19937_64 random(3);
  std::vector<std::int64_t> indices(30000);
  for (auto& index : indices) {
    index = static_cast<std::int64_t>(random() % (2 * rows)) - static_cast<std::int64_t>(rows);
  }
  const std::vector<std::int32_t> one = take(m, layout, indices, 1);
  EXPECT_EQ(take(m, layout, indices, 4), one);
  EXPECT_EQ(take(m, layout, indices, 0), one);
  for (std::size_t i = 0; i < indices.size(); i += 1111) {
    const std::int64_t row = indices[i] < 0 ? indices[i] + static_cast<std::int64_t>(rows) : indices[i];
    EXPECT_EQ(one[i * width + 5], row * static_cast<std::int64_t>(width) + 5);
  }
}

TEST_F(Access, TakeHintsColdRowsAndNotWarmOnes) {
  const std::size_t rows = 4096;
  const std::size_t width = kPage / 4;  // one page per row
  const auto path = int_file(tmp, rows * width);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {},
                          .axis = {rows, width * 4}, .inner = {{width, 4}}};
  std::vector<std::int64_t> indices;
  for (std::size_t i = 0; i < 200; ++i) indices.push_back(static_cast<std::int64_t>(i * 17 % rows));
  if (!evict(path, m)) GTEST_SKIP() << "the file system under " << tmp.dir() << " cannot evict";
  seam_guard guard;
  guard.table().madvise = recording_madvise;
  const std::vector<std::int32_t> cold = take(m, layout, indices, 1);
  EXPECT_EQ(count_advice(MADV_WILLNEED), indices.size());  // one per row, none shared
  g_madvise_calls.clear();
  EXPECT_EQ(take(m, layout, indices, 1), cold);
  EXPECT_EQ(count_advice(MADV_WILLNEED), 0u);  // all in memory now
}

TEST_F(Access, TakeRefusesOutOfRangeIndicesBeforeCopyingAnything) {
  mapped_file m = mapped_file::open(int_file(tmp, 15), access_mode::read_only);
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {}, .axis = {5, 12},
                          .inner = {{3, 4}}, .axis_number = 0};
  for (std::int64_t bad : {std::int64_t{5}, std::int64_t{-6},
                           std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::int64_t>::max()}) {
    std::vector<std::int32_t> out(6, -1);
    const std::vector<std::int64_t> indices{1, bad};
    auto e = thrown<layout_error>([&] {
      mmap_array::take_rows(m, layout, indices, std::as_writable_bytes(std::span(out)));
    });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), errc::index_out_of_range);
    EXPECT_TRUE(contains(e->what(), "index " + std::to_string(bad) +
                                        " is out of bounds for axis 0 with size 5"))
        << e->what();
    EXPECT_EQ(out, std::vector<std::int32_t>(6, -1));  // untouched
  }
}

TEST_F(Access, TakeRefusesBadLayoutsAndDestinations) {
  mapped_file m = mapped_file::open(int_file(tmp, 15), access_mode::read_write);
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {}, .axis = {5, 12},
                          .inner = {{3, 4}}};
  std::vector<std::int32_t> out(5);
  const std::vector<std::int64_t> one{0, 1};
  auto wrong_size = thrown<layout_error>([&] {
    mmap_array::take_rows(m, layout, one, std::as_writable_bytes(std::span(out)));
  });
  ASSERT_TRUE(wrong_size);
  EXPECT_EQ(wrong_size->code(), errc::shape_mismatch);
  EXPECT_TRUE(contains(wrong_size->what(), "holds 20 bytes; the rows take 24"));

  row_layout too_long = layout;
  too_long.axis.count = 6;
  std::vector<std::int32_t> out6(6);
  auto past = thrown<layout_error>([&] {
    mmap_array::take_rows(m, too_long, one, std::as_writable_bytes(std::span(out6)));
  });
  ASSERT_TRUE(past);
  EXPECT_EQ(past->code(), errc::range_past_end);

  row_layout overflowing = layout;
  overflowing.axis.stride = std::numeric_limits<std::size_t>::max() / 2;
  EXPECT_THROW(mmap_array::take_rows(m, overflowing, one, std::as_writable_bytes(std::span(out6))),
               layout_error);

  // Writing into the mapped array itself while reading it is refused.
  auto overlap = thrown<layout_error>([&] {
    mmap_array::take_rows(m, layout, one, std::span(m.data() + 24, 24));
  });
  ASSERT_TRUE(overlap);
  EXPECT_EQ(overlap->code(), errc::bad_argument);

  row_layout zero = layout;
  zero.element_bytes = 0;
  std::error_code ec;
  mmap_array::take_rows(m, zero, one, {}, {}, ec);
  EXPECT_EQ(ec, errc::invalid_itemsize);

  m.close();
  mmap_array::take_rows(m, layout, one, std::as_writable_bytes(std::span(out6)), {}, ec);
  EXPECT_EQ(ec, errc::closed);
}

TEST_F(Access, TakeFromAShrunkFileIsFileTruncatedError) {
  const std::size_t rows = 64;
  const std::size_t width = kPage / 4;
  const auto path = int_file(tmp, rows * width);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {},
                          .axis = {rows, width * 4}, .inner = {{width, 4}}};
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(8 * kPage)), 0);
  std::vector<std::int32_t> out(2 * width, -1);
  const std::vector<std::int64_t> indices{3, 40};
  auto e = thrown<file_truncated_error>([&] {
    mmap_array::take_rows(m, layout, indices, std::as_writable_bytes(std::span(out)), {});
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->operation(), "take rows of");
  EXPECT_EQ(out[0], static_cast<std::int32_t>(3 * width));  // row 3 survived the truncation
  EXPECT_EQ(out[width], 0);                                  // row 40 vanished: zeros
  // Once truncated, the mapping is refused before anything is read.
  std::error_code ec;
  mmap_array::take_rows(m, layout, indices, std::as_writable_bytes(std::span(out)), {}, ec);
  EXPECT_EQ(ec, os_code(EFAULT));
}

// A file of `count` int32 values 0, 1, 2... after `lead` bytes, written 4 KiB at a time (on
// ext4 the page cache then holds it in 4 KiB folios, the case row_reads.hpp is about).
std::filesystem::path int_file_in_small_writes(const temp_dir& dir, std::size_t count,
                                               std::size_t lead = 0) {
  const auto path = dir / "small-writes.bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, std::string(lead, 'x').data(), lead), static_cast<ssize_t>(lead));
  std::vector<std::uint32_t> page(kPage / 4);
  for (std::size_t start = 0; start < count; start += page.size()) {
    const std::size_t n = std::min(page.size(), count - start);
    std::iota(page.begin(), page.begin() + static_cast<std::ptrdiff_t>(n), static_cast<std::uint32_t>(start));
    EXPECT_EQ(::write(fd, page.data(), n * 4), static_cast<ssize_t>(n * 4));
  }
  ::close(fd);
  return path;
}

// The seam as take_rows' pread path sees it. Which path a batch takes depends on how the
// kernel caches the file; these fakes fix it, so the tests do not depend on the file system.
std::atomic<int> g_row_reads{0};       // preads of at least a page: rows (take_rows reads on
                                       // several threads)
std::atomic<int> g_probe_mapped{-1};   // the pagemap's answer: -1 the real one, 0 unmapped, 1 mapped
std::atomic<long> g_filesystem{0};     // fstatfs' f_type: 0 the real one

ssize_t seam_pread(int fd, void* buffer, std::size_t count, off_t offset) {
  if (count == sizeof(std::uint64_t) && g_probe_mapped >= 0) {  // a pagemap entry
    const std::uint64_t entry = g_probe_mapped == 1 ? std::uint64_t{1} << 63 : 0;
    std::memcpy(buffer, &entry, sizeof entry);
    return sizeof entry;
  }
  if (count >= kPage) ++g_row_reads;
  return mmap_array::detail::real_syscalls().pread(fd, buffer, count, offset);
}

int seam_fstatfs(int fd, struct statfs* st) {
  const int result = mmap_array::detail::real_syscalls().fstatfs(fd, st);
  if (result == 0 && g_filesystem != 0) st->f_type = g_filesystem;
  return result;
}

int resident_mincore(void*, std::size_t length, unsigned char* vector) {
  std::memset(vector, 1, (length + kPage - 1) / kPage);
  return 0;
}

// Every `step`-th row of [first, last), as take's indices.
std::vector<std::int64_t> every(std::size_t step, std::size_t first, std::size_t last) {
  std::vector<std::int64_t> indices;
  for (std::size_t i = first; i < last; i += step) indices.push_back(static_cast<std::int64_t>(i));
  return indices;
}

// Checks that `out` holds, for each index, the row of int32 values the file has there.
void expect_rows(const std::vector<std::int32_t>& out, const std::vector<std::int64_t>& indices,
                 std::size_t width) {
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const auto first = static_cast<std::int32_t>(indices[i] * static_cast<std::int64_t>(width));
    ASSERT_EQ(out[i * width], first) << "row " << indices[i];
    ASSERT_EQ(out[i * width + width - 1], first + static_cast<std::int32_t>(width) - 1);
  }
}

class TakeReads : public Access {
 protected:
  static constexpr std::size_t kRows = 4096;  // 16 MiB of one-page rows
  const std::size_t kWidth = kPage / 4;
  const row_layout layout{.offset = 0, .element_bytes = 4, .outer = {},
                          .axis = {kRows, kWidth * 4}, .inner = {{kWidth, 4}}};
  std::filesystem::path path = int_file_in_small_writes(tmp, kRows * kWidth);
  // 1,024 rows in 4 batches of 1 MiB, none adjacent.
  const std::vector<std::int64_t> spread = every(4, 0, kRows);
  seam_guard guard;

  void SetUp() override {
    Access::SetUp();
    g_row_reads = 0;
    g_probe_mapped = 0;  // a fault maps only the pages around it: read the rows
    g_filesystem = EXT4_SUPER_MAGIC;
    guard.table().pread = seam_pread;
    guard.table().fstatfs = seam_fstatfs;
    guard.table().mincore = resident_mincore;
  }
};

TEST_F(TakeReads, RowsThatFaultsWouldMapOneByOneAreRead) {
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  const std::vector<std::int32_t> out = take(m, layout, spread, 2);
  EXPECT_EQ(g_row_reads, 1024);
  expect_rows(out, spread, kWidth);
}

TEST_F(TakeReads, AdjacentRowsTakeOneRead) {
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  const std::vector<std::int64_t> run = every(1, 256, 768);  // two batches of 256 rows
  const std::vector<std::int32_t> out = take(m, layout, run, 1);
  EXPECT_EQ(g_row_reads, 2);
  expect_rows(out, run, kWidth);
}

TEST_F(TakeReads, ReadsSeeUnflushedWritesOfASharedMappingAndStartAtItsOffset) {
  const std::size_t lead = 12;  // the mapping starts 12 bytes into the file
  const auto shifted = int_file_in_small_writes(tmp, kRows * kWidth, lead);  // replaces `path`
  mapped_file m = mapped_file::open(shifted, access_mode::read_write, {lead});
  const std::int32_t changed = -5;
  std::memcpy(m.data() + 8 * kPage, &changed, sizeof changed);  // row 8, not flushed
  const std::vector<std::int32_t> out = take(m, layout, spread, 2);
  EXPECT_EQ(g_row_reads, 1024);
  EXPECT_EQ(out[2 * kWidth], changed);  // the third index is row 8
  EXPECT_EQ(out[2 * kWidth + 1], static_cast<std::int32_t>(8 * kWidth + 1));
  // The other rows, from the fourth index (row 12) on.
  expect_rows(std::vector<std::int32_t>(out.begin() + static_cast<std::ptrdiff_t>(3 * kWidth), out.end()),
              every(4, 12, kRows), kWidth);
  EXPECT_EQ(out[0], 0);
}

TEST_F(TakeReads, RowsWhoseFaultsMapWholeRegionsAreCopied) {
  g_probe_mapped = 1;
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  expect_rows(take(m, layout, spread, 2), spread, kWidth);
  EXPECT_EQ(g_row_reads, 0);
}

TEST_F(TakeReads, RowsAlreadyMappedAreCopiedAsTheRealPagemapSays) {
  g_probe_mapped = -1;
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  std::uint64_t sum = 0;
  for (std::size_t at = 4; at < m.size(); at += kPage) sum += static_cast<std::uint8_t>(m.data()[at]);
  EXPECT_GT(sum, 0u);
  expect_rows(take(m, layout, spread, 2), spread, kWidth);
  EXPECT_EQ(g_row_reads, 0);
}

TEST_F(TakeReads, APrivateMappingIsNeverReadFromTheFile) {
  mapped_file m = mapped_file::open(path, access_mode::copy_on_write);
  std::memset(m.data() + 8 * kPage, 0x7f, kPage);  // row 8 now differs from the file's
  const std::vector<std::int32_t> out = take(m, layout, spread, 2);
  EXPECT_EQ(g_row_reads, 0);
  EXPECT_EQ(out[2 * kWidth], 0x7f7f7f7f);  // the third index is row 8
  EXPECT_EQ(out[3 * kWidth], static_cast<std::int32_t>(12 * kWidth));
}

TEST_F(TakeReads, AfterAChdirRowsAreReadThroughTheReopenPath) {
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(tmp.dir());
  mapped_file m = mapped_file::open(path.filename(), access_mode::read_only);
  std::filesystem::current_path(before);  // the relative name no longer names the file
  // Through the mapping's own path: nothing to open, so every row is faulted in.
  expect_rows(take(m, layout, spread, 2), spread, kWidth);
  EXPECT_EQ(g_row_reads, 0);
  // Through an absolute path, as the Python handle passes the name it resolved at open.
  std::vector<std::int32_t> out(mmap_array::take_size(layout, spread.size()) / 4, -1);
  mmap_array::take_rows(m, layout, spread, std::as_writable_bytes(std::span(out)),
                        {.threads = 2, .reopen_path = path});
  EXPECT_EQ(g_row_reads, 1024);
  expect_rows(out, spread, kWidth);
}

TEST_F(TakeReads, AnotherFileAtThePathIsNotRead) {
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  write_file(tmp / "other.bin", std::string(kRows * kPage, '\x01'));
  ASSERT_EQ(::rename((tmp / "other.bin").c_str(), path.c_str()), 0);
  expect_rows(take(m, layout, spread, 2), spread, kWidth);  // the mapped file's rows
  EXPECT_EQ(g_row_reads, 0);
}

TEST_F(TakeReads, AFifoAtThePathIsNotOpenedForReading) {
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // A writer opening the FIFO blocks until a reader opens it; take must not be one (its
  // open would release the writer, whose writes would then fail with EPIPE).
  std::atomic<bool> writer_released{false};
  std::thread writer([&] {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    writer_released = true;
    if (fd >= 0) ::close(fd);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block in open
  expect_rows(take(m, layout, spread, 2), spread, kWidth);
  EXPECT_EQ(g_row_reads, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(writer_released);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // release it
  writer.join();
  if (reader >= 0) ::close(reader);
}

TEST_F(TakeReads, FilesystemsWhoseReadsMayMissTheMappingAreNotRead) {
  g_filesystem = 0x794c7630;  // overlayfs: the mapping may hold a lower layer's pages
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  expect_rows(take(m, layout, spread, 2), spread, kWidth);
  EXPECT_EQ(g_row_reads, 0);
}

TEST_F(TakeReads, AFileCutBelowTheRowsReadIsFileTruncatedErrorAndStaysSo) {
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  // The last 16 rows go; the batch's pages still look resident (the fake mincore, as probes
  // 32 rows apart can miss so small a cut), so the batch is read and its reads come up short.
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>((kRows - 16) * kPage)), 0);
  const std::vector<std::int64_t> tail = every(1, kRows - 256, kRows);
  std::vector<std::int32_t> out(tail.size() * kWidth, -1);
  auto e = thrown<file_truncated_error>([&] {
    mmap_array::take_rows(m, layout, tail, std::as_writable_bytes(std::span(out)), {.threads = 1});
  });
  ASSERT_TRUE(e);
  EXPECT_GT(g_row_reads, 0);
  expect_rows(std::vector<std::int32_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(240 * kWidth)), every(1, kRows - 256, kRows - 16), kWidth);
  for (std::size_t i = 240; i < tail.size(); ++i) ASSERT_EQ(out[i * kWidth], 0) << "row " << tail[i];
  // The mapping is marked, as a fault on the vanished pages marks it: refused from now on.
  EXPECT_TRUE(m.truncated());
  std::error_code ec;
  mmap_array::take_rows(m, layout, tail, std::as_writable_bytes(std::span(out)), {}, ec);
  EXPECT_EQ(ec, os_code(EFAULT));
}

TEST_F(Access, TakeSizeChecksOverflow) {
  const row_layout layout{.offset = 0, .element_bytes = 8, .outer = {{1u << 31, 8}},
                          .axis = {4, 8}, .inner = {{1u << 31, 8}}};
  EXPECT_THROW(mmap_array::take_size(layout, 1u << 4), layout_error);
  EXPECT_EQ(mmap_array::take_size(row_layout{.element_bytes = 4, .inner = {{3, 4}}}, 5), 60u);
}

}  // namespace

TEST_F(Access, ACreatedFileOf2MiBOrMoreIsAdvisedHugePages) {
  mapped_file big = mapped_file::create(tmp / "big.bin", 4 << 20);
  const mmap_array::page_report report = mmap_array::page_info(big);
  EXPECT_EQ(report.hugepage_advised, report.huge_page_size > 0);
  mmap_array::advise(big, access_advice::nohugepage);
  EXPECT_FALSE(mmap_array::page_info(big).hugepage_advised);
  mapped_file small = mapped_file::create(tmp / "small.bin", 1 << 20);
  EXPECT_FALSE(mmap_array::page_info(small).hugepage_advised);
}
