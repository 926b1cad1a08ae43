// What the safetensors parser shares with map_safetensors, which must check the
// header length against the cap and the file size before it allocates a buffer
// for the header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "mmap_array/safetensors.hpp"

namespace mmap_array::detail {

/// The operation format_errors about a safetensors file name.
inline constexpr std::string_view safetensors_read_operation = "read the safetensors header of";

/// N, the header length in the first 8 bytes of `prefix`, once checked: the file of
/// `file_size` bytes holds at least 8 bytes (else truncated), N is within the cap (else
/// header_too_large) and 8 + N bytes fit in the file (else truncated). `prefix` may be
/// shorter than 8 bytes only when the file is.
std::uint64_t safetensors_header_length(std::span<const std::byte> prefix,
                                        std::uint64_t file_size,
                                        const std::filesystem::path& path,
                                        const safetensors_limits& limits);

}  // namespace mmap_array::detail
