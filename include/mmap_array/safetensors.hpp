// The safetensors format (https://github.com/huggingface/safetensors).
//
// A file is: N, the header length, as 8 bytes little-endian; N bytes of UTF-8
// JSON (padded with spaces, usually to a multiple of 8); then the data. The JSON
// is an object mapping each tensor name to {"dtype": "F32", "shape": [2, 3],
// "data_offsets": [begin, end]}, offsets relative to the start of the data, plus
// an optional "__metadata__" object of string to string. Data is little-endian,
// C order.
//
// The parser here validates as strictly as the format allows: N at most 100 MB
// and within the file; valid UTF-8; JSON whose top level is an object, without
// duplicate keys; every tensor's dtype known, its shape and byte size computed
// with checked arithmetic, data_offsets exact integers (no floats, signs or
// rounding) with end - begin equal to the byte size; tensors tiling the data
// exactly (no gaps, no overlaps, no trailing bytes); metadata values strings.
#pragma once

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

#include "mmap_array/export.hpp"
#include "mmap_array/mapped_file.hpp"

namespace mmap_array {

/// The element types of safetensors, in the format's own spelling.
enum class safetensors_dtype {
  BOOL, U8, I8, I16, U16, I32, U32, I64, U64,
  F16, BF16, F32, F64, C64,
  F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
  F4, F6_E2M3, F6_E3M2,
};

/// The format's name of `dtype`, e.g. "BF16".
MMAP_ARRAY_EXPORT std::string_view to_string(safetensors_dtype dtype) noexcept;
/// The dtype named `name`, or nothing if the format has no such name.
MMAP_ARRAY_EXPORT std::optional<safetensors_dtype> parse_safetensors_dtype(
    std::string_view name) noexcept;
/// Bits of one element: 1 byte for BOOL, 4 for F4, 6 for F6_*.
MMAP_ARRAY_EXPORT unsigned bits_of(safetensors_dtype dtype) noexcept;

/// One tensor of a safetensors file.
struct safetensors_tensor {
  std::string name;                  ///< UTF-8
  safetensors_dtype dtype = safetensors_dtype::U8;
  std::vector<std::uint64_t> shape;  ///< empty for a scalar
  std::uint64_t begin = 0;           ///< byte offset of the data, relative to the data section
  std::uint64_t end = 0;             ///< one past the last byte
};

/// A parsed safetensors header.
struct safetensors_header {
  std::vector<safetensors_tensor> tensors;  ///< ordered by data offset (then name)
  /// The "__metadata__" entries in the order the file lists them; empty if absent.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::uint64_t data_offset = 0;  ///< 8 + N: where the data section starts in the file
  std::uint64_t data_size = 0;    ///< bytes of the data section
};

/// Safety caps of the parser.
struct safetensors_limits {
  std::uint64_t max_header_size = 100'000'000;  ///< largest N accepted (the format's own cap)
};

/// Parses and validates a whole safetensors header: `file_prefix` holds at least the
/// 8 + N bytes of length and JSON, `file_size` is the size of the whole file (for the
/// tiling check); `path` only names the file in messages. Throws format_error.
MMAP_ARRAY_EXPORT safetensors_header parse_safetensors_header(
    std::span<const std::byte> file_prefix, std::uint64_t file_size,
    const std::filesystem::path& path, const safetensors_limits& limits = {});

/// The bytes before the data of a safetensors file holding `tensors` (their begin/end as
/// given, which must tile the data) and `metadata`: the 8-byte length, then the JSON,
/// padded with spaces to a multiple of 8 so the data starts 8-byte aligned. Throws
/// format_error if the tensors do not tile or a name repeats.
MMAP_ARRAY_EXPORT std::string format_safetensors_header(
    std::span<const safetensors_tensor> tensors,
    std::span<const std::pair<std::string, std::string>> metadata);

/// A safetensors file whose data section is mapped.
struct mapped_safetensors {
  safetensors_header header;  ///< the parsed header
  mapped_file data;           ///< the data section: tensor t is data.data() + t.begin
};

/// Reads and validates the header of the file at `path` and maps its data section; throws
/// os_error or format_error.
MMAP_ARRAY_EXPORT mapped_safetensors map_safetensors(const std::filesystem::path& path,
                                                     access_mode mode,
                                                     const safetensors_limits& limits = {});
/// As `map_safetensors`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_safetensors map_safetensors(const std::filesystem::path& path,
                                                     access_mode mode,
                                                     const safetensors_limits& limits,
                                                     std::error_code& ec) noexcept;

}  // namespace mmap_array
