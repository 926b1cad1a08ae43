// __array_interface__ for consumers that know neither the buffer protocol nor __array__.
//
// NumPy's interface normally gives the data as a bare (address, read-only) pair, and an
// array built from it keeps only the object it came from alive: here the handle, which
// drops its mapping on close(), so the array would dangle. Instead "data" is an exported
// 1-D uint8 array over the mapped bytes: the interface then allows a buffer object there,
// the consumer's array takes that object as its base, and its base is the mapping's owner.
#include "errors.hpp"
#include "sharing.hpp"
#include "sharing_docstrings.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// The mapped bytes of the array, as a flat uint8 array that keeps the mapping alive.
nb::object byte_view(const array_handle& self) {
  array_layout bytes;
  bytes.descr = nb::steal(reinterpret_cast<PyObject*>(PyArray_DescrFromType(NPY_UINT8)));
  bytes.shape = {static_cast<npy_intp>(self.nbytes)};
  bytes.strides = {1};
  bytes.writable = self.layout.writable;
  return export_array(self.data, bytes, self.owner);
}

// Whether a consumer reading `interface` the way NumPy does gets `descr` back. For structured
// dtypes it may not: fields out of offset order are described as plain void, and padding as
// an unnamed gap that NumPy reads back as an extra field.
bool describes_exactly(const nb::dict& interface, nb::handle descr) {
  if (reinterpret_cast<PyArray_Descr*>(descr.ptr())->type_num != NPY_VOID) return true;
  PyArray_Descr* back = nullptr;
  if (PyArray_DescrConverter(interface["descr"].ptr(), &back) != NPY_SUCCEED) {
    PyErr_Clear();
    return false;
  }
  const bool same = PyArray_EquivTypes(back, reinterpret_cast<PyArray_Descr*>(descr.ptr())) != 0;
  Py_DECREF(back);
  return same;
}

nb::dict array_interface(const array_handle& self) {
  require_open(self, "describe");
  nb::object array = export_array(self.data, self.layout, self.owner);
  // NumPy's own description (typestr, descr, shape, strides) of the exported array; a new
  // dict each time, so replacing its data touches nothing shared.
  nb::dict interface = nb::borrow<nb::dict>(array.attr("__array_interface__"));
  if (!describes_exactly(interface, self.layout.descr)) {
    // AttributeError, not another error: NumPy then treats the interface as absent and falls
    // back to __array__, which is exact, instead of failing np.asarray(mm).
    PyErr_Format(PyExc_AttributeError,
                 "%R has no __array_interface__: its dtype %R cannot be described exactly "
                 "by the interface's 'descr' list; use np.asarray() or get_array()",
                 self.filename.ptr(), self.layout.descr.ptr());
    throw nb::python_error();
  }
  interface["data"] = byte_view(self);
  return interface;
}

}  // namespace

void bind_array_interface(nb::class_<array_handle>& cls) {
  cls.def_prop_ro("__array_interface__", &array_interface,
                  nb::sig("def __array_interface__(self) -> dict[str, typing.Any]"),
                  doc::array_interface);
}

}  // namespace mmap_array::python
