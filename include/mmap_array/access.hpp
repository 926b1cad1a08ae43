// Access controls of a mapping: telling the kernel how a range will be used,
// reading it in ahead of use (in the background, or now and in parallel),
// asking how much of it is in memory, seeing what backs it (page sizes, huge
// pages), and gathering rows with many reads in flight.
//
// Ranges are byte ranges of the mapped data, counted from mapped_file::data();
// the kernel works in whole pages, so each range is widened outward to the
// pages that hold its bytes (the data may start in the middle of a page).
// Every call refuses a closed mapping (state_error) and a range past the end
// (layout_error); an empty mapping or range makes no system call.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "mmap_array/error.hpp"
#include "mmap_array/mapped_file.hpp"

namespace mmap_array {

/// How a range will be used, as madvise(2) advice.
enum class access_advice {
  normal,      ///< MADV_NORMAL: the default, moderate read-around on each fault
  sequential,  ///< MADV_SEQUENTIAL: aggressive read-ahead; pages may be dropped soon after use
  random,      ///< MADV_RANDOM: no read-around, each fault reads only its own page
  willneed,    ///< MADV_WILLNEED: start reading the range into the page cache now
  /// MADV_DONTNEED: drop this process's page mappings. File pages stay in the page cache and
  /// come back on the next touch, but a copy-on-write mapping loses its private changes.
  dontneed,
  hugepage,    ///< MADV_HUGEPAGE: back the range with transparent huge pages where possible
  /// MADV_NOHUGEPAGE: small pages only; for sparse writes to a new file (created mappings are
  /// advised hugepage, so a 4 KiB write would dirty a 2 MiB folio).
  nohugepage,
};

/// The advice's name: "normal", "sequential", "random", "willneed", "dontneed", "hugepage" or
/// "nohugepage".
MMAP_ARRAY_EXPORT std::string_view to_string(access_advice advice) noexcept;

/// The advice called `name` (as `to_string` spells it), or nothing for an unknown name.
MMAP_ARRAY_EXPORT std::optional<access_advice> parse_access_advice(std::string_view name) noexcept;

/// A byte range of a mapping, counted from data(); `length` empty means to the end.
struct mapping_range {
  std::size_t offset = 0;               ///< first byte
  std::optional<std::size_t> length{};  ///< bytes, or the rest of the mapping
};

/// Gives the kernel `advice` for `range` of `file`; throws os_error (EINVAL: this kernel does
/// not support the advice, e.g. hugepage without transparent huge pages), layout_error or
/// state_error.
MMAP_ARRAY_EXPORT void advise(const mapped_file& file, access_advice advice,
                              mapping_range range = {});
/// As `advise`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT void advise(const mapped_file& file, access_advice advice, mapping_range range,
                              std::error_code& ec) noexcept;

/// Starts reading `range` into the page cache (MADV_WILLNEED, in steps the kernel does not cap)
/// and returns once the reads are queued, before they complete; queuing waits while the
/// device's queue is full. Throws os_error, layout_error or state_error. WILLNEED reads in
/// 4 KiB folios and maps nothing: before a pass over a large range, `populate` on a thread of
/// its own, running ahead of the pass, reads faster and spares the pass its page faults (the
/// Python package's prefetch does that above 2 MiB).
MMAP_ARRAY_EXPORT void prefetch(const mapped_file& file, mapping_range range = {});
/// As `prefetch`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT void prefetch(const mapped_file& file, mapping_range range,
                                std::error_code& ec) noexcept;

/// How `populate` works.
struct populate_options {
  /// Threads faulting the range in, each one contiguous part of it from start to end (one
  /// sequential stream each); 0 picks min(hardware threads, one per 32 MiB).
  unsigned threads = 0;
  /// Fault the pages in writable (MADV_POPULATE_WRITE), so later writes take no fault. Only for
  /// read_write mappings: it marks every page dirty, so the next writeback writes the whole
  /// range to disk. Off, pages are faulted in for reading, which never dirties or copies them.
  bool write = false;
};

/// Faults `range` into memory now, in parallel parts (MADV_POPULATE_READ in 8 MiB steps; on
/// kernels before 5.14, which lack it, by reading one byte of every page), and returns when
/// every page is mapped. A reading populate of a read_only or copy_on_write range of 2 MiB or
/// more first advises MADV_HUGEPAGE on it, so large-folio filesystems read it in huge pages.
/// Throws file_truncated_error (the file shrank under the mapping, or a write fault found the
/// disk full), os_error, layout_error (write asked of a mapping that is not read_write) or
/// state_error. The reading fallback turns vanished pages into
/// file_truncated_error only while the fault guard is installed (fault_guard.hpp).
MMAP_ARRAY_EXPORT void populate(const mapped_file& file, mapping_range range = {},
                                populate_options options = {});
