#include "array_handle.hpp"

#include <string>
#include <utility>

#include "arguments.hpp"
#include "docstrings.hpp"
#include "errors.hpp"
#include "mapping_owner.hpp"
#include "mmap_array/raw_array.hpp"
#include "sharing.hpp"
#include "stub_types.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// Opens (or, for "w+", creates) a raw array; `mode_name` overrides what the handle reports.
array_handle open_raw(nb::handle filename, nb::handle dtype, nb::handle mode,
                      const char* mode_name, nb::handle shape, nb::handle offset,
                      nb::handle order) {
  path_argument path = to_path(filename);
  const mode_argument how = to_mode(mode, error_context::of("map", path.path));
  const error_context context = error_context::of(how.create ? "create" : "map", path.path);
  raw_request request = to_raw_request(dtype, shape, offset, order, context, how.create);
  mapped_file file;
  {
    // Opening can block on slow or remote storage, and creating preallocates the file.
    nb::gil_scoped_release unlocked;
    // The mapping keeps the path, moved in: copying one copies each of its components.
    file = how.create ? create_raw_array(path.path, request.spec)
                      : map_raw_array(std::move(path.path), how.access, request.spec);
  }
  return raw_array_handle(std::move(file), std::move(request), std::move(path.absolute),
                          mode_name != nullptr ? mode_name : how.name, how.access,
                          context.operation);
}

void construct(nb::pointer_and_handle<array_handle> self, nb::handle filename, nb::handle dtype,
               nb::handle mode, nb::handle shape, nb::handle offset, nb::handle order) {
  array_handle handle = open_raw(filename, dtype, mode, nullptr, shape, offset, order);
  // Arguments run user code (__fspath__, __index__...), which may have initialised this very
  // object meanwhile; constructing over it would leak its mapping.
  if (nb::inst_ready(self.h)) {
    PyErr_SetString(PyExc_TypeError, "MemoryMappedArray.__init__ was re-entered while it ran");
    throw nb::python_error();
  }
  new (self.p) array_handle(std::move(handle));
}

// mmap_array.create(format="raw"): a new file, reported as mode "r+" like every created one.
nb::object create_raw(nb::handle filename, nb::handle dtype, nb::handle shape) {
  return wrap_array_handle(open_raw(filename, dtype, nb::str("w+"), "r+", shape, nb::int_(0),
                                    nb::str("C")));
}

nb::object get_array(const array_handle& self) {
  require_open(self, "get an array of");
  return export_array(self.data, self.layout, self.owner);
}

void flush(const array_handle& self) {
  require_open(self, "flush");
  // A strong reference keeps the mapping alive even if another thread closes the handle
  // while this one waits for the disk without the GIL.
  nb::object owner = self.owner;
  mapped_file& file = owned_file(owner);
  stop_write_behind(owner);
  nb::gil_scoped_release unlocked;
  file.flush();
}

void close(array_handle& self) { self.owner.reset(); }

nb::object array_protocol(const array_handle& self, nb::handle dtype, nb::handle copy) {
  nb::object array = get_array(self);
  // ndarray.__array__ implements NumPy's dtype/copy contract exactly.
  return array.attr("__array__")(dtype, nb::arg("copy") = copy);
}

std::string repr(const array_handle& self) {
  std::string text = "<MemoryMappedArray " + nb::cast<std::string>(nb::repr(self.filename)) +
                     " dtype=" + nb::cast<std::string>(nb::str(self.layout.descr)) +
                     " shape=" + nb::cast<std::string>(nb::repr(self.shape_tuple)) +
                     " mode='" + self.mode + "'";
  return text + (self.owner.is_valid() ? ">" : " closed>");
}

