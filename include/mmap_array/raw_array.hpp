// Headerless ("raw") array files: a run of fixed-size items at a byte offset,
// the layout NumPy's tofile/memmap and the seed tutorial use. The caller
// declares the item size and, optionally, the shape; these functions check
// that the declaration fits the file before anything is mapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "mmap_array/mapped_file.hpp"

namespace mmap_array {

/// What a raw array file is declared to hold.
struct raw_array_spec {
  std::size_t itemsize = 1;   ///< bytes per item, at least 1
  std::uint64_t offset = 0;   ///< byte offset of the first item, any value
  /// Dimensions; empty optional means 1-D over every byte after `offset`, which must then
  /// be a whole number of items. An explicit shape must cover the rest of the file exactly.
  std::optional<std::vector<std::uint64_t>> shape{};
};

/// Number of items in `shape` (1 for a 0-d shape); throws layout_error(size_overflow) past 2^64.
MMAP_ARRAY_EXPORT std::uint64_t item_count(std::span<const std::uint64_t> shape, const std::filesystem::path& path);

/// Maps the raw array `spec` of the existing file at `path`; throws os_error or layout_error
/// (offset past the end, size not a multiple of the item size, shape not fitting the file).
/// The mapping keeps `path`: pass an rvalue to move it in.
MMAP_ARRAY_EXPORT mapped_file map_raw_array(std::filesystem::path path, access_mode mode,
                                            const raw_array_spec& spec);
/// As `map_raw_array`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_file map_raw_array(const std::filesystem::path& path, access_mode mode,
                                            const raw_array_spec& spec,
                                            std::error_code& ec) noexcept;

/// Creates a new zero-filled, preallocated raw array file of `offset + items * itemsize` bytes
/// atomically replacing `path`, and maps it read-write; `spec.shape` is required.
MMAP_ARRAY_EXPORT mapped_file create_raw_array(const std::filesystem::path& path,
                                               const raw_array_spec& spec);
/// As `create_raw_array`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_file create_raw_array(const std::filesystem::path& path,
                                               const raw_array_spec& spec,
                                               std::error_code& ec) noexcept;

}  // namespace mmap_array
