#include "errors.hpp"

#include <cstring>
#include <string>

#include "mmap_array/error.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// Sets a Python exception of `type` from a UTF-8-ish message; paths in messages may hold
// bytes that are not UTF-8, which are replaced rather than failing to raise.
void set_error(PyObject* type, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, static_cast<Py_ssize_t>(std::strlen(message)),
                                        "replace");
  if (text == nullptr) return;
  PyErr_SetObject(type, text);
  Py_DECREF(text);
}

// OSError(errno, "cannot <operation>: <cause>", filename): calling OSError itself lets
// Python pick FileNotFoundError, PermissionError, IsADirectoryError... from the errno.
void set_os_error(const os_error& e) {
  const std::string text = "cannot " + e.operation() + ": " + e.cause();
  const std::string& path = e.path().native();
  nb::object filename = nb::steal(
      PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size())));
  nb::object strerror = nb::steal(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
  if (!filename.is_valid() || !strerror.is_valid()) return;
  nb::object exc = nb::steal(PyObject_CallFunction(PyExc_OSError, "iOO", e.errno_value(),
                                                   strerror.ptr(), filename.ptr()));
  if (!exc.is_valid()) return;
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const os_error& e) {
    set_os_error(e);
  } catch (const error& e) {  // layout_error, state_error: the request does not fit
    set_error(PyExc_ValueError, e.what());
  }
}

}  // namespace

void register_errors(nb::module_&) { nb::register_exception_translator(translate); }

void raise_closed(std::string_view operation, nb::handle filename) {
  const std::string text = "cannot " + std::string(operation) + " %R: the mapping is closed";
  PyErr_Format(PyExc_ValueError, text.c_str(), filename.ptr());
  throw nb::python_error();
}

}  // namespace mmap_array::python
