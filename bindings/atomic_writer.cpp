#include "atomic_writer.hpp"

#include <mutex>
#include <optional>
#include <span>

#include "arguments.hpp"
#include "mmap_array/atomic_file.hpp"
#include "stub_types.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// atomic_writer is not thread-safe, and Python threads may share one while each runs
// without the GIL; the mutex turns that into queuing instead of undefined behaviour.
struct locked_writer {
  std::mutex mutex;
  std::optional<atomic_writer> writer;
};

// Runs `action` on the writer with the GIL released and the lock held; raises ValueError
// if the writer was already committed or aborted.
template <class Action>
void with_active_writer(locked_writer& self, const char* operation, Action action) {
  bool active = false;
  {
    nb::gil_scoped_release unlocked;
    std::lock_guard lock(self.mutex);
    active = self.writer && self.writer->active();
    if (active) action(*self.writer);
  }
  if (!active) {
    PyErr_Format(PyExc_ValueError, "cannot %s: the writer was committed, aborted or failed", operation);
    throw nb::python_error();
  }
}

void construct(nb::pointer_and_handle<locked_writer> self, nb::handle filename, bool fsync) {
  path_argument path = to_path(filename);
  std::optional<atomic_writer> writer;
  {
    nb::gil_scoped_release unlocked;
    writer.emplace(path.path, write_options{fsync});
  }
  if (nb::inst_ready(self.h)) {  // re-entered from __fspath__: keep the first, drop this one
    PyErr_SetString(PyExc_TypeError, "_AtomicWriter.__init__ was re-entered while it ran");
    throw nb::python_error();
  }
  new (self.p) locked_writer{};
  self.p->writer = std::move(writer);
}

void write(locked_writer& self, nb::handle data) {
  Py_buffer view;
  if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) throw nb::python_error();
  struct release_on_exit {
    Py_buffer* view;
    ~release_on_exit() { PyBuffer_Release(view); }
  } release{&view};
  const std::span<const std::byte> bytes(static_cast<const std::byte*>(view.buf),
                                         static_cast<std::size_t>(view.len));
  with_active_writer(self, "write", [&](atomic_writer& writer) { writer.write(bytes); });
}

void abort(locked_writer& self) {
  nb::gil_scoped_release unlocked;
  std::lock_guard lock(self.mutex);
  if (self.writer) self.writer->abort();
}

}  // namespace

void bind_atomic_writer(nb::module_& m) {
  nb::class_<locked_writer>(m, "_AtomicWriter",
                            "Writes a replacement of a file; it appears only on commit().")
      .def("__init__", &construct, nb::arg("filename").none(), nb::arg("fsync") = false,
           nb::sig("def __init__(self, filename: " MMAP_ARRAY_PATH_T
                   ", fsync: bool = False) -> None"))
      .def("write", &write, nb::arg("data"),
           nb::sig("def write(self, data: typing_extensions.Buffer | " MMAP_ARRAY_ARRAY_T
                   ") -> None"),
           "Append the bytes of a C-contiguous buffer.")
      .def(
          "preallocate",
          [](locked_writer& self, std::uint64_t total) {
            with_active_writer(self, "preallocate",
                               [&](atomic_writer& writer) { writer.preallocate(total); });
          },
          nb::arg("total_bytes"), "Reserve disk space for the whole file now.")
      .def(
          "commit",
          [](locked_writer& self) {
            with_active_writer(self, "commit", [](atomic_writer& writer) { writer.commit(); });
          },
          "Rename the finished file over the target.")
      .def("abort", &abort, "Drop the temporary file; the target is untouched.")
      .def(
          "__enter__", [](nb::handle self) { return nb::borrow(self); },
          nb::sig("def __enter__(self) -> _AtomicWriter"))
      .def(
          "__exit__", [](locked_writer& self, nb::args) { abort(self); },
          nb::sig("def __exit__(self, *args: object) -> None"));
}

}  // namespace mmap_array::python
