#include "array_export.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// NumPy allocates its own memory when given a null data pointer; an empty array over a
// mapping of zero bytes points here instead (it has no elements to read or write).
alignas(64) std::byte empty_storage[64];

}  // namespace

nb::object export_array(void* data, const array_layout& layout, nb::handle owner) {
  // With strides omitted, NumPy lays the array out in C order, or in Fortran order when
  // NPY_ARRAY_F_CONTIGUOUS is passed; it works out the ALIGNED flag itself.
  const int flags = (layout.fortran ? NPY_ARRAY_F_CONTIGUOUS : 0) |
                    (layout.writable ? NPY_ARRAY_WRITEABLE : 0);
  PyArray_Descr* descr = reinterpret_cast<PyArray_Descr*>(layout.descr.ptr());
  Py_INCREF(descr);  // PyArray_NewFromDescr steals it
  PyObject* array = PyArray_NewFromDescr(
      &PyArray_Type, descr, static_cast<int>(layout.shape.size()),
      const_cast<npy_intp*>(layout.shape.data()), nullptr,
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
