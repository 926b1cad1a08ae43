// Conversion and validation of the arguments Python callers pass: paths, modes,
// orders, dtypes, shapes and offsets. Every wrong value is a ValueError or
// TypeError that says what was expected and, once the path is known, names the
// file; nothing here touches the file system.
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
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

/// What the messages of argument errors start with: "cannot map 'x.bin': ", or nothing.
/// The text is built only when a message needs it: most calls raise nothing, and building it
/// up front cost 7% of an open's instructions.
struct error_context {
  std::string_view operation;  // "map", "create"...; empty for no context
  const std::filesystem::path* path = nullptr;
  /// The context of an `operation` on `path`; both must outlive the context.
  static error_context of(std::string_view operation, const std::filesystem::path& path) {
    return {operation, &path};
  }
  /// "cannot <operation> '<path>': ", or "" without a context.
  std::string prefix() const;
};

/// Raises `type` with the context's prefix and `message`.
[[noreturn]] void raise_error(PyObject* type, const error_context& context, std::string_view message);

/// One of NumPy's memmap modes.
struct mode_argument {
  access_mode access;
  bool create;       // "w+": make a new file
  const char* name;  // canonical spelling: "r", "r+", "w+" or "c"
};
mode_argument to_mode(std::string_view mode, const error_context& context = {});
/// A mode given by a caller: a str (anything else is refused like a wrong str).
mode_argument to_mode(nanobind::handle mode, const error_context& context = {});

/// "C" -> false, "F" -> true; anything else is a ValueError.
bool to_fortran_order(nanobind::handle order, const error_context& context = {});

/// A validated dtype: fixed size, no Python objects. A subarray dtype such as
/// ('f8', (2, 3)), nested or not, is split into its base and the dimensions it adds.
struct dtype_argument {
  nanobind::object descr;               // PyArray_Descr of one element of the array
  std::vector<npy_intp> subarray_shape; // appended to the array's shape
  std::size_t itemsize;                 // bytes of one item as the file holds it
};
dtype_argument to_dtype(nanobind::handle dtype, const error_context& context = {});

/// None -> empty optional; an int, or a sequence of ints (list, tuple, 1-D array) ->
/// dimensions (each >= 0).
std::optional<std::vector<std::uint64_t>> to_shape(nanobind::handle shape,
                                                   const error_context& context = {});

/// A non-negative integer byte offset.
std::uint64_t to_offset(nanobind::handle offset, const error_context& context = {});

/// Why NumPy cannot make an array of `dims` elements of `element_bytes` each (more than
/// NPY_MAXDIMS dimensions, or more than 2**63 - 1 bytes counting the non-zero dimensions,
/// NumPy's own rule), or nothing if it can.
/// `inner` holds the trailing dimensions a subarray dtype adds, if any.
std::optional<std::string> numpy_layout_problem(std::span<const std::uint64_t> dims,
                                                std::uint64_t element_bytes,
                                                std::span<const npy_intp> inner = {});

/// Raises ValueError (with the context) if the caller asked for a layout NumPy cannot hold.
void check_numpy_layout(std::span<const std::uint64_t> dims, std::uint64_t element_bytes,
                        const error_context& context = {}, std::span<const npy_intp> inner = {});

/// Throws format_error(size_overflow) if a file declares a layout NumPy cannot hold.
void check_file_layout(const std::vector<std::uint64_t>& dims, std::uint64_t element_bytes,
                       const std::filesystem::path& path, std::string_view what);

}  // namespace mmap_array::python
