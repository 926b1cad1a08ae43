// Indexing a handle like the array it maps: len(mm), iter(mm), mm[key], mm[key] = value.
// Each goes through a freshly exported array, so NumPy decides what a key means: basic
// indices (integers, slices, Ellipsis, None) give views whose base chain ends at the
// mapping's owner, and advanced (integer-array, boolean) indices give copies.
#include <string_view>

#include "errors.hpp"
#include "sharing.hpp"
#include "sharing_docstrings.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

nb::object exported(const array_handle& self, std::string_view operation) {
  require_open(self, operation);
  return export_array(self.data, self.layout, self.owner);
}

// A 0-d array has neither a length nor items, as in NumPy; the message names the file.
void refuse_zero_dimensions(const array_handle& self, const char* what) {
  if (!self.layout.shape.empty()) return;
  PyErr_Format(PyExc_TypeError, "%s %R is undefined: its array has no dimensions (shape ())",
               what, self.filename.ptr());
  throw nb::python_error();
}

// Like len(ndarray): the first dimension, which is known even after close(), as the shape is.
std::size_t length(const array_handle& self) {
  refuse_zero_dimensions(self, "len() of");
  return static_cast<std::size_t>(self.layout.shape[0]);
}

nb::object get_item(const array_handle& self, nb::handle key) {
  nb::object array = exported(self, "index");
  nb::object result = nb::steal(PyObject_GetItem(array.ptr(), key.ptr()));
  if (!result.is_valid()) throw nb::python_error();
  return result;
}

void set_item(const array_handle& self, nb::handle key, nb::handle value) {
  nb::object array = exported(self, "assign to");
  // NumPy would say "assignment destination is read-only" without naming the file or the
  // way out; the mode is known here.
  if (!self.layout.writable) {
    PyErr_Format(PyExc_ValueError,
                 "cannot assign to %R: it is mapped read-only (mode 'r'); open it with mode "
                 "'r+' to write to the file or 'c' for private copy-on-write changes",
                 self.filename.ptr());
    throw nb::python_error();
  }
  if (PyObject_SetItem(array.ptr(), key.ptr(), value.ptr()) != 0) throw nb::python_error();
}

nb::object iterate(const array_handle& self) {
  nb::object array = exported(self, "iterate over");
  refuse_zero_dimensions(self, "iteration over");
  nb::object iterator = nb::steal(PyObject_GetIter(array.ptr()));
  if (!iterator.is_valid()) throw nb::python_error();
  return iterator;
}

}  // namespace

void bind_sequence_protocol(nb::class_<array_handle>& cls) {
  // With __len__ defined, Python would make an empty handle false and a 0-d one raise in
  // `if mm:`; a handle stays what it was before it had a length, a true object.
  cls.def("__bool__", [](const array_handle&) { return true; },
          "Always True, like any object: a handle is true even when its array is empty.")
      .def("__len__", &length, doc::handle_len)
      .def("__iter__", &iterate, nb::sig("def __iter__(self) -> collections.abc.Iterator[typing.Any]"),
           doc::handle_iter)
      .def("__getitem__", &get_item, nb::arg("key").none(),
           nb::sig("def __getitem__(self, key: typing.Any) -> typing.Any"), doc::handle_getitem)
      .def("__setitem__", &set_item, nb::arg("key").none(), nb::arg("value").none(),
           nb::sig("def __setitem__(self, key: typing.Any, value: numpy.typing.ArrayLike) -> None"),
           doc::handle_setitem);
}

}  // namespace mmap_array::python