/// As `populate`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT void populate(const mapped_file& file, mapping_range range,
                                populate_options options, std::error_code& ec) noexcept;

/// How a `write_behind` paces itself.
struct write_behind_options {
  /// Time between looks at the file's dirty pages (at least 20 times the look's own cost).
  std::chrono::milliseconds interval{2};
  /// Dirty bytes that start a writeback: a producer's partly written last folio is written
  /// again later, so this bounds the extra writing to a folio (2 MiB at most) per batch.
  std::size_t batch_bytes = std::size_t{8} << 20;
  /// The loop ends once the range's pages have not changed (none added, none dirtied) for
  /// this long: the producer has finished or paused.
  std::chrono::milliseconds idle{50};
  /// How long the loop waits for the producer's first write (the range's first change)
  /// before it ends: a producer may compute for a while before it writes.
  std::chrono::milliseconds first_write{5000};
  /// The path the file is reopened by (as take_options::reopen_path); empty: the mapping's.
  std::filesystem::path reopen_path{};
};

/// Write-behind for a read_write mapping that a producer is filling: while the producer
/// writes, the dirty pages are sent to the disk in batches, so a final `flush` has little left
/// to write. Measured on ext4 (Linux 6.18, virtio disk), create 80 MB + fill + flush: 44 ms
/// without, 34-36 ms with; flush alone 25 ms -> 11-12.5 ms. It costs a descriptor while it
/// runs, and writes a folio twice when the producer was still writing to it. A producer that
/// only rewrites pages already dirty changes no count, and the loop ends after options.idle.
class MMAP_ARRAY_EXPORT write_behind {
 public:
  /// Prepares write-behind for `range` of `file` (read only here, so the mapping may close
  /// while `run` goes on); throws layout_error (not a read_write mapping, or a range past the
  /// end) or state_error.
  write_behind(const mapped_file& file, mapping_range range = {}, write_behind_options options = {});

  /// Runs until `stop` is set, or the range has been idle for options.idle after a change (for
  /// options.first_write before any), and returns true;
  /// blocks: call it on a thread of its own. Every pass looks at the range's dirty pages
  /// (cachestat) and, past options.batch_bytes, starts their writeback without waiting
  /// (sync_file_range SYNC_FILE_RANGE_WRITE). Returns false at once, having written nothing,
  /// where the kernel lacks cachestat (before Linux 6.5) or the path no longer names the
  /// mapped file. A failing call ends the loop: flush still reports every write error.
  bool run(const std::atomic<bool>& stop) const noexcept;

 private:
  std::filesystem::path path_;
  file_identity identity_;
  std::uint64_t offset_ = 0;  // in the file
  std::uint64_t length_ = 0;
  write_behind_options options_;
};

/// The fraction (0 to 1) of the pages of `range` that are in memory (mincore(2)); 1 for an
/// empty range. Linux answers for the page cache only when this process may write the file
/// (or owns it); otherwise only for pages this process has mapped. Throws os_error,
/// layout_error or state_error.
MMAP_ARRAY_EXPORT double residency(const mapped_file& file, mapping_range range = {});
/// As `residency`, reporting failure through `ec` (and returning 0).
MMAP_ARRAY_EXPORT double residency(const mapped_file& file, mapping_range range,
                                   std::error_code& ec) noexcept;

/// The residency of each of `bins` equal consecutive byte ranges of `range` (a page straddling
/// two bins counts in both; a bin without bytes is 1). Throws layout_error (bad_argument for
/// zero bins, or more than 2^32), os_error or state_error.
MMAP_ARRAY_EXPORT std::vector<double> residency_map(const mapped_file& file, std::size_t bins,
                                                    mapping_range range = {});
/// As `residency_map`, reporting failure through `ec` (and returning an empty vector).
MMAP_ARRAY_EXPORT std::vector<double> residency_map(const mapped_file& file, std::size_t bins,
                                                    mapping_range range,
                                                    std::error_code& ec) noexcept;

