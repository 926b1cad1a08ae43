#include "floor_probes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "mmap_array/error.hpp"

namespace mmap_array::floor_probes {
namespace {

// O_DIRECT needs buffers, offsets and lengths aligned to the device's logical block (512
// bytes on most devices, 4096 on some); 4096 satisfies both.
constexpr std::size_t direct_alignment = 4096;
// More threads than this would measure the scheduler, not the device.
constexpr unsigned max_threads = 256;

[[noreturn]] void fail(int err, std::string_view operation, const std::filesystem::path& path) {
  throw os_error(std::error_code(err, std::system_category()), operation, path);
}

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

class descriptor {
 public:
  explicit descriptor(int fd) noexcept : fd_(fd) {}
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  ~descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

descriptor open_or_fail(const std::filesystem::path& path, int flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(errno, "open", path);
  return descriptor(fd);
}

std::uint64_t size_or_fail(int fd, const std::filesystem::path& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) fail(errno, "stat", path);
  return static_cast<std::uint64_t>(st.st_size);
}

// Independent accumulators: eight add chains the compiler can vectorise and the CPU can run
// side by side, so the sum keeps up with memory instead of waiting on one dependency chain.
std::uint64_t checksum_words(const std::uint64_t* words, std::size_t count) noexcept {
  std::uint64_t lanes[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    for (std::size_t lane = 0; lane < 8; ++lane) lanes[lane] += words[i + lane];
  }
  std::uint64_t total = 0;
  for (; i < count; ++i) total += words[i];
  for (std::uint64_t lane : lanes) total += lane;
  return total;
}

struct free_deleter {
  void operator()(std::byte* p) const noexcept { std::free(p); }
};
using aligned_buffer = std::unique_ptr<std::byte, free_deleter>;

aligned_buffer allocate_aligned(std::size_t bytes) {
  auto* p = static_cast<std::byte*>(std::aligned_alloc(direct_alignment, bytes));
  if (p == nullptr) throw std::bad_alloc();
  return aligned_buffer(p);
}

std::size_t round_up(std::size_t n) noexcept {
  return (n + direct_alignment - 1) / direct_alignment * direct_alignment;
}

// Reads `want` bytes at `offset` (asking for whole aligned blocks, as O_DIRECT requires);
// returns 0 on success, an errno value, or -1 if the file ended first.
int pread_exact(int fd, std::byte* buffer, std::size_t want, std::uint64_t offset) noexcept {
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n = ::pread(fd, buffer + got, round_up(want - got),
                              static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return -1;
    got += static_cast<std::size_t>(n);
  }
  return 0;
}

// Runs `tasks` reads on `threads` workers, each with its own aligned buffer of
// `buffer_bytes`; `read_task(i, buffer)` returns {error, bytes, checksum} of task i. Workers
// take the next task from a shared counter, so each keeps exactly one read in flight.
struct task_result {
  int error;
  std::uint64_t bytes;
  std::uint64_t checksum;
};

template <class ReadTask>
timed_read run_workers(unsigned threads, std::size_t buffer_bytes, std::size_t tasks,
                       const std::filesystem::path& path, ReadTask read_task) {
  std::atomic<std::size_t> next{0};
  std::atomic<int> first_error{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> checksum{0};
  std::vector<aligned_buffer> buffers;
  for (unsigned t = 0; t < threads; ++t) buffers.push_back(allocate_aligned(buffer_bytes));

  auto work = [&](std::byte* buffer) {
    std::uint64_t my_bytes = 0;
    std::uint64_t my_checksum = 0;
    while (first_error.load(std::memory_order_relaxed) == 0) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= tasks) break;
      const task_result r = read_task(i, buffer);
      if (r.error != 0) {
        int expected = 0;
        first_error.compare_exchange_strong(expected, r.error);
        break;
      }
      my_bytes += r.bytes;
      my_checksum += r.checksum;
    }
    bytes.fetch_add(my_bytes);
    checksum.fetch_add(my_checksum);
  };
  {
    std::vector<std::jthread> workers;
    workers.reserve(threads);
    for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work, buffers[t].get());
    work(buffers[0].get());
  }
  const int error = first_error.load();
  if (error == -1) {
    throw std::runtime_error("cannot read '" + path.string() + "': the file shrank during the read");
  }
  if (error != 0) fail(error, "read (O_DIRECT)", path);
  return {0, bytes.load(), checksum.load()};
}

void check_threads(unsigned threads) {
  if (threads < 1 || threads > max_threads) {
    throw std::invalid_argument("threads must be between 1 and " + std::to_string(max_threads) +
                                ", got " + std::to_string(threads));
  }
}

}  // namespace

