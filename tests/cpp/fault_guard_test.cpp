// The fault guard: touching pages that vanished from a mapped file is absorbed
// (zeros, a truncated mapping, an event), everything else passes on untouched.
// Anything expected to die runs in a forked child.
#include "mmap_array/fault_guard.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mmap_array/atomic_file.hpp"
#include "mmap_array/mapped_file.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::file_truncated_error;
using mmap_array::mapped_file;
using namespace mmap_array_test;

const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

// Reads every byte through a volatile pointer, so the compiler cannot skip the accesses.
unsigned sum_bytes(const std::byte* data, std::size_t size) {
  unsigned total = 0;
  const volatile std::byte* p = data;
  for (std::size_t i = 0; i < size; ++i) total += std::to_integer<unsigned>(p[i]);
  return total;
}

void shrink(const std::filesystem::path& path, std::size_t size) {
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0) << std::strerror(errno);
}

// Runs `body` in a child and returns its wait status.
template <class Body>
int in_child(Body body) {
  const pid_t child = ::fork();
  if (child == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return status;
}

class FaultGuard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mmap_array::install_fault_handler(); }
  void SetUp() override { mmap_array::take_truncation_events(); }

  temp_dir tmp;

  std::filesystem::path pages(std::size_t count, char fill = 'x') {
    const auto path = tmp / "pages.bin";
    write_file(path, std::string(count * kPage, fill));
    return path;
  }
};

TEST_F(FaultGuard, VanishedPagesReadAsZerosInEveryMode) {
  for (access_mode mode : {access_mode::read_only, access_mode::read_write,
                           access_mode::copy_on_write}) {
    const auto path = pages(4);
    mapped_file m = mapped_file::open(path, mode);
    const std::uint64_t before = mmap_array::absorbed_fault_count();
    shrink(path, 0);
    EXPECT_EQ(sum_bytes(m.data(), m.size()), 0u);
    EXPECT_TRUE(m.truncated());
    EXPECT_EQ(mmap_array::absorbed_fault_count() - before, 4u);  // one fault per page
    const auto events = mmap_array::take_truncation_events();
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events.front().path, path);
    EXPECT_EQ(events.back().file_offset, 3 * kPage);
  }
}

TEST_F(FaultGuard, TruncationToTheMiddleOfAPageKeepsWhatRemains) {
  const auto path = pages(3, '\x01');
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  shrink(path, kPage + 100);
  // Page 0 is intact, page 1 holds 100 bytes of the file (the rest of it reads as zeros, as
  // the kernel has it), page 2 is gone.
  EXPECT_EQ(sum_bytes(m.data(), m.size()), kPage + 100);
  const auto events = mmap_array::take_truncation_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].file_offset, 2 * kPage);
}

