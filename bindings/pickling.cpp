// Pickling by reference. A pickle of a handle or container holds what it takes to map
// the same file again (path, format, layout, mode) and the file's identity when it was
// mapped, never the data: it stays a few hundred bytes for a file of any size, and a
// worker process that unpickles it maps the file itself. mmap_array._sharing does the
// unpickling, through the public open functions, and compares identities there.
#include <nanobind/stl/string.h>

#include <string>
#include <string_view>

#include "errors.hpp"
#include "file_identity.hpp"
#include "mapping_owner.hpp"
#include "sharing.hpp"
#include "sharing_docstrings.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// A plain tuple rather than a FileIdentity: the pickle then needs no class reference.
nb::tuple identity_fields(const file_identity& identity) {
  return nb::make_tuple(identity.device, identity.inode, identity.size, identity.modified_ns);
}

// A copy-on-write mapping's changes live in this process's private pages only: another
// process mapping the file by reference would see the file without them.
[[noreturn]] void refuse_copy_on_write(nb::handle filename, const char* kind) {
  PyErr_Format(PyExc_TypeError,
               "cannot pickle the %s of %R: it is mapped copy-on-write (mode 'c'), so its "
               "changes exist only in this process's memory and another process mapping the "
               "file would not see them; pickle a copy of the data (e.g. np.array(...)) or "
               "share a mapping opened with mode 'r' or 'r+'",
               kind, filename.ptr());
  throw nb::python_error();
}

nb::object reconstructor(const char* name) {
  return nb::module_::import_("mmap_array._sharing").attr(name);
}

// The mode a pickle reopens with: "w+" made a new file, which now exists; creating it
// again in the worker would wipe what the parent wrote.
const char* reopen_mode(std::string_view mode) { return mode == "w+" ? "r+" : mode.data(); }

nb::tuple reduce_handle(const array_handle& self) {
  require_open(self, "pickle");
  if (std::string_view(self.mode) == "c") refuse_copy_on_write(self.filename, "MemoryMappedArray");
  nb::object dtype = self.layout.descr;
  nb::object shape = self.shape_tuple;
  if (self.subarray_ndim > 0) {
    // A raw file of subarray items, e.g. dtype ('f8', (3,)): reopen it with that dtype, as
    // the items' order (C or F) applies to the items, not to the elements inside them.
    const auto outer = static_cast<Py_ssize_t>(self.layout.shape.size() - self.subarray_ndim);
    nb::object numpy = nb::module_::import_("numpy");
    nb::object inner = nb::steal(PySequence_GetSlice(shape.ptr(), outer, PY_SSIZE_T_MAX));
    nb::object items = nb::steal(PySequence_GetSlice(shape.ptr(), 0, outer));
    if (!inner.is_valid() || !items.is_valid()) throw nb::python_error();
    dtype = numpy.attr("dtype")(nb::make_tuple(dtype, inner));
    shape = items;
  }
  nb::tuple args = nb::make_tuple(self.filename, self.format, dtype, shape, self.offset,
                                  self.layout.fortran ? "F" : "C", reopen_mode(self.mode),
                                  identity_fields(self.identity));
  return nb::make_tuple(reconstructor("_reopen_array"), args);
}

nb::tuple reduce_container(const mapped_arrays& self) {
  if (!self.owner.is_valid()) raise_closed("pickle", self.filename);
  if (owner_truncated(self.owner)) raise_truncated("pickle", self.filename);
  if (std::string_view(self.mode) == "c") refuse_copy_on_write(self.filename, "MappedArrays");
  nb::object max_header_size =
      std::string_view(self.format) == "npz" ? nb::cast(self.max_header_size) : nb::none();
  nb::tuple args = nb::make_tuple(self.filename, self.format, self.mode,
                                  identity_fields(self.identity), max_header_size);
  return nb::make_tuple(reconstructor("_reopen_arrays"), args);
}

}  // namespace

void bind_handle_pickling(nb::class_<array_handle>& cls) {
  cls.def_prop_ro("identity", [](const array_handle& self) { return identity_tuple(self.identity); },
                  nb::sig("def identity(self) -> FileIdentity"), doc::identity)
      .def("__reduce__", &reduce_handle, doc::handle_reduce);
}

void bind_container_pickling(nb::class_<mapped_arrays>& cls) {
  cls.def_prop_ro("identity", [](const mapped_arrays& self) { return identity_tuple(self.identity); },
                  nb::sig("def identity(self) -> FileIdentity"), doc::identity)
      .def("__reduce__", &reduce_container, doc::container_reduce);
}

}  // namespace mmap_array::python
