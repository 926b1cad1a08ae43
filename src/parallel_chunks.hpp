// Running numbered chunks of work on a few threads: populate and take_rows
// split their ranges into chunks that threads claim one at a time, so a slow
// chunk (pages still on disk) does not hold up the others.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace mmap_array::detail {

/// Threads to use for `chunks` chunks when the caller asked for `requested` (0: one per
/// hardware thread); never more than the chunks, never fewer than 1.
inline unsigned thread_count(unsigned requested, std::size_t chunks) noexcept {
  unsigned threads = requested;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(threads, chunks)));
}

/// Calls `work(i)` for every i in [0, chunks) on `threads` threads, the calling thread being
/// one of them. The first exception stops further chunks from starting and is rethrown once
/// every thread has finished. If the system refuses to start a thread, the ones running (at
/// least the caller) do its share.
template <class Work>
void run_chunks(std::size_t chunks, unsigned threads, Work&& work) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto loop = [&]() noexcept {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= chunks) return;
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
  };
  std::vector<std::thread> helpers;
  const unsigned wanted = thread_count(threads, chunks);
  try {
    helpers.reserve(wanted - 1);
    for (unsigned t = 1; t < wanted; ++t) helpers.emplace_back(loop);
  } catch (const std::system_error&) {  // EAGAIN: fewer threads, same work
  } catch (const std::bad_alloc&) {
  }
  loop();
  for (std::thread& helper : helpers) helper.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace mmap_array::detail