TEST_F(FaultGuard, WritesToAVanishedPageCompleteAndFlushReportsTheLoss) {
  const auto path = pages(2);
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  shrink(path, 0);
  m.data()[kPage + 5] = std::byte{7};  // a write fault on a vanished page
  EXPECT_EQ(m.data()[kPage + 5], std::byte{7});
  EXPECT_TRUE(m.truncated());
  auto e = thrown<file_truncated_error>([&] { m.flush(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EFAULT);
  EXPECT_EQ(e->path(), path);
}

TEST_F(FaultGuard, FaultsFromManyThreadsAreAllAbsorbed) {
  const auto path = pages(64);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  shrink(path, 0);
  std::vector<std::thread> threads;
  std::atomic<unsigned> total{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t page = static_cast<std::size_t>(t); page < 64; page += 8) {
        total += sum_bytes(m.data() + page * kPage, kPage);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(total.load(), 0u);
  EXPECT_EQ(mmap_array::take_truncation_events().size(), 64u);
}

TEST_F(FaultGuard, AForkedChildAbsorbsFaultsOnInheritedMappings) {
  const auto path = pages(2);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  const int status = in_child([&] {
    shrink(path, 0);
    if (sum_bytes(m.data(), m.size()) != 0 || !m.truncated()) ::_exit(1);
  });
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(FaultGuard, EventsBeyondTheRingAreCountedAsDropped) {
  const auto path = pages(300);
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  shrink(path, 0);
  sum_bytes(m.data(), m.size());
  std::uint64_t dropped = 0;
  const auto events = mmap_array::take_truncation_events(&dropped);
  EXPECT_EQ(events.size() + dropped, 300u);
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(events.back().file_offset, 299 * kPage);  // the newest are kept
}

TEST_F(FaultGuard, WritingFromAVanishedMappingIsFileTruncatedError) {
  const auto path = pages(2);
  const auto target = tmp / "copy.bin";
  write_file(target, "old");
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  shrink(path, 0);
  // The kernel copies from the mapping without a signal: write(2) fails with EFAULT.
  auto e = thrown<file_truncated_error>([&] {
    mmap_array::write_file_atomically(target, std::vector<std::span<const std::byte>>{
                                                  {m.data(), m.size()}});
  });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), path.string()));
  EXPECT_TRUE(m.truncated());
  EXPECT_EQ(read_file(target), "old");
}

TEST_F(FaultGuard, AWriterThatSawAFaultDoesNotCommit) {
  const auto path = pages(1);
  const auto target = tmp / "copy.bin";
  write_file(target, "old");
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  mmap_array::atomic_writer writer(target);
  shrink(path, 0);
  std::vector<std::byte> copy(m.data(), m.data() + m.size());  // faults: zeros copied
  writer.write(copy);
  EXPECT_THROW(writer.commit(), file_truncated_error);
  EXPECT_EQ(read_file(target), "old");
  EXPECT_EQ(tmp.names(), (std::vector<std::string>{"copy.bin", "pages.bin"}));
}

TEST_F(FaultGuard, AFaultOutsideOurMappingsStillKills) {
  const auto path = pages(1);
  const int status = in_child([&] {
    const int fd = ::open(path.c_str(), O_RDONLY);
    auto* foreign = static_cast<const std::byte*>(::mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd, 0));
    shrink(path, 0);
    sum_bytes(foreign, kPage);  // not ours: the default action applies
    ::_exit(0);
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGBUS);
}

void previous_handler(int, siginfo_t*, void*) { ::_exit(42); }

TEST_F(FaultGuard, AFaultOutsideOurMappingsReachesThePreviousHandler) {
  const auto path = pages(1);
  const int status = in_child([&] {
    mmap_array::uninstall_fault_handler();
    struct sigaction previous {};
    previous.sa_sigaction = &previous_handler;
    previous.sa_flags = SA_SIGINFO;
    ::sigaction(SIGBUS, &previous, nullptr);
    mmap_array::install_fault_handler();
    const int fd = ::open(path.c_str(), O_RDONLY);
    auto* foreign = static_cast<const std::byte*>(::mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd, 0));
    shrink(path, 0);
    sum_bytes(foreign, kPage);
    ::_exit(0);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST_F(FaultGuard, ASentSigbusIsNotAFaultAndKills) {
  const int status = in_child([] { ::kill(::getpid(), SIGBUS); });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGBUS);
}

TEST_F(FaultGuard, InstallingIsIdempotentAndReinstallingPutsItBackOnTop) {
  mmap_array::install_fault_handler();
  EXPECT_TRUE(mmap_array::fault_handler_installed());
  EXPECT_FALSE(mmap_array::ensure_fault_handler_on_top());
  const int status = in_child([] {
    ::signal(SIGBUS, SIG_IGN);  // something else takes over
    if (mmap_array::fault_handler_installed()) ::_exit(1);
    if (!mmap_array::reinstall_fault_handler_keeping_previous()) ::_exit(2);
    if (!mmap_array::fault_handler_installed()) ::_exit(3);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(FaultGuard, ClosedMappingsLeaveTheRegistry) {
  const auto path = pages(1);
  const void* address = nullptr;
  {
    mapped_file m = mapped_file::open(path, access_mode::read_only);
    address = m.data();
  }
  // The range is unmapped: a fault there now is not ours. Map something else at the same
  // address in a child and check it is not mistaken for the closed mapping.
  const int status = in_child([&] {
    const int fd = ::open(path.c_str(), O_RDONLY);
    auto* foreign = static_cast<const std::byte*>(
        ::mmap(const_cast<void*>(address), kPage, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0));
    shrink(path, 0);
    sum_bytes(foreign, kPage);
    ::_exit(0);
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGBUS);
}

}  // namespace
