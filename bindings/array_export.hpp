// Making NumPy arrays over mapped memory, without copying.
#pragma once

#include <nanobind/nanobind.h>

#include <vector>

#include "numpy_api.hpp"

namespace mmap_array::python {

/// What an exported array looks like.
struct array_layout {
  nanobind::object descr;       // PyArray_Descr
  std::vector<npy_intp> shape;
  bool fortran = false;
  bool writable = false;
};

/// A new ndarray of `layout` over `data` whose base is `owner` (which keeps `data` alive).
/// `data` may be null for an empty array.
nanobind::object export_array(void* data, const array_layout& layout, nanobind::handle owner);

}  // namespace mmap_array::python
