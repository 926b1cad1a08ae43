// DLPack export (torch.from_dlpack(mm), jax.numpy.from_dlpack(mm), ...), delegated to the
// ndarray.__dlpack__ of an exported array. NumPy (>= 2.1) implements the whole protocol:
// stream, dl_device, copy, and DLPack 1.0 versioned capsules with the read-only flag. Its
// capsule holds a reference to that array, whose base is the mapping's owner, so a tensor
// made from it keeps the mapping alive after the handle is closed. What is added here:
//
// * A read-only handle is exported from a private (copy-on-write) mapping of the same bytes,
//   flagged read-only. Consumers may ignore the flag (torch 2.13 does, and its tensors are
//   writable): a write to the handle's own mapping, which has no write permission, would
//   kill the process with SIGSEGV; into private pages it is harmless, and never reaches
//   the file. Pages are shared with the page cache until written: still no copy.
// * The refusal of an unversioned export of a read-only mapping, which cannot carry the
//   flag, names the file and the ways out; so do NumPy's refusals (dtypes DLPack lacks).
#include <string>
#include <string_view>

#include "arguments.hpp"
#include "errors.hpp"
#include "mapping_owner.hpp"
#include "sharing.hpp"
#include "sharing_docstrings.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// The DLPack major version a consumer accepts: 0 for None (an old consumer, which gets an
// unversioned capsule), else the first item of (major, minor).
long requested_major(const array_handle& self, nb::handle max_version) {
  if (max_version.is_none()) return 0;
  if (!PyTuple_Check(max_version.ptr()) || PyTuple_GET_SIZE(max_version.ptr()) != 2 ||
      !PyLong_Check(PyTuple_GET_ITEM(max_version.ptr(), 0)) ||
      !PyLong_Check(PyTuple_GET_ITEM(max_version.ptr(), 1))) {
    PyErr_Format(PyExc_TypeError,
                 "cannot export %R through DLPack: max_version must be None or a tuple of two "
                 "ints (major, minor), not %R",
                 self.filename.ptr(), max_version.ptr());
    throw nb::python_error();
  }
  const long major = PyLong_AsLong(PyTuple_GET_ITEM(max_version.ptr(), 0));
  if (major == -1 && PyErr_Occurred()) throw nb::python_error();
  return major;
}

// The array a read-only handle exports: the same bytes of the same file, mapped privately.
// The file is opened again by path (its descriptor was closed after mapping), so it must
// still be the file the handle mapped; modifications in place are fine, as the handle's own
// mapping shows them too.
nb::object private_view(const array_handle& self) {
  const path_argument path = to_path(self.filename);
  mapped_file file;
  {
    nb::gil_scoped_release unlocked;  // opening can block on slow or remote storage
    file = mapped_file::open(path.path, access_mode::copy_on_write,
                             {self.offset, self.nbytes});
  }
  const file_identity& now = file.identity();
  if (now.device != self.identity.device || now.inode != self.identity.inode ||
      now.size != self.identity.size) {
    raise_file_changed("export through DLPack", self.filename,
                       "the path no longer names the file this handle mapped, as it was "
                       "(device, inode, size " +
                           std::to_string(self.identity.device) + ", " +
                           std::to_string(self.identity.inode) + ", " +
                           std::to_string(self.identity.size) + " -> " +
                           std::to_string(now.device) + ", " + std::to_string(now.inode) +
                           ", " + std::to_string(now.size) +
                           "); open it again, or export a copy (copy=True)");
  }
  void* data = file.data();
  return export_array(data, self.layout, make_owner(std::move(file)));
}

nb::object dlpack(const array_handle& self, nb::handle stream, nb::handle max_version,
                  nb::handle dl_device, nb::handle copy) {
  require_open(self, "export through DLPack");
  // An unversioned (pre-1.0) capsule cannot say "read-only": the consumer would believe it
  // may write into memory that is mapped without write permission, and crash the process.
  if (!self.layout.writable && requested_major(self, max_version) < 1 && !copy.is(Py_True)) {
    PyErr_Format(PyExc_BufferError,
                 "cannot export %R through DLPack without a copy: it is mapped read-only, and "
                 "the consumer asked for a DLPack capsule older than 1.0, which cannot mark "
                 "memory read-only; open the file with mode 'c' (copy-on-write) or 'r+', or "
                 "pass copy=True (or use np.array(mm) to copy)",
                 self.filename.ptr());
    throw nb::python_error();
  }
  // With copy=True NumPy copies the handle's own array; nothing to protect then.
  nb::object array = self.layout.writable || copy.is(Py_True)
                          ? export_array(self.data, self.layout, self.owner)
                          : private_view(self);
  try {
    return array.attr("__dlpack__")(nb::arg("stream") = stream,
                                     nb::arg("max_version") = max_version,
                                     nb::arg("dl_device") = dl_device, nb::arg("copy") = copy);
  } catch (nb::python_error& e) {
    // NumPy says what it refused (a dtype DLPack lacks, big-endian data, another device);
    // the message gains the file, and the original stays attached as the cause.
    for (PyObject* type : {PyExc_BufferError, PyExc_TypeError, PyExc_ValueError}) {
      if (e.matches(type)) {
        const nb::str cause(e.value());
        nb::raise_from(e, type, "cannot export %R through DLPack: %U", self.filename.ptr(),
                       cause.ptr());
      }
    }
    throw;
  }
}

nb::object dlpack_device(const array_handle& self) {
  require_open(self, "export through DLPack");
  return export_array(self.data, self.layout, self.owner).attr("__dlpack_device__")();
}

}  // namespace

void bind_dlpack(nb::class_<array_handle>& cls) {
  cls.def("__dlpack__", &dlpack, nb::kw_only(), nb::arg("stream").none() = nb::none(),
          nb::arg("max_version").none() = nb::none(), nb::arg("dl_device").none() = nb::none(),
          nb::arg("copy").none() = nb::none(),
          nb::sig("def __dlpack__(self, *, stream: typing.Any | None = None, max_version: "
                  "tuple[int, int] | None = None, dl_device: tuple[int, int] | None = None, "
                  "copy: bool | None = None) -> typing_extensions.CapsuleType"),
          doc::dlpack)
      .def("__dlpack_device__", &dlpack_device,
           nb::sig("def __dlpack_device__(self) -> tuple[int, int]"), doc::dlpack_device);
}

}  // namespace mmap_array::python
