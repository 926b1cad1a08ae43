#include "array_export.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// NumPy allocates its own memory when given a null data pointer; an empty array over a
// mapping of zero bytes points here instead (it has no elements to read or write).
alignas(64) std::byte empty_storage[64];

}  // namespace

std::vector<npy_intp> layout_strides(std::span<const std::uint64_t> outer, npy_intp item_bytes,
                                     std::span<const npy_intp> inner, npy_intp element_bytes,
                                     bool fortran) {
  std::vector<npy_intp> strides(outer.size() + inner.size());
  npy_intp step = item_bytes;
  for (std::size_t k = 0; k < outer.size(); ++k) {
    const std::size_t i = fortran ? k : outer.size() - 1 - k;
    strides[i] = step;
    step *= static_cast<npy_intp>(outer[i]);
  }
  step = element_bytes;
  for (std::size_t k = inner.size(); k-- > 0;) {
    strides[outer.size() + k] = step;
    step *= inner[k];
  }
  return strides;
}

array_layout make_layout(nb::object descr, std::span<const std::uint64_t> outer,
                         npy_intp item_bytes, std::span<const npy_intp> subarray_shape,
                         bool fortran, bool writable) {
  array_layout layout;
  const npy_intp element_bytes = PyDataType_ELSIZE(reinterpret_cast<PyArray_Descr*>(descr.ptr()));
  layout.strides = layout_strides(outer, item_bytes, subarray_shape, element_bytes, fortran);
  layout.shape.reserve(outer.size() + subarray_shape.size());
  for (std::uint64_t dim : outer) layout.shape.push_back(static_cast<npy_intp>(dim));
  layout.shape.insert(layout.shape.end(), subarray_shape.begin(), subarray_shape.end());
  layout.descr = std::move(descr);
  layout.fortran = fortran;
  layout.writable = writable;
  return layout;
}

nb::object export_array(void* data, const array_layout& layout, nb::handle owner) {
  // NumPy works out the contiguity and ALIGNED flags from the strides itself.
  const int flags = layout.writable ? NPY_ARRAY_WRITEABLE : 0;
  PyArray_Descr* descr = reinterpret_cast<PyArray_Descr*>(layout.descr.ptr());
  Py_INCREF(descr);  // PyArray_NewFromDescr steals it
  PyObject* array = PyArray_NewFromDescr(
      &PyArray_Type, descr, static_cast<int>(layout.shape.size()),
      const_cast<npy_intp*>(layout.shape.data()), const_cast<npy_intp*>(layout.strides.data()),
      data != nullptr ? data : static_cast<void*>(empty_storage), flags, nullptr);
  if (array == nullptr) throw nb::python_error();
  nb::object result = nb::steal(array);
  // A base that is not an ndarray and exports no writable buffer also keeps NumPy from
  // letting anyone set writeable=True on an array of a read-only mapping.
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(array), owner.inc_ref().ptr()) < 0) {
    throw nb::python_error();
  }
  return result;
}

}  // namespace mmap_array::python
