// The physical floor of the benchmark suite (`mmap-array bench`): what the kernel and the
// hardware do with no library in the way, measured inside the Python process so it shares
// the machine state of every other contestant.
//
// These call libc directly, not through the library's syscall seam (src/syscalls.hpp), on
// purpose: the floor is the yardstick the library is measured against, so no part of the
// library may be inside it. They live beside the bindings, not in the installed C++ library,
// because nothing but the benchmark needs them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace mmap_array::floor_probes {

/// What a timed read did: how long it took, how many bytes it read and a checksum of them.
struct timed_read {
  std::uint64_t nanoseconds = 0;
  std::uint64_t bytes = 0;
  /// Sum of the bytes read as little-endian 64-bit words, modulo 2**64: computing it touches
  /// every byte, so no read can be skipped or left lazy, and the caller can check it.
  std::uint64_t checksum = 0;
};

/// Times open(O_RDONLY) + fstat + mmap(PROT_READ, MAP_SHARED) of the whole file + close, the
/// system calls every zero-copy open needs; munmap runs after the clock stops, as the other
/// contestants unmap after their timing too. Throws os_error.
std::uint64_t open_map_close_nanoseconds(const std::filesystem::path& path);

/// Sums `words` (memory already resident) with independent accumulators: the memory
/// bandwidth a single thread gets from RAM.
timed_read sum_words(std::span<const std::uint64_t> words) noexcept;

/// Reads the whole file with O_DIRECT, bypassing the page cache: `threads` threads each keep
/// one pread of `block_bytes` in flight, so the device sees a queue of `threads` requests.
/// The file's size must be a multiple of 8 and `block_bytes` a positive multiple of 4096.
/// Throws os_error (EINVAL if the file system refuses O_DIRECT) or std::invalid_argument.
timed_read direct_read(const std::filesystem::path& path, unsigned threads,
                       std::size_t block_bytes);

/// Reads `row_bytes` at each of `offsets` with O_DIRECT, `threads` preads in flight: the
/// device's limit for a random gather. Offsets and `row_bytes` must be multiples of 4096 and
/// every row inside the file. Throws os_error or std::invalid_argument.
timed_read direct_gather(const std::filesystem::path& path,
                         std::span<const std::uint64_t> offsets, std::size_t row_bytes,
                         unsigned threads);

/// Pages of the file held in the page cache, by mincore(2) over a fresh mapping (which
/// faults nothing in), and the file's size in pages. Throws os_error.
struct residency {
  std::uint64_t resident_pages = 0;
  std::uint64_t total_pages = 0;
};
residency page_cache_residency(const std::filesystem::path& path);

}  // namespace mmap_array::floor_probes