/// What backs a mapping, as the kernel reports it.
struct page_report {
  std::size_t page_size = 0;       ///< the base page size, in bytes
  std::size_t huge_page_size = 0;  ///< transparent huge page (PMD) size; 0 without THP support
  /// The selected value of /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise",
  /// "never"); empty without THP support.
  std::optional<std::string> thp_enabled{};
  /// data()'s address and its file offset agree modulo huge_page_size: the condition for the
  /// kernel to map a huge page-cache page with one page-table entry (see FilePmdMapped).
  bool pmd_aligned = false;
  bool hugepage_advised = false;  ///< every VMA of the mapping carries MADV_HUGEPAGE ("hg")
  /// Kernel VMAs the mapping spans: advice over part of it, and pages the fault guard
  /// replaced, split one mapping into several.
  std::size_t vmas = 0;
  /// Every kB counter /proc/self/smaps shows for the mapping (Size, Rss, Pss, Shared_Clean,
  /// Private_Dirty, AnonHugePages, FilePmdMapped...), summed over its VMAs, in bytes, in the
  /// order smaps lists them; not KernelPageSize and MMUPageSize, which are not amounts.
  std::vector<std::pair<std::string, std::uint64_t>> smaps{};
};

/// Reports page sizes, the THP setting and the smaps counters of `file`'s mapping; throws
/// os_error (/proc/self/smaps unreadable, or the mapping missing from it) or state_error.
MMAP_ARRAY_EXPORT page_report page_info(const mapped_file& file);
/// As `page_info`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT page_report page_info(const mapped_file& file, std::error_code& ec) noexcept;

/// One dimension of a strided layout: `count` positions, `stride` bytes apart.
struct strided_dim {
  std::size_t count = 0;
  std::size_t stride = 0;
};

/// An N-dimensional array inside a mapping, split at the axis that `take_rows` indexes.
struct row_layout {
  std::size_t offset = 0;           ///< byte of the first element, counted from data()
  std::size_t element_bytes = 1;    ///< bytes of one element, copied as one unit (at least 1)
  std::vector<strided_dim> outer{}; ///< the dimensions before the axis, outermost first
  strided_dim axis{};               ///< the dimension the indices select along
  std::vector<strided_dim> inner{}; ///< the dimensions after the axis: together, one row
  std::size_t axis_number = 0;      ///< the axis' number in the array, for messages only
};

/// How `take_rows` works.
struct take_options {
  /// Threads copying in parallel; 0 picks min(hardware threads, one per 8 MiB of output).
  unsigned threads = 0;
  /// The path by which warm rows are read with pread (see take_rows); empty: the mapping's
  /// own, as given, which after a chdir no longer names the file if it was relative (rows
  /// are then faulted in). An absolute path resolved when the file was mapped survives it.
  std::filesystem::path reopen_path{};
};

/// The bytes `take_rows` writes for `count` indices: the outer counts × `count` × the bytes of
/// one row; throws layout_error(size_overflow).
MMAP_ARRAY_EXPORT std::size_t take_size(const row_layout& layout, std::size_t count);

/// Copies the rows at `indices` (negative ones count from the end, as in NumPy) of the array
/// `layout` describes in `file` into `destination`, C-ordered: outer dimensions, then indices,
/// then the row's dimensions. Before each batch of rows is copied, the kernel is asked to read
/// all their pages at once (MADV_WILLNEED), so a cold gather keeps many reads in flight. Warm
/// rows of 2 KiB or more that this process has not mapped yet are read with pread when a page
/// fault would map only a few pages: through the file's path (options.reopen_path, or the
/// mapping's), checked to name the same device and inode, on ext4, XFS, btrfs, F2FS or tmpfs
/// (whose reads see a shared mapping's pages); never for copy_on_write.
/// Every index and the layout are checked before anything is copied. Throws layout_error
/// (index_out_of_range naming the index, the axis and its size; a layout reaching outside the
/// mapping; a destination of the wrong size or overlapping the mapping), file_truncated_error
/// (the file shrank before or during the copy; the destination then holds zeros for the
/// vanished bytes, provided the fault guard is installed, without which reading them raises
/// SIGBUS as any read would) or state_error.
MMAP_ARRAY_EXPORT void take_rows(const mapped_file& file, const row_layout& layout,
                                 std::span<const std::int64_t> indices,
                                 std::span<std::byte> destination, take_options options = {});
/// As `take_rows`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT void take_rows(const mapped_file& file, const row_layout& layout,
                                 std::span<const std::int64_t> indices,
                                 std::span<std::byte> destination, take_options options,
                                 std::error_code& ec) noexcept;

}  // namespace mmap_array
