// take_rows: gathering rows of a mapped array with many reads in flight (see
// access.hpp).
//
// A row that is not in memory costs a page fault that waits for the disk, and a
// fault on a mapping reads around the page (read_ahead_kb of it: megabytes for
// one 4 KiB row). Measured on a cold 2 GiB file, 20,000 random 4 KiB rows took
// 4.7 s copied one by one, 1.4-2 s with MADV_POPULATE_READ per row (still a
// fault, still reading around), 0.4 s with MADV_RANDOM and 16 threads, and
// 0.27 s asking MADV_WILLNEED for each row of a batch before copying the batch
// on 2 threads: WILLNEED queues a read of exactly those pages and returns, so a
// batch's reads are all in flight at once, and the copies then find the pages
// arriving. That last way is the one used here. A hint costs a system call, as
// much as copying a few KiB, so a batch whose probed rows are all in memory gets
// none; nor do rows whose bytes are spread so thinly that a hint would read far
// more than the row.
//
// A batch whose pages are in memory but not yet mapped here may be read with pread
// instead, when faulting would map little per fault (see row_reads.hpp).
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture_error.hpp"
#include "checked_math.hpp"
#include "mmap_array/access.hpp"
#include "mmap_array/fault_guard.hpp"
#include "page_span.hpp"
#include "parallel_chunks.hpp"
#include "row_reads.hpp"
#include "syscalls.hpp"

namespace mmap_array {
namespace {

constexpr const char* kOperation = "take rows of";

// Bytes of output one thread claims at a time, and the most rows it hints at once.
constexpr std::size_t kBatchBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxBatchRows = 16384;
// Output bytes per thread below which another thread costs more than it saves.
constexpr std::size_t kBytesPerThread = std::size_t{8} << 20;
// Largest single WILLNEED request (Linux caps each; see access_posix.cpp).
constexpr std::size_t kHintStep = std::size_t{128} << 10;
// Rows of a batch whose residency is probed before deciding to hint.
constexpr std::size_t kProbes = 8;

[[noreturn]] void throw_layout(errc code, const std::filesystem::path& path,
                              const std::string& detail) {
  throw layout_error(code, kOperation, path, detail);
}

std::size_t checked_product(std::size_t a, std::size_t b, const std::filesystem::path& path) {
  std::uint64_t out = 0;
  if (!detail::checked_mul(a, b, out) || out > std::numeric_limits<std::size_t>::max()) {
    throw_layout(errc::size_overflow, path, "the layout's sizes overflow");
  }
  return static_cast<std::size_t>(out);
}

std::size_t checked_sum(std::size_t a, std::size_t b, const std::filesystem::path& path) {
  std::uint64_t out = 0;
  if (!detail::checked_add(a, b, out) || out > std::numeric_limits<std::size_t>::max()) {
    throw_layout(errc::size_overflow, path, "the layout's sizes overflow");
  }
  return static_cast<std::size_t>(out);
}

// The output bytes of `count` rows; throws layout_error naming `path`.
std::size_t output_size(const row_layout& layout, std::size_t count,
                        const std::filesystem::path& path) {
  std::size_t total = checked_product(layout.element_bytes, count, path);
  for (const strided_dim& dim : layout.outer) total = checked_product(total, dim.count, path);
  for (const strided_dim& dim : layout.inner) total = checked_product(total, dim.count, path);
  return total;
}

// A row, reduced for copying: `run` contiguous bytes at each position of `loops` (the row's
// dimensions that could not be merged into the run, outermost first).
struct row_shape {
  std::size_t run = 0;
  std::vector<strided_dim> loops;
  std::size_t bytes = 0;   // of one row in the output
  std::size_t extent = 0;  // from the row's first byte in the source to one past its last
};

row_shape shape_of_row(const row_layout& layout) {
  row_shape shape;
  shape.run = layout.element_bytes;
  std::vector<strided_dim> dims = layout.inner;
  // Merge innermost dimensions whose positions follow each other without gaps.
  while (!dims.empty() && (dims.back().count == 1 || dims.back().stride == shape.run)) {
    shape.run *= dims.back().count;
    dims.pop_back();
  }
  shape.loops = std::move(dims);
  shape.bytes = shape.run;
  shape.extent = shape.run;
  for (const strided_dim& dim : shape.loops) {
    shape.bytes *= dim.count;
    if (dim.count > 0) shape.extent += (dim.count - 1) * dim.stride;
  }
  return shape;
}

// Copies one row from `source` into `destination` (dense), position by position.
void copy_row(const std::byte* source, std::byte* destination, const row_shape& shape) {
  if (shape.loops.empty()) {
    std::memcpy(destination, source, shape.run);
    return;
  }
  std::vector<std::size_t> position(shape.loops.size(), 0);
  const std::size_t runs = shape.bytes / shape.run;
  for (std::size_t r = 0; r < runs; ++r) {
    std::size_t at = 0;
    for (std::size_t d = 0; d < shape.loops.size(); ++d) at += position[d] * shape.loops[d].stride;
    std::memcpy(destination + r * shape.run, source + at, shape.run);
    for (std::size_t d = shape.loops.size(); d-- > 0;) {
      if (++position[d] < shape.loops[d].count) break;
      position[d] = 0;
    }
  }
}

// The first source byte of each output row in turn, from row `unit` on: one division where it
// starts and one per outer position, none per row (a division per row cost more than copying
// an 8-byte row). Indices were checked before, but the caller's buffer is read again here, so
// each one is checked again (a predictable branch): an index another thread changed since is
// not followed outside the array but read as row 0 and reported through `changed`.
class source_cursor {
 public:
  source_cursor(const std::byte* base, const row_layout& layout,
                std::span<const std::int64_t> indices, std::size_t unit, bool& changed)
      : base_(base), layout_(&layout), indices_(indices), count_(layout.axis.count),
        stride_(layout.axis.stride), outer_(unit / indices.size()), row_(unit % indices.size()),
        outer_base_(base + outer_offset(outer_)), changed_(&changed) {}

