// MemoryMappedArray: the Python handle of one mapped array (the seed's class,
// grown up). It holds the mapping's owner until close(); arrays it hands out
// hold the owner too, so close() never invalidates them.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "arguments.hpp"
#include "array_export.hpp"
#include "mmap_array/mapped_file.hpp"
#include "mmap_array/npy.hpp"
#include "mmap_array/raw_array.hpp"

namespace mmap_array::python {

struct array_handle {
  nanobind::object owner;     // the _Mapping; null once closed
  const char* format = "raw"; // "raw" or "npy"
  void* data = nullptr;       // first byte of the array inside the mapping
  array_layout layout;        // dtype, shape, order, writability of exported arrays
  nanobind::object filename;  // str, absolute
  nanobind::object shape_tuple;
  const char* mode = "r";
  std::uint64_t offset = 0;
  std::uint64_t nbytes = 0;
  std::uint64_t items = 0;
  // Whether the buffer protocol's format string describes the dtype exactly (-1: not yet
  // known). Plain voids, records with out-of-order fields and datetimes do not.
  signed char buffer_format_exact = -1;
  // Trailing dimensions of `layout.shape` that come from a subarray dtype such as
  // ('f8', (3,)) of a raw file: pickling rebuilds that dtype, since in Fortran order the
  // split between items and their elements decides the strides.
  std::uint8_t subarray_ndim = 0;
  file_identity identity;     // of the mapped file when it was mapped; pickles carry it
  std::optional<npy_header> npy;  // the header of an .npy file as mapped (resize rewrites it)
  // The owners of the mappings this handle had before resize() and append() remapped it: the
  // arrays they still back must not lose their pages to a later shrink (grow.cpp).
  std::vector<nanobind::weakref> previous_owners;
  bool resizing = false;      // a resize runs with the GIL released; a second one must wait
};

/// A handle over `file` (which maps exactly the array's bytes) with `layout`; `filename` is
/// the absolute path (str), `offset` the array's byte offset in the file.
array_handle make_array_handle(mapped_file&& file, array_layout&& layout,
                               nanobind::object filename, const char* mode, const char* format,
                               std::uint64_t offset);

/// The arguments that describe a raw array (dtype, shape, offset, order), converted and
/// checked before anything is opened or created.
struct raw_request {
  dtype_argument type;
  raw_array_spec spec;
  bool fortran = false;
};

// Defined here and always inlined: MemoryMappedArray(path) and open(path, dtype=...) both
// build raw handles with them, and the open of a raw file is the path measured against the
// syscall floor. Out of line (GCC would not inline them by itself), they cost that open 1.6%
// more instructions (callgrind); inlined, 0.5%.

// Bytes of one element of the dtype's base (of a subarray dtype's elements, not its items).
inline std::uint64_t element_bytes_of(const dtype_argument& type) {
  return static_cast<std::uint64_t>(
      PyDataType_ELSIZE(reinterpret_cast<PyArray_Descr*>(type.descr.ptr())));
}

/// Converts and checks a raw array's arguments; `create` (mode "w+") requires a shape. Raises
/// ValueError or TypeError, prefixed by `context`.
[[gnu::always_inline]] inline raw_request to_raw_request(nanobind::handle dtype,
                                                         nanobind::handle shape,
                                                         nanobind::handle offset,
                                                         nanobind::handle order,
                                                         const error_context& context,
                                                         bool create) {
  raw_request request;
  request.fortran = to_fortran_order(order, context);
  request.type = to_dtype(dtype, context);
  request.spec = {request.type.itemsize, to_offset(offset, context), to_shape(shape, context)};
  if (create && !request.spec.shape) {
    raise_error(PyExc_ValueError, context,
                "mode 'w+' creates a new file and needs a shape, e.g. shape=(1000,)");
  }
  // Refused before anything is mapped or created: w+ must not replace a file for nothing.
  if (request.spec.shape) {
    check_numpy_layout(*request.spec.shape, element_bytes_of(request.type), context,
                       request.type.subarray_shape);
  }
  return request;
}

/// The handle of `file`, mapped as `request` says (without a shape, a vector of as many
/// whole items as the file holds: checked here); `operation` ("map", "create") for messages.
[[gnu::always_inline]] inline array_handle raw_array_handle(mapped_file&& file,
                                                            raw_request&& request,
                                                            nanobind::object filename,
                                                            const char* mode, access_mode access,
                                                            std::string_view operation) {
  dtype_argument& type = request.type;
  const raw_array_spec& spec = request.spec;
  // Without a shape, the file holds a vector of as many whole items as fit.
  const std::uint64_t items = file.size() / type.itemsize;
  const std::span<const std::uint64_t> outer =
      spec.shape ? std::span<const std::uint64_t>(*spec.shape) : std::span(&items, 1);
  if (!spec.shape) {
    check_numpy_layout(outer, element_bytes_of(type), error_context::of(operation, file.path()),
                       type.subarray_shape);
  }
  array_layout layout = make_layout(std::move(type.descr), outer,
                                    static_cast<npy_intp>(type.itemsize), type.subarray_shape,
                                    request.fortran, access != access_mode::read_only);
  array_handle handle = make_array_handle(std::move(file), std::move(layout),
                                          std::move(filename), mode, "raw", spec.offset);
  handle.subarray_ndim = static_cast<std::uint8_t>(type.subarray_shape.size());
  return handle;
}

/// `self`, if it is open and its file did not shrink; otherwise raises ValueError (closed) or
/// FileTruncatedError, naming `operation` and the file.
const array_handle& require_open(const array_handle& self, std::string_view operation);

/// A new MemoryMappedArray Python object holding `handle`.
nanobind::object wrap_array_handle(array_handle&& handle);

/// Binds MemoryMappedArray.
void bind_array_handle(nanobind::module_& m);

/// Adds resize() and append() to MemoryMappedArray; defined in grow.cpp.
void bind_grow_methods(nanobind::class_<array_handle>& cls);

/// Adds the access controls (advise, prefetch, populate, residency, residency_map, take,
/// page_info) to MemoryMappedArray; defined in access_methods.cpp.
void bind_access_methods(nanobind::class_<array_handle>& cls);

}  // namespace mmap_array::python
