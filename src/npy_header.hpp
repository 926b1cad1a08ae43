// The fixed start of an .npy file (magic, version, header length), checked on
// its own, so a reader can refuse a file before it reads, or allocates for,
// the header the length announces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mmap_array/npy.hpp"

namespace mmap_array::detail {

/// What the first bytes of an .npy file say.
struct npy_preamble {
  std::uint8_t major_version = 1;
  std::uint8_t minor_version = 0;
  std::size_t size = 10;            ///< bytes of magic, version and length: 10 (1.0) or 12
  std::uint64_t header_length = 0;  ///< bytes of header text after them
};

/// Checks the magic, the version and the header length (against `limits`) at the start of
/// `bytes`, which may hold fewer than npy_preamble_size bytes: the file's whole contents when
/// it is that short. Throws format_error: bad_magic if the bytes present differ from the
/// magic, truncated if they match but stop early, unsupported_version, header_too_large.
npy_preamble parse_npy_preamble(std::span<const std::byte> bytes,
                                const std::filesystem::path& path, const npy_limits& limits);

/// True if `bytes` start with the whole .npy magic, "\x93NUMPY": how a file is told to be
/// .npy (a shorter prefix of it is not, as with detect_format).
bool has_npy_magic(std::span<const std::byte> bytes) noexcept;

/// What format_npy_header builds: the bytes before the data, and the header they hold.
struct npy_layout {
  std::string prefix;  ///< magic, version, length and header text
  npy_header header;   ///< the dtype in canonical form, data_offset and data_size filled in
};

/// format_npy_header, keeping the parsed header and naming `operation` and `path` in errors.
npy_layout make_npy_layout(const npy_dtype& dtype, std::span<const std::uint64_t> shape,
                           bool fortran_order, std::string_view operation,
                           const std::filesystem::path& path);

/// The bytes before the data (magic, version, length, header text padded with spaces and a
/// newline) describing `header` (its dtype, order, shape and version) in exactly
/// `prefix_size` bytes, so the data offset stays; nothing if the text does not fit there (or
/// a version 1.0/2.0 header would need characters beyond latin-1).
std::optional<std::string> format_npy_header_in(const npy_header& header,
                                                std::uint64_t prefix_size);

}  // namespace mmap_array::detail
