// write_behind: sending a mapping's dirty pages to the disk while a producer is
// still filling it (see access.hpp).
//
// The kernel writes dirty pages back on its own only after they are 30 s old or
// a tenth of memory is dirty, so a file created and filled through a mapping is
// written entirely by the final flush, after the fill. Measured on ext4 (Linux
// 6.18, virtio disk), create 80 MB + fill + flush took 18.5 ms to fill and 25 ms
// to flush; with a pass every 2 ms starting the writeback of what was dirty, the
// fill took 20-22 ms (it shares the disk and the page locks with the writes) and
// the flush 11-12.5 ms: half the writing overlapped the fill.
//
// A pass looks before it writes (cachestat), for two reasons. A producer writes
// its current folio for a while: writing it back each pass would write it again
// and again, so a writeback starts only once a batch of dirty bytes has built up,
// which bounds the extra writing to one folio per batch. And the loop must end by
// itself when the producer is done: the range's counts stop changing.
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

#include "file_posix.hpp"
#include "mmap_array/access.hpp"
#include "page_span.hpp"
#include "syscalls.hpp"

namespace mmap_array {
namespace {

constexpr const char* kOperation = "write behind";

// A look costs at most this share of the time between looks (cachestat walks every cached
// folio of the range: microseconds for 80 MB, far more for a huge range of small folios).
constexpr int kLookCostShare = 20;

}  // namespace

write_behind::write_behind(const mapped_file& file, mapping_range range,
                           write_behind_options options)
    : options_(std::move(options)) {
  const detail::page_span span = detail::pages_of(file, range, kOperation);
  if (file.mode() != access_mode::read_write) {
    throw layout_error(errc::not_writable, kOperation, file.path(),
                       "only a read_write mapping writes its pages to the file");
  }
  path_ = options_.reopen_path.empty() ? file.path() : options_.reopen_path;
  identity_ = file.identity();
  offset_ = file.offset() + span.offset;
  length_ = span.length;
}

bool write_behind::run(const std::atomic<bool>& stop) const noexcept {
  using clock = std::chrono::steady_clock;
  if (length_ == 0) return true;
  const detail::unique_fd fd = detail::reopen_same_file(path_, identity_);
  if (!fd) return false;
  detail::page_cache_stat last{};
  if (detail::syscalls().cachestat(fd.get(), offset_, length_, &last) != 0) return false;

  const std::uint64_t batch_pages =
      std::max<std::uint64_t>(1, options_.batch_bytes / detail::system_page_size());
  clock::duration interval = options_.interval;
  clock::time_point changed = clock::now();
  clock::duration patience = options_.first_write;  // then options_.idle, once pages change
  while (!stop.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(interval);
    if (stop.load(std::memory_order_relaxed)) break;
    const clock::time_point look = clock::now();
    detail::page_cache_stat now{};
    if (detail::syscalls().cachestat(fd.get(), offset_, length_, &now) != 0) break;
    interval = std::max<clock::duration>(options_.interval, kLookCostShare * (clock::now() - look));
    if (now.dirty >= batch_pages &&
        detail::syscalls().sync_file_range(fd.get(), static_cast<off_t>(offset_),
                                           static_cast<off_t>(length_),
                                           SYNC_FILE_RANGE_WRITE) != 0) {
      break;
    }
    if (now.cached != last.cached || now.dirty != last.dirty) {
      changed = look;
      patience = options_.idle;
    } else if (look - changed >= patience) {
      break;
    }
    last = now;
  }
  return true;
}

}  // namespace mmap_array