// True if NumPy reads `array`'s buffer-protocol description back as the same dtype.
bool buffer_format_is_exact(nb::handle array) {
  nb::object view = nb::steal(PyMemoryView_FromObject(array.ptr()));
  nb::object back;
  if (view.is_valid()) back = nb::steal(PyArray_FromAny(view.ptr(), nullptr, 0, 0, 0, nullptr));
  if (!back.is_valid()) {
    PyErr_Clear();
    return false;
  }
  return PyArray_EquivTypes(PyArray_DESCR(reinterpret_cast<PyArrayObject*>(back.ptr())),
                            PyArray_DESCR(reinterpret_cast<PyArrayObject*>(array.ptr()))) != 0;
}

// The buffer protocol (memoryview(mm), and np.asarray(mm) through it) is served by an
// exported ndarray: the buffer's `obj` is that array, whose base keeps the mapping alive
// after the handle is closed, and NumPy's own exporter describes the dtype.
//
// NumPy tries the buffer protocol before __array__ and silently falls back when it fails.
// A format that would come back as another dtype is therefore refused, so np.asarray(mm)
// is always exact (through __array__) and memoryview(mm) says why it cannot be made.
int get_buffer(PyObject* self, Py_buffer* view, int flags) {
  view->obj = nullptr;
  if (!nb::inst_ready(self)) {
    PyErr_SetString(PyExc_ValueError, "MemoryMappedArray is not initialized");
    return -1;
  }
  try {
    array_handle& handle = *nb::inst_ptr<array_handle>(self);
    nb::object array = get_array(handle);
    if ((flags & PyBUF_FORMAT) == PyBUF_FORMAT) {
      if (handle.buffer_format_exact < 0) handle.buffer_format_exact = buffer_format_is_exact(array);
      if (handle.buffer_format_exact == 0) {
        PyErr_Format(PyExc_BufferError,
                     "cannot export %R through the buffer protocol: its format cannot describe "
                     "dtype %R exactly; use get_array() or np.asarray()",
                     handle.filename.ptr(), handle.layout.descr.ptr());
        return -1;
      }
    }
    return PyObject_GetBuffer(array.ptr(), view, flags);
  } catch (nb::python_error& e) {
    e.restore();
    return -1;
  }
}

PyType_Slot handle_slots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(get_buffer)},
                              {0, nullptr}};

}  // namespace

// A closed handle is refused; so is one whose file shrank under it, every time.
const array_handle& require_open(const array_handle& self, std::string_view operation) {
  if (!self.owner.is_valid()) raise_closed(operation, self.filename);
  if (owner_truncated(self.owner)) raise_truncated(operation, self.filename);
  return self;
}

array_handle make_array_handle(mapped_file&& file, array_layout&& layout, nb::object filename,
                               const char* mode, const char* format, std::uint64_t offset) {
  array_handle handle;
  handle.data = file.data();
  handle.identity = file.identity();
  handle.nbytes = file.size();
  handle.offset = offset;
  handle.mode = mode;
  handle.format = format;
  handle.filename = std::move(filename);
  handle.layout = std::move(layout);
  handle.items = 1;
  const std::vector<npy_intp>& shape = handle.layout.shape;
  nb::object dims = nb::steal(PyTuple_New(static_cast<Py_ssize_t>(shape.size())));
  if (!dims.is_valid()) throw nb::python_error();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    handle.items *= static_cast<std::uint64_t>(shape[i]);
    PyObject* dim = PyLong_FromSsize_t(shape[i]);
    if (dim == nullptr) throw nb::python_error();
    PyTuple_SET_ITEM(dims.ptr(), static_cast<Py_ssize_t>(i), dim);
  }
  handle.shape_tuple = std::move(dims);
  handle.owner = make_owner(std::move(file));
  return handle;
}

nb::object wrap_array_handle(array_handle&& handle) {
  return nb::cast(std::move(handle), nb::rv_policy::move);
}

