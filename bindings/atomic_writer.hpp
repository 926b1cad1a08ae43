// _AtomicWriter: the Python face of the core's atomic_writer, used by the
// package's writers (write_binary and, later, the format writers).
#pragma once

#include <nanobind/nanobind.h>

namespace mmap_array::python {

/// Binds _AtomicWriter.
void bind_atomic_writer(nanobind::module_& m);

}  // namespace mmap_array::python
