// advise, prefetch, populate and residency over byte ranges of a mapping (see
// access.hpp), on madvise(2) and mincore(2).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <span>
#include <string>
#include <vector>

#include "aligned_map.hpp"
#include "capture_error.hpp"
#include "fault_registry.hpp"
#include "file_posix.hpp"
#include "mmap_array/access.hpp"
#include "mmap_array/fault_guard.hpp"
#include "page_span.hpp"
#include "parallel_chunks.hpp"
#include "syscalls.hpp"

// Linux 5.14 added these; older C libraries lack the names, and older kernels answer EINVAL.
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace mmap_array {
namespace detail {

std::size_t system_page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

page_span pages_of(const mapped_file& file, const mapping_range& range,
                   std::string_view operation) {
  if (!file.is_open()) throw_error(errc::closed, operation, file.path());
  const std::size_t size = file.size();
  if (range.offset > size || (range.length && *range.length > size - range.offset)) {
    const std::string end =
        range.length ? std::to_string(range.offset) + " + " + std::to_string(*range.length)
                     : std::string("the end");
    throw layout_error(errc::range_past_end, operation, file.path(),
                       "bytes " + std::to_string(range.offset) + " to " + end +
                           " are outside the mapping's " + std::to_string(size) + " bytes");
  }
  page_span span;
  span.offset = range.offset;
  span.length = range.length.value_or(size - range.offset);
  if (span.length == 0) return span;
  const std::size_t page = system_page_size();
  const auto first = reinterpret_cast<std::uintptr_t>(file.data() + span.offset);
  const std::uintptr_t last = first + span.length;  // one past; inside the address space
  const std::uintptr_t begin = first - first % page;
  const std::uintptr_t end = last % page == 0 ? last : last - last % page + page;
  span.pages = reinterpret_cast<std::byte*>(begin);
  span.pages_length = static_cast<std::size_t>(end - begin);
  return span;
}

namespace {

int advice_flag(access_advice advice) noexcept {
  switch (advice) {
    case access_advice::normal: return MADV_NORMAL;
    case access_advice::sequential: return MADV_SEQUENTIAL;
    case access_advice::random: return MADV_RANDOM;
    case access_advice::willneed: return MADV_WILLNEED;
    case access_advice::dontneed: return MADV_DONTNEED;
    case access_advice::hugepage: return MADV_HUGEPAGE;
    case access_advice::nohugepage: return MADV_NOHUGEPAGE;
  }
  return -1;
}

int call_madvise(std::byte* address, std::size_t length, int flag) noexcept {
  return retry_on_eintr([&] { return syscalls().madvise(address, length, flag); });
}

// MADV_WILLNEED reads at most max(read_ahead_kb, max_sectors_kb) per call (Linux's
// force_page_cache_ra caps each request), so one call over a large range reads only its first
// megabytes. Steps of 128 KiB, the default read_ahead_kb, stay under the cap everywhere.
constexpr std::size_t kPrefetchStep = std::size_t{128} << 10;

// populate splits its range into one contiguous part per thread, each read from start to end
// in steps of kPopulateStep, so that every thread is one sequential stream the kernel's
// read-ahead recognises. Handing out interleaved 8 MiB chunks instead was 1.3-1.9x slower on a
// cold 2 GiB file (virtio disk, read_ahead_kb 8192): the device saw two streams jumping
// about. No part is shorter than kMinPopulatePart, below which another thread gains nothing.
constexpr std::size_t kPopulateStep = std::size_t{8} << 20;
constexpr std::size_t kMinPopulatePart = std::size_t{32} << 20;

// Reads one byte of every page of [begin, begin + length), so each page is faulted in. The
// volatile access cannot be optimised away.
void touch_pages(const std::byte* begin, std::size_t length) noexcept {
  const std::size_t page = system_page_size();
  const volatile std::byte* bytes = begin;
  std::byte sink{};
  for (std::size_t at = 0; at < length; at += page) sink ^= bytes[at];
  [[maybe_unused]] volatile std::byte keep = sink;
}

[[noreturn]] void throw_vanished(const mapped_file& file, std::string_view operation) {
  throw file_truncated_error(operation, file.path(),
                             "pages of the file vanished under the mapping (it shrank, or a page "
                             "of a sparse file found the disk full); they read as zeros");
}

// Queues reads of the pages of `span` without waiting for them.
void willneed(const mapped_file& file, const page_span& span, std::string_view operation) {
  for (std::size_t done = 0; done < span.pages_length; done += kPrefetchStep) {
    const std::size_t step = std::min(kPrefetchStep, span.pages_length - done);
    if (call_madvise(span.pages + done, step, MADV_WILLNEED) != 0) {
      throw_os_error(errno, operation, file.path());
    }
  }
}

// Before populate reads a range, MADV_HUGEPAGE on it makes the kernel read it in 2 MiB
// folios (4 MiB at a time) where the filesystem has large folios (ext4 and XFS on recent
// kernels): fewer, larger reads and page-cache entries, and a mapping of the range, now or by
// any later open, then takes one PMD per 2 MiB instead of 512 page-table entries. On the
// development machine (Linux 6.18, ext4 on virtio) a cold 80 MB populate + sum went from 1.7x
// to 0.9x numpy.memmap's plain pass, and later warm passes from 1.6x to 1.1x an in-RAM array.
// Populate reads the whole range anyway, so the larger units read nothing extra. Writable
// shared mappings are left alone: a 2 MiB folio dirtied by a 4 KiB write may be written back
// whole. Only a hint: kernels without transparent huge pages refuse it (EINVAL), and the
// populate goes on in small pages. pmd_size() is the huge page size (aligned_map.hpp).
void read_in_huge_pages(const page_span& span) noexcept {
  if (span.pages_length < pmd_size()) return;
  [[maybe_unused]] const int ignored = call_madvise(span.pages, span.pages_length, MADV_HUGEPAGE);
}

// Populates one chunk; returns false if this kernel lacks MADV_POPULATE_*.
bool populate_chunk(const mapped_file& file, std::byte* begin, std::size_t length, int flag) {
  if (call_madvise(begin, length, flag) == 0) return true;
  const int err = errno;
  if (err == EINVAL) return false;
  if (err == EFAULT) {
    // A page would have raised SIGBUS: it is gone from the file (or, writing, a hole found the
    // disk full). Like write_all's EFAULT, this poisons the mapping.
    const std::size_t slot = find_mapping(begin);
    if (slot != no_fault_slot) mark_mapping_truncated(slot);
    throw file_truncated_error("populate", file.path(),
                               "pages of the file vanished under the mapping (it shrank, or a "
                               "page of a sparse file found the disk full)");
  }
  throw_os_error(err, "populate", file.path());
}

}  // namespace
}  // namespace detail

std::string_view to_string(access_advice advice) noexcept {
  switch (advice) {
    case access_advice::normal: return "normal";
    case access_advice::sequential: return "sequential";
    case access_advice::random: return "random";
    case access_advice::willneed: return "willneed";
    case access_advice::dontneed: return "dontneed";
    case access_advice::hugepage: return "hugepage";
    case access_advice::nohugepage: return "nohugepage";
  }
  return "unknown";
}

std::optional<access_advice> parse_access_advice(std::string_view name) noexcept {
  for (access_advice advice :
       {access_advice::normal, access_advice::sequential, access_advice::random,
        access_advice::willneed, access_advice::dontneed, access_advice::hugepage,
        access_advice::nohugepage}) {
    if (name == to_string(advice)) return advice;
  }
  return std::nullopt;
}

void advise(const mapped_file& file, access_advice advice, mapping_range range) {
  const detail::page_span span = detail::pages_of(file, range, "advise");
  const int flag = detail::advice_flag(advice);
  if (flag < 0) {
    throw layout_error(errc::bad_argument, "advise", file.path(),
                       "advice " + std::to_string(static_cast<int>(advice)) + " is not one of "
                       "normal, sequential, random, willneed, dontneed, hugepage, nohugepage");
  }
  if (span.pages_length == 0) return;
  if (advice == access_advice::willneed) {
    detail::willneed(file, span, "advise");
    return;
  }
  if (detail::call_madvise(span.pages, span.pages_length, flag) != 0) {
    const int err = errno;
    const std::string name(to_string(advice));
    if (err == EINVAL) {
      detail::throw_os_error(err, "advise", file.path(),
                             "this kernel does not support advice '" + name + "' (EINVAL)" +
                                 (advice == access_advice::hugepage ||
                                          advice == access_advice::nohugepage
                                      ? ": it was built without transparent huge pages"
                                      : ""));
    }
    detail::throw_os_error(err, "advise", file.path(),
                           "madvise '" + name + "' failed: " +
                               std::system_category().message(err));
  }
}

void advise(const mapped_file& file, access_advice advice, mapping_range range,
            std::error_code& ec) noexcept {
  detail::capture_error(ec, [&] { advise(file, advice, range); });
}

void prefetch(const mapped_file& file, mapping_range range) {
  detail::willneed(file, detail::pages_of(file, range, "prefetch"), "prefetch");
}

void prefetch(const mapped_file& file, mapping_range range, std::error_code& ec) noexcept {
  detail::capture_error(ec, [&] { prefetch(file, range); });
}

void populate(const mapped_file& file, mapping_range range, populate_options options) {
  const detail::page_span span = detail::pages_of(file, range, "populate");
  if (options.write && file.mode() != access_mode::read_write) {
    throw layout_error(errc::not_writable, "populate", file.path(),
                       file.mode() == access_mode::read_only
                           ? "a read-only mapping cannot be populated for writing"
                           : "populating a copy-on-write mapping for writing would copy every "
                             "page into private memory; populate it for reading");
  }
  if (file.truncated()) detail::throw_vanished(file, "populate");
  if (span.pages_length == 0) return;
  if (!options.write && file.mode() != access_mode::read_write) {
    detail::read_in_huge_pages(span);
  }
  const int flag = options.write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
  const std::size_t page = detail::system_page_size();
  const std::size_t most_parts =
      (span.pages_length + detail::kMinPopulatePart - 1) / detail::kMinPopulatePart;
  const std::size_t parts = detail::thread_count(options.threads, most_parts);
  // Whole pages per part; the last part takes what is left.
  const std::size_t part_length = (span.pages_length / page + parts - 1) / parts * page;
  std::atomic<bool> unsupported{false};
  detail::run_chunks(parts, static_cast<unsigned>(parts), [&](std::size_t part) {
    const std::size_t first = part * part_length;
    const std::size_t end = std::min(span.pages_length, first + part_length);
    for (std::size_t at = first; at < end; at += detail::kPopulateStep) {
      std::byte* begin = span.pages + at;
      const std::size_t length = std::min(detail::kPopulateStep, end - at);
      if (!unsupported.load(std::memory_order_relaxed) &&
          detail::populate_chunk(file, begin, length, flag)) {
        continue;
      }
      unsupported.store(true, std::memory_order_relaxed);
      // Before Linux 5.14: fault the pages in by reading them (for `write` too: writing would
      // change the data). A page gone from the file raises SIGBUS here, which the fault guard
      // absorbs (zero page, mapping marked truncated).
      detail::touch_pages(begin, length);
    }
  });
  if (file.truncated()) detail::throw_vanished(file, "populate");
}

void populate(const mapped_file& file, mapping_range range, populate_options options,
              std::error_code& ec) noexcept {
  detail::capture_error(ec, [&] { populate(file, range, options); });
}

namespace {

// Calls `visit(first_page, flags)` for consecutive runs of the pages of `span`, in order, with
// mincore's answer for each page (bit 0: resident). Bounded memory, whatever the range.
template <class Visit>
void for_each_residency_block(const mapped_file& file, const detail::page_span& span,
                              std::string_view operation, Visit visit) {
  const std::size_t page = detail::system_page_size();
  constexpr std::size_t kBlockPages = std::size_t{1} << 16;
  std::vector<unsigned char> flags(std::min(kBlockPages, span.pages_length / page));
  for (std::size_t first = 0; first * page < span.pages_length; first += kBlockPages) {
    const std::size_t count = std::min(kBlockPages, span.pages_length / page - first);
    if (detail::retry_on_eintr([&] {
          return detail::syscalls().mincore(span.pages + first * page, count * page, flags.data());
        }) != 0) {
      detail::throw_os_error(errno, operation, file.path());
    }
    visit(first, std::span<const unsigned char>(flags.data(), count));
  }
}

}  // namespace

double residency(const mapped_file& file, mapping_range range) {
  const detail::page_span span = detail::pages_of(file, range, "measure the residency of");
  if (span.pages_length == 0) return 1.0;
  std::size_t resident = 0;
  for_each_residency_block(file, span, "measure the residency of",
                           [&](std::size_t, std::span<const unsigned char> flags) {
                             for (unsigned char f : flags) resident += f & 1u;
                           });
  return static_cast<double>(resident) /
         static_cast<double>(span.pages_length / detail::system_page_size());
}

double residency(const mapped_file& file, mapping_range range, std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return residency(file, range); });
}