void bind_array_handle(nb::module_& m) {
  nb::class_<array_handle> cls(m, "MemoryMappedArray", nb::type_slots(handle_slots),
                               nb::is_weak_referenceable(), doc::handle_class);
  // The default dtype is the descriptor itself, not the string "float64": NumPy converts a
  // descriptor by taking a reference, where parsing the string cost a twentieth of an open.
  nb::object float64 = nb::steal(reinterpret_cast<PyObject*>(PyArray_DescrFromType(NPY_FLOAT64)));
  cls.def("__init__", &construct, nb::arg("filename").none(), nb::arg("dtype").none() = float64,
           nb::arg("mode").none() = "r", nb::arg("shape").none() = nb::none(),
           nb::arg("offset").none() = 0, nb::arg("order").none() = "C",
           nb::sig("def __init__(self, filename: " MMAP_ARRAY_PATH_T ", dtype: " MMAP_ARRAY_DTYPE_T
                   " = 'float64', mode: str = 'r', shape: " MMAP_ARRAY_SHAPE_T
                   " | None = None, offset: typing.SupportsIndex = 0, order: str = 'C') -> None"),
           doc::handle_init)
      .def("get_array", &get_array, nb::sig("def get_array(self) -> " MMAP_ARRAY_ARRAY_T),
           doc::get_array)
      .def(
          "size",
          [](const array_handle& self) { return require_open(self, "get the size of").items; },
          doc::size)
      .def("flush", &flush, doc::flush)
      .def("close", &close, doc::close)
      .def(
          "__enter__",
          [](nb::handle self) {
            require_open(nb::cast<const array_handle&>(self), "enter a with block on");
            return nb::borrow(self);
          },
          nb::sig("def __enter__(self) -> MemoryMappedArray"))
      .def(
          "__exit__", [](array_handle& self, nb::args) { close(self); },
          nb::sig("def __exit__(self, *args: object) -> None"), "Close the mapping.")
      .def("__array__", &array_protocol, nb::arg("dtype") = nb::none(), nb::kw_only(),
           nb::arg("copy") = nb::none(),
           nb::sig("def __array__(self, dtype: " MMAP_ARRAY_DTYPE_T
                   " | None = None, *, copy: bool | None = None) -> " MMAP_ARRAY_ARRAY_T),
           doc::array_protocol)
      .def("__repr__", &repr)
      .def_prop_ro("filename", [](const array_handle& self) { return self.filename; },
                   nb::sig("def filename(self) -> str"), doc::filename)
      .def_prop_ro("dtype", [](const array_handle& self) { return self.layout.descr; },
                   nb::sig("def dtype(self) -> numpy.dtype[typing.Any]"), doc::dtype)
      .def_prop_ro("shape", [](const array_handle& self) { return self.shape_tuple; },
                   nb::sig("def shape(self) -> tuple[int, ...]"), doc::shape)
      .def_prop_ro("ndim", [](const array_handle& self) { return self.layout.shape.size(); },
                   doc::ndim)
      .def_prop_ro("mode", [](const array_handle& self) { return self.mode; }, doc::mode)
      .def_prop_ro("format", [](const array_handle& self) { return self.format; }, doc::format)
      .def_prop_ro("order", [](const array_handle& self) { return self.layout.fortran ? "F" : "C"; },
                   doc::order)
      .def_prop_ro("offset", [](const array_handle& self) { return self.offset; }, doc::offset)
      .def_prop_ro("nbytes", [](const array_handle& self) { return self.nbytes; }, doc::nbytes)
      .def_prop_ro("closed", [](const array_handle& self) { return !self.owner.is_valid(); },
                   doc::closed);
  bind_handle_pickling(cls);
  bind_sequence_protocol(cls);
  bind_array_interface(cls);
  bind_dlpack(cls);
  bind_dask_support(cls);
  bind_access_methods(cls);
  bind_grow_methods(cls);
  m.def("_create_raw", &create_raw, nb::arg("filename"), nb::arg("dtype"), nb::arg("shape"),
        nb::sig("def _create_raw(filename: " MMAP_ARRAY_PATH_T ", dtype: " MMAP_ARRAY_DTYPE_T
                ", shape: " MMAP_ARRAY_SHAPE_T ") -> MemoryMappedArray"),
        "Create a new zero-filled raw file and map it read-write.");
}

}  // namespace mmap_array::python
