#include "arguments.hpp"

#include "mmap_array/error.hpp"

#include <nanobind/stl/string.h>

#include <algorithm>
#include <climits>
#include <limits>
#include <string>

#include <unistd.h>

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// operator.index(value) as a signed 64-bit integer; `what` names the argument. Only a
// TypeError is reworded: KeyboardInterrupt or MemoryError from __index__ pass through.
long long to_integer(nb::handle value, const char* what, const error_context& context) {
  nb::object index = nb::steal(PyNumber_Index(value.ptr()));
  if (!index.is_valid()) {
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) throw nb::python_error();
    PyErr_Clear();
    raise_error(PyExc_TypeError, context,
                std::string(what) + " must be an integer, not " + Py_TYPE(value.ptr())->tp_name);
  }
  int overflow = 0;
  const long long result = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0) {
    raise_error(PyExc_ValueError, context,
                std::string(what) + " " + nb::cast<std::string>(nb::repr(index)) + " is out of range");
  }
  return result;
}

// True if `text` is an absolute path that lexically_normal() would return unchanged: no empty,
// "." or ".." component and no trailing separator. Nearly every path is; a scan for that costs
// a fraction of normalising, which parses the path into components (a quarter of a raw open's
// instructions went to that before).
bool is_normal_absolute(std::string_view text) {
  if (text.empty() || text.front() != '/') return false;
  if (text.size() == 1) return true;  // the root
  if (text.back() == '/') return false;
  for (std::size_t start = 1; start <= text.size();) {
    std::size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// os.path.abspath of `given` (whose parsed form is `path`): joined to the working directory
// if relative, then normalised lexically.
std::string absolute_normal_text(std::string_view given, const std::filesystem::path& path) {
  std::string text;
  char cwd[PATH_MAX];
  if (given.front() == '/') {
    text = given;
  } else if (::getcwd(cwd, sizeof cwd) != nullptr) {
    text = cwd;
    if (text.back() != '/') text += '/';
    text += given;
  } else {
    // A working directory longer than PATH_MAX, or deleted: the library's way, which keeps
    // what was given when there is no working directory at all.
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    text = ec ? path.native() : absolute.native();
  }
  if (!is_normal_absolute(text)) text = std::filesystem::path(text).lexically_normal().native();
  return text;
}

// repr() of a value for a message, whatever it holds (NUL characters included).
std::string shown(nb::handle value) { return nb::cast<std::string>(nb::repr(value)); }

// Re-raises the pending Python error with the context's prefix, keeping its type.
[[noreturn]] void reraise_with_context(const error_context& context) {
  nb::python_error error;
  if (context.operation.empty()) throw error;
  nb::handle type = error.type();  // borrowed from `error`, which outlives its use
  const std::string message = nb::cast<std::string>(nb::str(error.value()));
  raise_error(type.ptr(), context, message);
}

constexpr std::string_view kModes =
    "mode must be one of 'r', 'r+', 'w+', 'c' (or 'readonly', 'readwrite', 'write', "
    "'copyonwrite'), not ";

}  // namespace

std::string error_context::prefix() const {
  if (operation.empty() || path == nullptr) return {};
  return "cannot " + std::string(operation) + " '" + path->string() + "': ";
}

void raise_error(PyObject* type, const error_context& context, std::string_view message) {
  const std::string text = context.prefix() + std::string(message);
  nb::object value = nb::steal(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
  if (value.is_valid()) PyErr_SetObject(type, value.ptr());
  throw nb::python_error();
}

path_argument to_path(nb::handle filename) {
  // The usual argument, an ASCII str that is already absolute and normal, is its own file
  // system encoding and its own os.path.abspath: no bytes object and no new str (a tenth of
  // an open's instructions). NULs and every other case take the general way below.
  if (PyUnicode_CheckExact(filename.ptr()) && PyUnicode_IS_ASCII(filename.ptr())) {
    const std::string_view given(static_cast<const char*>(PyUnicode_DATA(filename.ptr())),
                                 static_cast<std::size_t>(PyUnicode_GET_LENGTH(filename.ptr())));
    if (is_normal_absolute(given) && given.find('\0') == std::string_view::npos) {
      return {std::filesystem::path(given), nb::borrow(filename)};
    }
  }
  PyObject* encoded = nullptr;  // PyUnicode_FSConverter: str/bytes/PathLike -> bytes, no NULs
  if (PyUnicode_FSConverter(filename.ptr(), &encoded) == 0) throw nb::python_error();
  nb::object bytes = nb::steal(encoded);
  const std::string_view given(PyBytes_AS_STRING(encoded),
                               static_cast<std::size_t>(PyBytes_GET_SIZE(encoded)));
  if (given.empty()) raise_error(PyExc_ValueError, {}, "filename must not be empty");
  path_argument result;
  result.path = std::filesystem::path(given);
  const std::string text = absolute_normal_text(given, result.path);
  result.absolute = nb::steal(
      PyUnicode_DecodeFSDefaultAndSize(text.data(), static_cast<Py_ssize_t>(text.size())));
  if (!result.absolute.is_valid()) throw nb::python_error();
  return result;
}

mode_argument to_mode(std::string_view mode, const error_context& context) {
  if (mode == "r" || mode == "readonly") return {access_mode::read_only, false, "r"};
  if (mode == "r+" || mode == "readwrite") return {access_mode::read_write, false, "r+"};
  if (mode == "w+" || mode == "write") return {access_mode::read_write, true, "w+"};
  if (mode == "c" || mode == "copyonwrite") return {access_mode::copy_on_write, false, "c"};
  raise_error(PyExc_ValueError, context,
              std::string(kModes) + shown(nb::str(mode.data(), mode.size())));
}

mode_argument to_mode(nb::handle mode, const error_context& context) {
  if (!PyUnicode_Check(mode.ptr())) raise_error(PyExc_ValueError, context, std::string(kModes) + shown(mode));
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(mode.ptr(), &size);
  if (text == nullptr) throw nb::python_error();
  return to_mode(std::string_view(text, static_cast<std::size_t>(size)), context);
}

bool to_fortran_order(nb::handle order, const error_context& context) {
  if (PyUnicode_Check(order.ptr())) {
    if (PyUnicode_CompareWithASCIIString(order.ptr(), "C") == 0) return false;
    if (PyUnicode_CompareWithASCIIString(order.ptr(), "F") == 0) return true;
  }
  raise_error(PyExc_ValueError, context, "order must be 'C' or 'F', not " + shown(order));
}

dtype_argument to_dtype(nb::handle dtype, const error_context& context) {
  PyArray_Descr* raw = nullptr;
  if (PyArray_DescrConverter(dtype.ptr(), &raw) == 0) reraise_with_context(context);
  nb::object descr = nb::steal(reinterpret_cast<PyObject*>(raw));
  if (PyDataType_FLAGCHK(raw, NPY_ITEM_REFCOUNT)) {
    raise_error(PyExc_TypeError, context,
                "dtype '" + nb::cast<std::string>(nb::str(descr)) +
                    "' holds Python objects, which cannot live in a mapped file");
  }
  if (PyDataType_ELSIZE(raw) <= 0) {
    raise_error(PyExc_TypeError, context,
                "dtype '" + nb::cast<std::string>(nb::str(descr)) +
                    "' has items of 0 bytes, which cannot be mapped (for S, U or V, give a "
                    "length, e.g. 'S16')");
  }
  dtype_argument result{descr, {}, static_cast<std::size_t>(PyDataType_ELSIZE(raw))};
  // A subarray of a subarray adds the dimensions of both, outer first, as NumPy does.
  while (PyDataType_HASSUBARRAY(reinterpret_cast<PyArray_Descr*>(result.descr.ptr()))) {
    PyArray_ArrayDescr* sub = PyDataType_SUBARRAY(reinterpret_cast<PyArray_Descr*>(result.descr.ptr()));
    nb::tuple dims = nb::borrow<nb::tuple>(sub->shape);
    for (nb::handle dim : dims) result.subarray_shape.push_back(nb::cast<npy_intp>(dim));
    result.descr = nb::borrow(reinterpret_cast<PyObject*>(sub->base));
  }
  return result;
}

std::optional<std::vector<std::uint64_t>> to_shape(nb::handle shape, const error_context& context) {
  if (shape.is_none()) return std::nullopt;
  std::vector<std::uint64_t> dims;
  auto add = [&](nb::handle item) {
    const long long dim = to_integer(item, "shape dimension", context);
    if (dim < 0) {
      raise_error(PyExc_ValueError, context,
                  "negative dimensions are not allowed in shape, got " + std::to_string(dim));
    }
    dims.push_back(static_cast<std::uint64_t>(dim));
  };
  const bool text = PyUnicode_Check(shape.ptr()) || PyBytes_Check(shape.ptr()) ||
                    PyByteArray_Check(shape.ptr());
  if (!text && PySequence_Check(shape.ptr())) {
    // A snapshot: an item's __index__ may change the caller's list while it is read.
    nb::object items = nb::steal(PySequence_Tuple(shape.ptr()));
    if (items.is_valid()) {
      const Py_ssize_t n = PyTuple_GET_SIZE(items.ptr());
      if (n > NPY_MAXDIMS) {
        raise_error(PyExc_ValueError, context,
                    "shape has " + std::to_string(n) + " dimensions; NumPy allows at most " +
                        std::to_string(NPY_MAXDIMS));
      }
      for (Py_ssize_t i = 0; i < n; ++i) add(PyTuple_GET_ITEM(items.ptr(), i));
      return dims;
    }
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) throw nb::python_error();
    PyErr_Clear();  // e.g. a 0-d array, which is a sequence type but not iterable
  }
  if (!text && PyIndex_Check(shape.ptr())) {
    add(shape);
    return dims;
  }
  raise_error(PyExc_TypeError, context,
              std::string("shape must be None, an integer or a sequence of integers, not ") +
                  Py_TYPE(shape.ptr())->tp_name);
}

std::uint64_t to_offset(nb::handle offset, const error_context& context) {
  const long long value = to_integer(offset, "offset", context);
  if (value < 0) {
    raise_error(PyExc_ValueError, context, "offset must be non-negative, got " + std::to_string(value));
  }
  return static_cast<std::uint64_t>(value);
}

std::optional<std::string> numpy_layout_problem(std::span<const std::uint64_t> dims,
                                                std::uint64_t element_bytes,
                                                std::span<const npy_intp> inner) {
  const std::size_t ndim = dims.size() + inner.size();
  if (ndim > static_cast<std::size_t>(NPY_MAXDIMS)) {
    return "the array would have " + std::to_string(ndim) +
           " dimensions; NumPy allows at most " + std::to_string(NPY_MAXDIMS);
  }
  // NumPy's own rule: the non-zero dimensions times the item size fit in a signed npy_intp.
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<npy_intp>::max());
  std::uint64_t bytes = element_bytes;
  const auto fits = [&](std::uint64_t dim) {
    return dim == 0 || (!__builtin_mul_overflow(bytes, dim, &bytes) && bytes <= kMax);
  };
  // A subarray dtype's dimensions, from NumPy, are never negative.
  const bool all_fit = std::all_of(dims.begin(), dims.end(), fits) &&
                       std::all_of(inner.begin(), inner.end(), [&](npy_intp dim) {
                         return fits(static_cast<std::uint64_t>(dim));
                       });
  if (!all_fit) {
    return std::string("the array is too big for NumPy: its non-zero dimensions times its "
                       "item size exceed 2**63 - 1 bytes");
  }
  return std::nullopt;
}

void check_numpy_layout(std::span<const std::uint64_t> dims, std::uint64_t element_bytes,
                        const error_context& context, std::span<const npy_intp> inner) {
  if (auto problem = numpy_layout_problem(dims, element_bytes, inner)) {
    raise_error(PyExc_ValueError, context, *problem);
  }
}

void check_file_layout(const std::vector<std::uint64_t>& dims, std::uint64_t element_bytes,
                       const std::filesystem::path& path, std::string_view what) {
  if (auto problem = numpy_layout_problem(dims, element_bytes)) {
    throw format_error(format_errc::size_overflow, "map", path, std::string(what) + ": " + *problem);
  }
}

}  // namespace mmap_array::python