std::vector<double> residency_map(const mapped_file& file, std::size_t bins, mapping_range range) {
  constexpr const char* operation = "measure the residency of";
  const detail::page_span span = detail::pages_of(file, range, operation);
  if (bins == 0 || bins > (std::size_t{1} << 32)) {
    throw layout_error(errc::bad_argument, operation, file.path(),
                       "bins must be between 1 and 2**32, not " + std::to_string(bins));
  }
  std::vector<double> result(bins, 1.0);
  if (span.pages_length == 0) return result;
  // Bin b holds bytes [lo(b), lo(b + 1)) of the range, lo(b) = floor(b * length / bins),
  // computed without overflow as bins <= 2**32; its pages are those holding any of its bytes.
  const std::size_t page = detail::system_page_size();
  const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(file.data() + span.offset);
  const std::uintptr_t pages = reinterpret_cast<std::uintptr_t>(span.pages);
  auto byte_at = [&](std::size_t b) {
    return b * (span.length / bins) + b * (span.length % bins) / bins;
  };
  std::vector<std::size_t> first_page(bins), end_page(bins), resident(bins, 0);
  for (std::size_t b = 0; b < bins; ++b) {
    const std::uintptr_t lo = start + byte_at(b) - pages;
    const std::uintptr_t hi = start + byte_at(b + 1) - pages;
    first_page[b] = lo / page;
    end_page[b] = lo == hi ? lo / page : (hi + page - 1) / page;
  }
  // Pages come in order and bins' page ranges only move forward, so one pointer to the first
  // bin that can still hold a page walks them all once.
  std::size_t low_bin = 0;
  for_each_residency_block(file, span, operation,
                           [&](std::size_t first, std::span<const unsigned char> flags) {
                             for (std::size_t i = 0; i < flags.size(); ++i) {
                               if ((flags[i] & 1u) == 0) continue;
                               const std::size_t p = first + i;
                               while (low_bin < bins && end_page[low_bin] <= p) ++low_bin;
                               for (std::size_t b = low_bin; b < bins && first_page[b] <= p; ++b) {
                                 if (p < end_page[b]) ++resident[b];
                               }
                             }
                           });
  for (std::size_t b = 0; b < bins; ++b) {
    const std::size_t total = end_page[b] - first_page[b];
    if (total > 0) result[b] = static_cast<double>(resident[b]) / static_cast<double>(total);
  }
  return result;
}

std::vector<double> residency_map(const mapped_file& file, std::size_t bins, mapping_range range,
                                  std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return residency_map(file, bins, range); });
}

}  // namespace mmap_array
