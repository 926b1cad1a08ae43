#include "file_identity.hpp"

#include "arguments.hpp"
#include "stub_types.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// A struct sequence (like os.stat_result): a tuple with named fields, so identities
// compare equal by value, and stay small and plain inside a pickle.
PyTypeObject* identity_type = nullptr;  // owned by the module

PyStructSequence_Field identity_fields[] = {
    {"device", "st_dev of the file"},
    {"inode", "st_ino of the file"},
    {"size", "size of the file in bytes"},
    {"mtime_ns", "last modification time, in nanoseconds since the epoch"},
    {nullptr, nullptr}};

PyStructSequence_Desc identity_desc = {
    "mmap_array.FileIdentity",
    "The file a mapping was made from, as fstat(2) described it when it was mapped:\n"
    "``(device, inode, size, mtime_ns)``. Two identities are equal when they describe\n"
    "the same file in the same state.",
    identity_fields, 4};

nb::object identify(nb::handle filename) {
  const path_argument path = to_path(filename);
  file_identity identity;
  {
    nb::gil_scoped_release unlocked;  // stat(2) can block on slow or remote storage
    identity = identify_file(path.path);
  }
  return identity_tuple(identity);
}

}  // namespace

void bind_file_identity(nb::module_& m) {
  identity_type = PyStructSequence_NewType(&identity_desc);
  if (identity_type == nullptr) throw nb::python_error();
  m.attr("FileIdentity") = nb::steal(reinterpret_cast<PyObject*>(identity_type));
  m.def("_file_identity", &identify, nb::arg("filename"),
        nb::sig("def _file_identity(filename: " MMAP_ARRAY_PATH_T ") -> FileIdentity"),
        "The FileIdentity of the file at ``filename`` now (stat, following symlinks).");
}

nb::object identity_tuple(const file_identity& identity) {
  nb::object result = nb::steal(PyStructSequence_New(identity_type));
  if (!result.is_valid()) throw nb::python_error();
  PyStructSequence_SetItem(result.ptr(), 0, nb::cast(identity.device).release().ptr());
  PyStructSequence_SetItem(result.ptr(), 1, nb::cast(identity.inode).release().ptr());
  PyStructSequence_SetItem(result.ptr(), 2, nb::cast(identity.size).release().ptr());
  PyStructSequence_SetItem(result.ptr(), 3, nb::cast(identity.modified_ns).release().ptr());
  return result;
}

}  // namespace mmap_array::python
