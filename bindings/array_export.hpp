// Making NumPy arrays over mapped memory, without copying.
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <span>
#include <vector>

#include "numpy_api.hpp"

namespace mmap_array::python {

/// What an exported array looks like.
struct array_layout {
  nanobind::object descr;         // PyArray_Descr
  std::vector<npy_intp> shape;
  std::vector<npy_intp> strides;  // bytes, one per dimension
  bool fortran = false;           // the file's items are in column-major order
  bool writable = false;
};

/// Strides of an array of `outer` items of `item_bytes` each, laid out in C or Fortran order,
/// where each item is itself a C-ordered block of `inner` elements of `element_bytes` (a
/// subarray dtype; `inner` is empty otherwise). NumPy's own ndarray(order="F") gets the
/// subarray case wrong: it spreads the elements of one item across the whole array.
std::vector<npy_intp> layout_strides(std::span<const std::uint64_t> outer, npy_intp item_bytes,
                                     std::span<const npy_intp> inner, npy_intp element_bytes,
                                     bool fortran);

/// The layout of `outer` items of `item_bytes` each (C or Fortran order), each made of a
/// C-ordered block `subarray_shape` of `descr` elements (empty for plain dtypes). The
/// dimensions must already be checked to fit NumPy (check_numpy_layout).
array_layout make_layout(nanobind::object descr, std::span<const std::uint64_t> outer,
                         npy_intp item_bytes, std::span<const npy_intp> subarray_shape,
                         bool fortran, bool writable);

/// A new ndarray of `layout` over `data` whose base is `owner` (which keeps `data` alive).
/// `data` may be null for an empty array.
nanobind::object export_array(void* data, const array_layout& layout, nanobind::handle owner);

}  // namespace mmap_array::python
