// Mapping a raw array out of a file that is already open, shared by map_raw_array and
// map_npy_or_raw (which opens the file once to tell .npy from raw).
#pragma once

#include <filesystem>

#include "file_posix.hpp"
#include "mmap_array/raw_array.hpp"

namespace mmap_array::detail {

/// Refuses a spec no file can hold (an item size of 0) before anything is opened; throws
/// layout_error.
void check_raw_spec(const raw_array_spec& spec, const std::filesystem::path& path);

/// Maps the raw array `spec` of the regular file open as `file` (opened for `mode`); the
/// mapping takes `path` over (moved: no copy of its components). Throws os_error or
/// layout_error as map_raw_array does.
mapped_file map_opened_raw_array(const opened_file& file, std::filesystem::path&& path,
                                 access_mode mode, const raw_array_spec& spec);

}  // namespace mmap_array::detail
