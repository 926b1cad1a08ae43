// Conversion and validation of the arguments Python callers pass: paths, modes,
// orders, dtypes, shapes and offsets. Every wrong value is a ValueError or
// TypeError that says what was expected; nothing here touches the file system.
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "mmap_array/mapped_file.hpp"
#include "numpy_api.hpp"

namespace mmap_array::python {

/// A file path from str, bytes or os.PathLike.
struct path_argument {
  std::filesystem::path path;   // as given, encoded for the file system
  nanobind::object absolute;    // str: the absolute, normalised path (like os.path.abspath)
};
path_argument to_path(nanobind::handle filename);

/// One of NumPy's memmap modes.
struct mode_argument {
  access_mode access;
  bool create;       // "w+": make a new file
  const char* name;  // canonical spelling: "r", "r+", "w+" or "c"
};
mode_argument to_mode(std::string_view mode);

/// "C" -> false, "F" -> true.
bool to_fortran_order(std::string_view order);

/// A validated dtype: fixed size, no Python objects. A subarray dtype such as
/// ('f8', (2, 3)) is split into its base and the dimensions it adds.
struct dtype_argument {
  nanobind::object descr;              // PyArray_Descr of one element of the array
  std::vector<npy_intp> subarray_shape; // appended to the array's shape
  std::size_t itemsize;                // bytes of one item as the file holds it
};
dtype_argument to_dtype(nanobind::handle dtype);

/// None -> empty optional; an int or a sequence of ints -> dimensions (each >= 0).
std::optional<std::vector<std::uint64_t>> to_shape(nanobind::handle shape);

/// A non-negative integer byte offset.
std::uint64_t to_offset(nanobind::handle offset);

}  // namespace mmap_array::python
