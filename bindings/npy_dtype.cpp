#include "npy_dtype.hpp"

#include <string>

#include "numpy_api.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// numpy.lib.format's function `name`, looked up once; deliberately never released, so
// nothing runs at interpreter shutdown.
nb::handle format_function(const char* name) {
  nb::object function = nb::module_::import_("numpy.lib.format").attr(name);
  return function.release();
}

nb::object shape_tuple(const std::vector<std::uint64_t>& shape) {
  nb::list dims;
  for (std::uint64_t dim : shape) dims.append(dim);
  return nb::tuple(dims);
}

nb::str utf8(const std::string& text) { return nb::str(text.data(), text.size()); }

// The descr as the Python object numpy.lib.format.descr_to_dtype takes: a type string, or
// a list of (name, descr[, shape]) tuples whose name may be a (title, name) tuple.
nb::object descr_object(const npy_dtype& dtype) {
  if (dtype.fields.empty()) return utf8(dtype.typestr);
  nb::list fields;
  for (const npy_field& field : dtype.fields) {
    nb::object name = field.title.empty() ? nb::object(utf8(field.name))
                                          : nb::object(nb::make_tuple(utf8(field.title),
                                                                      utf8(field.name)));
    if (field.shape.empty()) {
      fields.append(nb::make_tuple(name, descr_object(field.type)));
    } else {
      fields.append(nb::make_tuple(name, descr_object(field.type), shape_tuple(field.shape)));
    }
  }
  return fields;
}

[[noreturn]] void refuse(const npy_dtype& dtype, const std::filesystem::path& path,
                         const std::string& why) {
  throw format_error(format_errc::bad_dtype, "map", path,
                     "NumPy cannot use the header's dtype " + format_npy_descr(dtype) + ": " + why);
}

}  // namespace

nb::object numpy_descr(const npy_dtype& dtype, const std::filesystem::path& path) {
  nb::object descr;
  if (dtype.fields.empty()) {
    // The common case, kept off the Python-level converter.
    PyArray_Descr* raw = nullptr;
    nb::str text = utf8(dtype.typestr);
    if (PyArray_DescrConverter(text.ptr(), &raw) == 0) {
      nb::python_error error;
      refuse(dtype, path, error.what());
    }
    descr = nb::steal(reinterpret_cast<PyObject*>(raw));
  } else {
    static nb::handle descr_to_dtype = format_function("descr_to_dtype");
    try {
      descr = descr_to_dtype(descr_object(dtype));
    } catch (nb::python_error& error) {
      refuse(dtype, path, error.what());
    }
  }
  const auto itemsize =
      static_cast<std::uint64_t>(PyDataType_ELSIZE(reinterpret_cast<PyArray_Descr*>(descr.ptr())));
  if (itemsize != dtype.itemsize) {
    refuse(dtype, path, "NumPy gives it " + std::to_string(itemsize) + " bytes, the header " +
                            std::to_string(dtype.itemsize));
  }
  return descr;
}

std::string descr_literal(nb::handle descr) {
  static nb::handle dtype_to_descr = format_function("dtype_to_descr");
  return nb::cast<std::string>(nb::repr(dtype_to_descr(descr)));
}

}  // namespace mmap_array::python