  const std::byte* operator*() const noexcept {
    const std::int64_t index = indices_[row_];
    // A negative index past -count wraps to a huge value, so one comparison catches both ends.
    std::size_t row = index < 0 ? count_ + static_cast<std::size_t>(index)
                                : static_cast<std::size_t>(index);
    if (row >= count_) {
      *changed_ = true;
      row = 0;
    }
    return outer_base_ + row * stride_;
  }

  void advance() noexcept {
    if (++row_ < indices_.size()) return;
    row_ = 0;
    outer_base_ = base_ + outer_offset(++outer_);
  }

 private:
  std::size_t outer_offset(std::size_t o) const noexcept {
    std::size_t at = 0;
    for (std::size_t d = layout_->outer.size(); d-- > 0;) {
      at += (o % layout_->outer[d].count) * layout_->outer[d].stride;
      o /= layout_->outer[d].count;
    }
    return at;
  }

  const std::byte* base_;
  const row_layout* layout_;
  std::span<const std::int64_t> indices_;
  std::size_t count_;
  std::size_t stride_;
  std::size_t outer_;
  std::size_t row_;
  const std::byte* outer_base_;
  bool* changed_;
};

// Copies `count` contiguous rows of `Run` bytes: a constant size lets memcpy become one move.
// Rows this small are read at random addresses, so each copy waits on a cache miss; prefetching
// the row kLookahead positions ahead keeps that many misses in flight.
constexpr std::size_t kLookahead = 16;

template <std::size_t Run>
void copy_runs(source_cursor cursor, std::size_t count, std::byte* destination) noexcept {
  source_cursor ahead = cursor;
  for (std::size_t i = 0; i < std::min(count, kLookahead); ++i) ahead.advance();
  for (std::size_t i = 0; i < count; ++i, cursor.advance()) {
    if (i + kLookahead < count) {
      __builtin_prefetch(*ahead);
      ahead.advance();
    }
    std::memcpy(destination + i * Run, *cursor, Run);
  }
}

// Copies `count` rows, starting at `cursor`, to consecutive rows of `destination`.
void copy_batch(source_cursor cursor, std::size_t count, std::byte* destination,
                const row_shape& shape) {
  if (!shape.loops.empty()) {
    for (std::size_t i = 0; i < count; ++i, cursor.advance()) {
      copy_row(*cursor, destination + i * shape.bytes, shape);
    }
    return;
  }
  switch (shape.run) {
    case 1: return copy_runs<1>(cursor, count, destination);
    case 2: return copy_runs<2>(cursor, count, destination);
    case 4: return copy_runs<4>(cursor, count, destination);
    case 8: return copy_runs<8>(cursor, count, destination);
    case 16: return copy_runs<16>(cursor, count, destination);
    default:
      for (std::size_t i = 0; i < count; ++i, cursor.advance()) {
        std::memcpy(destination + i * shape.run, *cursor, shape.run);
      }
  }
}

// Reads `count` contiguous rows of `row_bytes`, starting at `cursor`, into consecutive rows of
// `destination` with pread; rows that follow each other in the file take one call.
void read_batch(const detail::row_reads& reads, source_cursor cursor, std::size_t count,
                std::byte* destination, std::size_t row_bytes) noexcept {
  const std::byte* run = nullptr;  // source of the pending run of adjacent rows
  std::size_t run_bytes = 0;
  std::byte* run_destination = destination;
  for (std::size_t i = 0; i < count; ++i, cursor.advance()) {
    const std::byte* row = *cursor;
    if (run != nullptr && row == run + run_bytes) {
      run_bytes += row_bytes;
      continue;
    }
    if (run != nullptr) reads.read(run, run_bytes, run_destination);
    run = row;
    run_bytes = row_bytes;
    run_destination = destination + i * row_bytes;
  }
  if (run != nullptr) reads.read(run, run_bytes, run_destination);
}

// Queues reads of the pages holding bytes [begin, begin + length) without waiting. A hint that
// fails changes nothing: the copy that follows faults the pages in itself.
void hint(const std::byte* begin, std::size_t length) noexcept {
  const std::size_t page = detail::system_page_size();
  const auto first = reinterpret_cast<std::uintptr_t>(begin);
  const std::uintptr_t low = first - first % page;
  const std::uintptr_t high = first + length;
  for (std::uintptr_t at = low; at < high; at += kHintStep) {
    const std::size_t step = static_cast<std::size_t>(std::min<std::uintptr_t>(kHintStep, high - at));
    detail::syscalls().madvise(reinterpret_cast<void*>(at), step, MADV_WILLNEED);
  }
}

// True if the page holding `byte` is in memory (mincore); a failed probe says no, so the rows
// get their hints.
bool resident(const std::byte* byte) noexcept {
  const std::size_t page = detail::system_page_size();
  const auto address = reinterpret_cast<std::uintptr_t>(byte);
  unsigned char flag = 0;
  return detail::syscalls().mincore(reinterpret_cast<void*>(address - address % page), page,
                                    &flag) == 0 &&
         (flag & 1u) != 0;
}

// Checks every index against the axis before anything is copied.
void check_indices(const mapped_file& file, const row_layout& layout,
                   std::span<const std::int64_t> indices) {
  const auto count = static_cast<std::uint64_t>(layout.axis.count);
  for (const std::int64_t index : indices) {
    const std::uint64_t magnitude =
        index < 0 ? static_cast<std::uint64_t>(-(index + 1)) + 1 : static_cast<std::uint64_t>(index);
    if ((index < 0 && magnitude > count) || (index >= 0 && magnitude >= count)) {
      throw_layout(errc::index_out_of_range, file.path(),
                   "index " + std::to_string(index) + " is out of bounds for axis " +
                       std::to_string(layout.axis_number) + " with size " +
                       std::to_string(layout.axis.count));
    }
  }
}

// Checks that every byte the layout can address lies inside the mapping.
void check_layout(const mapped_file& file, const row_layout& layout) {
  if (layout.element_bytes == 0) throw_layout(errc::invalid_itemsize, file.path(), "element_bytes is 0");
  std::size_t last = layout.offset;  // offset of the last element's first byte
  bool empty = layout.axis.count == 0;
  auto add_dim = [&](const strided_dim& dim) {
    if (dim.count == 0) empty = true;
    if (dim.count > 1) last = checked_sum(last, checked_product(dim.count - 1, dim.stride, file.path()), file.path());
  };
  for (const strided_dim& dim : layout.outer) add_dim(dim);
  add_dim(layout.axis);
  for (const strided_dim& dim : layout.inner) add_dim(dim);
  const std::size_t end = checked_sum(last, layout.element_bytes, file.path());
  if (!empty && end > file.size()) {
    throw_layout(errc::range_past_end, file.path(),
                 "the layout reaches byte " + std::to_string(end) + ", past the mapping's " +
                     std::to_string(file.size()) + " bytes");
  }
}

}  // namespace

std::size_t take_size(const row_layout& layout, std::size_t count) {
  return output_size(layout, count, {});
}

void take_rows(const mapped_file& file, const row_layout& layout,
               std::span<const std::int64_t> indices, std::span<std::byte> destination,
               take_options options) {
  if (!file.is_open()) throw_error(errc::closed, kOperation, file.path());
  check_layout(file, layout);
  check_indices(file, layout, indices);
  const std::size_t total = output_size(layout, indices.size(), file.path());
  if (destination.size() != total) {
    throw_layout(errc::shape_mismatch, file.path(),
                 "the destination holds " + std::to_string(destination.size()) +
                     " bytes; the rows take " + std::to_string(total));
  }
  const auto dst_begin = reinterpret_cast<std::uintptr_t>(destination.data());
  const auto map_begin = reinterpret_cast<std::uintptr_t>(file.data());
  if (total > 0 && file.size() > 0 && dst_begin < map_begin + file.size() &&
      map_begin < dst_begin + total) {
    throw_layout(errc::bad_argument, file.path(), "the destination overlaps the mapped array");
  }
  if (file.truncated()) {
    throw file_truncated_error(kOperation, file.path(),
                               "pages of the file vanished under the mapping; they read as zeros");
  }
  if (total == 0) return;

  const row_shape shape = shape_of_row(layout);
  std::size_t outer_count = 1;
  for (const strided_dim& dim : layout.outer) outer_count *= dim.count;  // <= total: no overflow
  const std::size_t units = outer_count * indices.size();  // output rows, shape.bytes each
  const std::size_t batch = std::clamp<std::size_t>(kBatchBytes / shape.bytes, 1, kMaxBatchRows);
  const std::size_t batches = (units + batch - 1) / batch;
  // A hint covers the row's whole extent: worth it only where that is mostly the row's bytes.
  const bool hints = shape.extent <= 4 * shape.bytes + 2 * detail::system_page_size();
  unsigned threads = options.threads;
  if (threads == 0) {
    threads = detail::thread_count(0, std::max<std::size_t>(1, total / kBytesPerThread));
  }
  const std::byte* base = file.data() + layout.offset;
  // Another way in for warm batches, opened only where it could pay: whole rows big enough
  // that a system call each costs less than the faults, and a gather of at least a batch.
  std::optional<detail::row_reads> reads;
  if (shape.loops.empty() && shape.run >= detail::kMinReadRowBytes && total >= kBatchBytes &&
      file.mode() != access_mode::copy_on_write) {
    reads.emplace(file, options.reopen_path);  // opens nothing until a batch asks
  }

  std::atomic<bool> indices_changed{false};
  detail::run_chunks(batches, threads, [&](std::size_t b) {
    const std::size_t first = b * batch;
    const std::size_t last = std::min(units, first + batch);
    bool changed = false;
    // A few probes tell a batch already in memory, which needs no hints, from one that does.
    bool cold = false;
    if (hints) {
      const std::size_t step = std::max<std::size_t>(1, (last - first) / kProbes);
      for (std::size_t u = first; u < last && !cold; u += step) {
        cold = !resident(*source_cursor(base, layout, indices, u, changed));
      }
    }
    if (cold) {
      // Adjacent or repeated rows share pages: one hint for each run of them.
      const std::byte* pending = nullptr;
      const std::byte* pending_end = nullptr;
      source_cursor cursor(base, layout, indices, first, changed);
      for (std::size_t u = first; u < last; ++u, cursor.advance()) {
        const std::byte* row = *cursor;
        if (pending != nullptr && row >= pending && row <= pending_end) {
          pending_end = std::max(pending_end, row + shape.extent);
          continue;
        }
        if (pending != nullptr) hint(pending, static_cast<std::size_t>(pending_end - pending));
        pending = row;
        pending_end = row + shape.extent;
      }
      if (pending != nullptr) hint(pending, static_cast<std::size_t>(pending_end - pending));
    }
    const source_cursor start(base, layout, indices, first, changed);
    std::byte* out = destination.data() + first * shape.bytes;
    if (!cold && reads && reads->faults_map_little(*start) && reads->ready()) {
      read_batch(*reads, start, last - first, out, shape.bytes);
    } else {
      copy_batch(start, last - first, out, shape);
    }
    if (changed) indices_changed.store(true, std::memory_order_relaxed);
  });
  if (indices_changed.load(std::memory_order_relaxed)) {
    throw_layout(errc::index_out_of_range, file.path(),
                 "indices changed during the gather (another thread wrote to them) and left "
                 "the axis' " + std::to_string(layout.axis.count) + " rows");
  }
  if (file.truncated()) {
    throw file_truncated_error(kOperation, file.path(),
                               "pages of the file vanished under the mapping during the copy; "
                               "the result holds zeros where they were");
  }
}

void take_rows(const mapped_file& file, const row_layout& layout,
               std::span<const std::int64_t> indices, std::span<std::byte> destination,
               take_options options, std::error_code& ec) noexcept {
  detail::capture_error(ec, [&] { take_rows(file, layout, indices, destination, options); });
}

}  // namespace mmap_array
