// MemoryMappedArray: the Python handle of one mapped array (the seed's class,
// grown up). It holds the mapping's owner until close(); arrays it hands out
// hold the owner too, so close() never invalidates them.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <cstdint>

#include "array_export.hpp"
#include "mmap_array/mapped_file.hpp"

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
};

/// A handle over `file` (which maps exactly the array's bytes) with `layout`; `filename` is
/// the absolute path (str), `offset` the array's byte offset in the file.
array_handle make_array_handle(mapped_file&& file, array_layout&& layout,
                               nanobind::object filename, const char* mode, const char* format,
                               std::uint64_t offset);

/// A new MemoryMappedArray Python object holding `handle`.
nanobind::object wrap_array_handle(array_handle&& handle);

/// Binds MemoryMappedArray.
void bind_array_handle(nanobind::module_& m);

/// Adds the access controls (advise, prefetch, populate, residency, residency_map, take,
/// page_info) to MemoryMappedArray; defined in access_methods.cpp.
void bind_access_methods(nanobind::class_<array_handle>& cls);

}  // namespace mmap_array::python
