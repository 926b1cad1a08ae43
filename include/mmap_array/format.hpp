// Telling file formats apart by their first bytes.
#pragma once

#include <filesystem>
#include <string_view>

#include "mmap_array/export.hpp"

namespace mmap_array {

/// The formats the library reads.
enum class file_format {
  raw,          ///< anything else: headerless items
  npy,          ///< starts with "\x93NUMPY"
  npz,          ///< a zip archive ("PK\x03\x04", or "PK\x05\x06" when empty)
  safetensors,  ///< an 8-byte little-endian length N, within the file and the 100 MB cap,
                ///< followed by '{'
};

/// The name of `format`: "raw", "npy", "npz" or "safetensors".
MMAP_ARRAY_EXPORT std::string_view to_string(file_format format) noexcept;

/// Reads the first bytes of the regular file at `path` and names its format (raw if none
/// matches; detection does not validate the rest); throws os_error.
MMAP_ARRAY_EXPORT file_format detect_format(const std::filesystem::path& path);

}  // namespace mmap_array
