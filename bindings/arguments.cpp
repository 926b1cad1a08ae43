#include "arguments.hpp"

#include <string>

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

[[noreturn]] void raise(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  throw nb::python_error();
}

// operator.index(value) as a signed 64-bit integer; `what` names the argument.
long long to_integer(nb::handle value, const char* what) {
  nb::object index = nb::steal(PyNumber_Index(value.ptr()));
  if (!index.is_valid()) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "%s must be an integer, not %.200s", what,
                 Py_TYPE(value.ptr())->tp_name);
    throw nb::python_error();
  }
  int overflow = 0;
  const long long result = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0) {
    PyErr_Format(PyExc_ValueError, "%s %R is out of range", what, index.ptr());
    throw nb::python_error();
  }
  return result;
}

}  // namespace

path_argument to_path(nb::handle filename) {
  PyObject* encoded = nullptr;  // PyUnicode_FSConverter: str/bytes/PathLike -> bytes, no NULs
  if (PyUnicode_FSConverter(filename.ptr(), &encoded) == 0) throw nb::python_error();
  nb::object bytes = nb::steal(encoded);
  path_argument result;
  result.path = std::filesystem::path(std::string(PyBytes_AS_STRING(encoded),
                                                  static_cast<std::size_t>(PyBytes_GET_SIZE(encoded))));
  if (result.path.empty()) raise(PyExc_ValueError, "filename must not be empty");
  std::error_code ec;
  std::filesystem::path absolute =
      result.path.is_absolute() ? result.path : std::filesystem::absolute(result.path, ec);
  if (ec) absolute = result.path;  // getcwd failed (cwd deleted): keep what was given
  const std::string text = absolute.lexically_normal().native();
  result.absolute = nb::steal(
      PyUnicode_DecodeFSDefaultAndSize(text.data(), static_cast<Py_ssize_t>(text.size())));
  if (!result.absolute.is_valid()) throw nb::python_error();
  return result;
}

mode_argument to_mode(std::string_view mode) {
  if (mode == "r" || mode == "readonly") return {access_mode::read_only, false, "r"};
  if (mode == "r+" || mode == "readwrite") return {access_mode::read_write, false, "r+"};
  if (mode == "w+" || mode == "write") return {access_mode::read_write, true, "w+"};
  if (mode == "c" || mode == "copyonwrite") return {access_mode::copy_on_write, false, "c"};
  raise(PyExc_ValueError, "mode must be one of 'r', 'r+', 'w+', 'c' (or 'readonly', "
                          "'readwrite', 'write', 'copyonwrite'), not '" +
                              std::string(mode) + "'");
}

bool to_fortran_order(std::string_view order) {
  if (order == "C") return false;
  if (order == "F") return true;
  raise(PyExc_ValueError, "order must be 'C' or 'F', not '" + std::string(order) + "'");
}

dtype_argument to_dtype(nb::handle dtype) {
  PyArray_Descr* raw = nullptr;
  if (PyArray_DescrConverter(dtype.ptr(), &raw) == 0) throw nb::python_error();
  nb::object descr = nb::steal(reinterpret_cast<PyObject*>(raw));
  if (PyDataType_FLAGCHK(raw, NPY_ITEM_REFCOUNT)) {
    PyErr_Format(PyExc_TypeError,
                 "dtype '%S' holds Python objects, which cannot live in a mapped file", raw);
    throw nb::python_error();
  }
  if (PyDataType_ELSIZE(raw) <= 0) {
    PyErr_Format(PyExc_TypeError,
                 "dtype '%S' has no fixed size; give a length, e.g. 'S16' or 'U8'", raw);
    throw nb::python_error();
  }
  dtype_argument result{descr, {}, static_cast<std::size_t>(PyDataType_ELSIZE(raw))};
  if (PyDataType_HASSUBARRAY(raw)) {
    PyArray_ArrayDescr* sub = PyDataType_SUBARRAY(raw);
    result.descr = nb::borrow(reinterpret_cast<PyObject*>(sub->base));
    // NumPy stores the subarray's shape as a tuple of non-negative ints.
    nb::tuple dims = nb::borrow<nb::tuple>(sub->shape);
    for (nb::handle dim : dims) result.subarray_shape.push_back(nb::cast<npy_intp>(dim));
  }
  return result;
}

std::optional<std::vector<std::uint64_t>> to_shape(nb::handle shape) {
  if (shape.is_none()) return std::nullopt;
  std::vector<std::uint64_t> dims;
  auto add = [&](nb::handle item) {
    const long long dim = to_integer(item, "shape dimension");
    if (dim < 0) raise(PyExc_ValueError, "negative dimensions are not allowed in shape, got " +
                                             std::to_string(dim));
    dims.push_back(static_cast<std::uint64_t>(dim));
  };
  if (PyIndex_Check(shape.ptr())) {
    add(shape);
    return dims;
  }
  nb::object sequence = nb::steal(PySequence_Fast(shape.ptr(), "shape must be None, an integer "
                                                               "or a sequence of integers"));
  if (!sequence.is_valid()) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "shape must be None, an integer or a sequence of integers, "
                                  "not %.200s", Py_TYPE(shape.ptr())->tp_name);
    throw nb::python_error();
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(sequence.ptr());
  if (n > NPY_MAXDIMS) {
    raise(PyExc_ValueError, "shape has " + std::to_string(n) + " dimensions; NumPy allows at most " +
                                std::to_string(NPY_MAXDIMS));
  }
  for (Py_ssize_t i = 0; i < n; ++i) add(PySequence_Fast_GET_ITEM(sequence.ptr(), i));
  return dims;
}

std::uint64_t to_offset(nb::handle offset) {
  const long long value = to_integer(offset, "offset");
  if (value < 0) raise(PyExc_ValueError, "offset must be non-negative, got " + std::to_string(value));
  return static_cast<std::uint64_t>(value);
}

}  // namespace mmap_array::python
