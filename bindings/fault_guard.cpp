// The binding's side of the fault guard: its notifier tells Python that a fault
// was absorbed, and the package's Python code installs and re-installs it.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <csignal>

#include "mmap_array/fault_guard.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// Runs inside the SIGBUS handler. PyErr_SetInterruptEx is documented as async-signal-safe
// and callable without the GIL: it marks Python's handler for SIGBUS (the package's
// _on_truncation, installed with signal.signal) as tripped, and the main thread runs it at
// its next check, where it raises FileTruncatedError. Py_AddPendingCall, the other way,
// takes a lock and is not async-signal-safe.
void notify_python() noexcept { PyErr_SetInterruptEx(SIGBUS); }

nb::list take_events() {
  std::uint64_t dropped = 0;
  nb::list events;
  for (const truncation_event& event : take_truncation_events(&dropped)) {
    const std::string& path = event.path.native();
    nb::object name = nb::steal(
        PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size())));
    events.append(nb::make_tuple(name, event.file_offset));
  }
  for (std::uint64_t i = 0; i < dropped; ++i) events.append(nb::make_tuple(nb::none(), nb::none()));
  return events;
}

}  // namespace

void bind_fault_guard(nb::module_& m) {
  m.def(
      "_install_fault_guard",
      [] {
        install_fault_handler();
        set_fault_notifier(&notify_python);
      },
      "Install the SIGBUS handler (chaining to the current one) and its Python notifier.");
  m.def(
      "_reinstall_fault_guard",
      [](bool chain_to_current) {
        return chain_to_current ? ensure_fault_handler_on_top()
                                : reinstall_fault_handler_keeping_previous();
      },
      nb::arg("chain_to_current"), "Put the SIGBUS handler back on top if it was replaced.");
  m.def("_uninstall_fault_guard", &uninstall_fault_handler,
        "Restore the SIGBUS disposition the handler chains to.");
  m.def("_fault_guard_installed", &fault_handler_installed, "True while the handler is installed.");
  m.def("_take_truncation_events", &take_events,
        "(path, file offset) of each page found gone since the last call.");
  m.def("_absorbed_fault_count", &absorbed_fault_count, "Faults absorbed so far.");
}

}  // namespace mmap_array::python
