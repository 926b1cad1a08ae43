// The binding's .npy entry points, used by mmap_array.open/create/save.
#pragma once

#include <nanobind/nanobind.h>

namespace mmap_array::python {

/// Binds _open_npy, _create_npy and _npy_header.
void bind_npy_functions(nanobind::module_& m);

}  // namespace mmap_array::python