std::uint64_t open_map_close_nanoseconds(const std::filesystem::path& path) {
  const std::uint64_t start = now_ns();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errno, "open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(err, "stat", path);
  }
  const auto length = static_cast<std::size_t>(st.st_size);
  void* base = length == 0 ? nullptr : ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  const std::uint64_t stop = now_ns();
  if (base == MAP_FAILED) fail(map_errno, "map", path);
  if (base != nullptr) ::munmap(base, length);
  return stop - start;
}

timed_read sum_words(std::span<const std::uint64_t> words) noexcept {
  const std::uint64_t start = now_ns();
  const std::uint64_t checksum = checksum_words(words.data(), words.size());
  const std::uint64_t stop = now_ns();
  return {stop - start, words.size_bytes(), checksum};
}

timed_read direct_read(const std::filesystem::path& path, unsigned threads,
                       std::size_t block_bytes) {
  check_threads(threads);
  if (block_bytes == 0 || block_bytes % direct_alignment != 0) {
    throw std::invalid_argument("block_bytes must be a positive multiple of 4096, got " +
                                std::to_string(block_bytes));
  }
  const std::uint64_t start = now_ns();
  descriptor fd = open_or_fail(path, O_RDONLY | O_DIRECT);
  const std::uint64_t size = size_or_fail(fd.get(), path);
  if (size % 8 != 0) {
    throw std::invalid_argument("the checksum reads 8-byte words: '" + path.string() +
                                "' has " + std::to_string(size) + " bytes");
  }
  const std::size_t tasks = static_cast<std::size_t>((size + block_bytes - 1) / block_bytes);
  timed_read result = run_workers(
      std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(tasks, 1))),
      block_bytes, tasks, path, [&](std::size_t i, std::byte* buffer) {
        const std::uint64_t offset = static_cast<std::uint64_t>(i) * block_bytes;
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(block_bytes, size - offset));
        const int error = pread_exact(fd.get(), buffer, want, offset);
        if (error != 0) return task_result{error, 0, 0};
        return task_result{0, want,
                           checksum_words(reinterpret_cast<const std::uint64_t*>(buffer), want / 8)};
      });
  result.nanoseconds = now_ns() - start;
  return result;
}

timed_read direct_gather(const std::filesystem::path& path,
                         std::span<const std::uint64_t> offsets, std::size_t row_bytes,
                         unsigned threads) {
  check_threads(threads);
  if (row_bytes == 0 || row_bytes % direct_alignment != 0) {
    throw std::invalid_argument("row_bytes must be a positive multiple of 4096, got " +
                                std::to_string(row_bytes));
  }
  for (std::uint64_t offset : offsets) {
    if (offset % direct_alignment != 0) {
      throw std::invalid_argument("every offset must be a multiple of 4096, got " +
                                  std::to_string(offset));
    }
  }
  const std::uint64_t start = now_ns();
  descriptor fd = open_or_fail(path, O_RDONLY | O_DIRECT);
  const std::uint64_t size = size_or_fail(fd.get(), path);
  for (std::uint64_t offset : offsets) {
    if (offset > size || size - offset < row_bytes) {
      throw std::invalid_argument("row at offset " + std::to_string(offset) + " ends past '" +
                                  path.string() + "' (" + std::to_string(size) + " bytes)");
    }
  }
  timed_read result = run_workers(
      threads, row_bytes, offsets.size(), path, [&](std::size_t i, std::byte* buffer) {
        const int error = pread_exact(fd.get(), buffer, row_bytes, offsets[i]);
        if (error != 0) return task_result{error, 0, 0};
        return task_result{
            0, row_bytes,
            checksum_words(reinterpret_cast<const std::uint64_t*>(buffer), row_bytes / 8)};
      });
  result.nanoseconds = now_ns() - start;
  return result;
}

residency page_cache_residency(const std::filesystem::path& path) {
  descriptor fd = open_or_fail(path, O_RDONLY);
  const std::uint64_t size = size_or_fail(fd.get(), path);
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t pages = (size + page - 1) / page;
  if (pages == 0) return {};
  const auto length = static_cast<std::size_t>(size);
  void* base = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) fail(errno, "map", path);
  std::vector<unsigned char> flags(static_cast<std::size_t>(pages));
  const int status = ::mincore(base, length, flags.data());
  const int err = errno;
  ::munmap(base, length);
  if (status != 0) fail(err, "mincore", path);
  // Bit 0 is "resident"; the other bits are reserved.
  const auto resident = static_cast<std::uint64_t>(
      std::count_if(flags.begin(), flags.end(), [](unsigned char f) { return (f & 1) != 0; }));
  return {resident, pages};
}

}  // namespace mmap_array::floor_probes
