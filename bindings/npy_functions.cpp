#include "npy_functions.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <optional>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "array_handle.hpp"
#include "npy_dtype.hpp"
#include "stub_types.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// A MemoryMappedArray over the data of `npy`.
nb::object handle_of(mapped_npy&& npy, nb::object filename, const mode_argument& how,
                     const char* mode_name) {
  const std::filesystem::path& path = npy.data.path();  // as given, for messages
  check_file_layout(npy.header.shape, npy.header.dtype.itemsize, path, "the header's shape");
  nb::object descr = numpy_descr(npy.header.dtype, path);
  array_layout layout =
      make_layout(std::move(descr), npy.header.shape,
                  static_cast<npy_intp>(npy.header.dtype.itemsize), {},
                  npy.header.fortran_order, how.access != access_mode::read_only);
  array_handle handle = make_array_handle(std::move(npy.data), std::move(layout),
                                          std::move(filename), mode_name, "npy",
                                          npy.header.data_offset);
  handle.npy = std::move(npy.header);
  return wrap_array_handle(std::move(handle));
}

nb::object open_npy(nb::handle filename, std::string_view mode, std::uint64_t max_header_size) {
  const mode_argument how = to_mode(mode);
  if (how.create) {
    PyErr_SetString(PyExc_ValueError, "mode 'w+' creates a file: use mmap_array.create()");
    throw nb::python_error();
  }
  path_argument path = to_path(filename);
  mapped_npy npy;
  {
    nb::gil_scoped_release unlocked;
    npy = map_npy(std::move(path.path), how.access, npy_limits{max_header_size});
  }
  return handle_of(std::move(npy), std::move(path.absolute), how, how.name);
}

// mmap_array.open(format="auto") of an existing file: one open tells .npy from raw. For an
// .npy file the layout arguments are ignored here (open() refuses them); a raw file needs a
// dtype. Trying _open_npy first took a second open and a FormatError for every raw file:
// 2.5x the time of MemoryMappedArray(path).
nb::object open_npy_or_raw(nb::handle filename, std::string_view mode, nb::handle dtype,
                           nb::handle shape, nb::handle offset, nb::handle order,
                           std::uint64_t max_header_size) {
  const mode_argument how = to_mode(mode);
  if (how.create) {
    PyErr_SetString(PyExc_ValueError, "mode 'w+' creates a file: use mmap_array.create()");
    throw nb::python_error();
  }
  path_argument path = to_path(filename);
  const error_context context = error_context::of("map", path.path);
  // Without a dtype, a raw file is refused below; until the file says what it is, its
  // arguments are those of a byte vector, which fit any file.
  std::optional<raw_request> request;
  if (!dtype.is_none()) request = to_raw_request(dtype, shape, offset, order, context, false);
  const raw_array_spec any_bytes{};
  mapped_npy_or_raw mapped;
  {
    nb::gil_scoped_release unlocked;
    mapped = map_npy_or_raw(std::move(path.path), how.access, request ? request->spec : any_bytes,
                            npy_limits{max_header_size});
  }
  if (mapped.header) {
    return handle_of(mapped_npy{std::move(*mapped.header), std::move(mapped.data)},
                     std::move(path.absolute), how, how.name);
  }
  if (!request) {
    const std::string& given = mapped.data.path().native();
    nb::object text = nb::steal(
        PyUnicode_DecodeFSDefaultAndSize(given.data(), static_cast<Py_ssize_t>(given.size())));
    if (!text.is_valid()) throw nb::python_error();
    raise_error(PyExc_ValueError, {},
                nb::cast<std::string>(nb::repr(text)) +
                    " is mapped as a raw file (it has no .npy header), which needs dtype, "
                    "e.g. dtype='float64'");
  }
  return wrap_array_handle(raw_array_handle(std::move(mapped.data), std::move(*request),
                                            std::move(path.absolute), how.name, how.access,
                                            "map"));
}

nb::object create_npy_file(nb::handle filename, nb::handle descr, nb::handle shape,
                           bool fortran, std::string_view mode_name) {
  path_argument path = to_path(filename);
  const npy_dtype dtype = parse_npy_descr(descr_literal(descr), path.path);
  const std::vector<std::uint64_t> dims = to_shape(shape).value_or(std::vector<std::uint64_t>{});
  mapped_npy npy;
  {
    nb::gil_scoped_release unlocked;
    npy = create_npy(path.path, dtype, dims, fortran);
  }
  const mode_argument how = to_mode(mode_name);
  return handle_of(std::move(npy), std::move(path.absolute), how, how.name);
}

nb::bytes npy_header_bytes(nb::handle descr, nb::handle shape, bool fortran) {
  const npy_dtype dtype = parse_npy_descr(descr_literal(descr));
  const std::vector<std::uint64_t> dims = to_shape(shape).value_or(std::vector<std::uint64_t>{});
  const std::string header = format_npy_header(dtype, dims, fortran);
  return nb::bytes(header.data(), header.size());
}

}  // namespace

void bind_npy_functions(nb::module_& m) {
  m.def("_open_npy", &open_npy, nb::arg("filename"), nb::arg("mode") = "r",
        nb::arg("max_header_size") = 10'000,
        nb::sig("def _open_npy(filename: " MMAP_ARRAY_PATH_T
                ", mode: str = 'r', max_header_size: int = 10000) -> MemoryMappedArray"),
        "Map the array of an .npy file.");
  m.def("_open_npy_or_raw", &open_npy_or_raw, nb::arg("filename"), nb::arg("mode"),
        nb::arg("dtype").none(), nb::arg("shape").none(), nb::arg("offset"),
        nb::arg("order"), nb::arg("max_header_size"),
        nb::sig("def _open_npy_or_raw(filename: " MMAP_ARRAY_PATH_T ", mode: str, dtype: "
                MMAP_ARRAY_DTYPE_T " | None, shape: " MMAP_ARRAY_SHAPE_T
                " | None, offset: int, order: str, max_header_size: int) -> MemoryMappedArray"),
        "Map an .npy file's array, or a raw file's with the layout arguments (one open).");
  m.def("_create_npy", &create_npy_file, nb::arg("filename"), nb::arg("dtype"),
        nb::arg("shape"), nb::arg("fortran_order") = false, nb::arg("mode") = "r+",
        nb::sig("def _create_npy(filename: " MMAP_ARRAY_PATH_T ", dtype: " MMAP_ARRAY_DTYPE_T
                ", shape: " MMAP_ARRAY_SHAPE_T
                ", fortran_order: bool = False, mode: str = 'r+') -> MemoryMappedArray"),
        "Create a new zero-filled .npy file and map its array read-write.");
  m.def("_npy_header", &npy_header_bytes, nb::arg("dtype"), nb::arg("shape"),
        nb::arg("fortran_order") = false,
        nb::sig("def _npy_header(dtype: " MMAP_ARRAY_DTYPE_T ", shape: " MMAP_ARRAY_SHAPE_T
                ", fortran_order: bool = False) -> bytes"),
        "The bytes before the data of an .npy file.");
}

}  // namespace mmap_array::python
