// Protocols that let other code share a MemoryMappedArray or MappedArrays without
// copying. Each lives in its own file and adds its methods to the class bound elsewhere,
// so the classes' own files stay small.
#pragma once

#include <nanobind/nanobind.h>

#include "array_handle.hpp"
#include "mapped_arrays.hpp"

namespace mmap_array::python {

/// pickling.cpp: `identity`, `__reduce__` (by reference: path, layout, mode, identity).
void bind_handle_pickling(nanobind::class_<array_handle>& cls);
/// pickling.cpp: `identity`, `__reduce__` of a container.
void bind_container_pickling(nanobind::class_<mapped_arrays>& cls);

/// sequence_protocol.cpp: `__len__`, `__iter__`, `__getitem__`, `__setitem__`.
void bind_sequence_protocol(nanobind::class_<array_handle>& cls);

/// array_interface.cpp: `__array_interface__`, whose data keeps the mapping alive.
void bind_array_interface(nanobind::class_<array_handle>& cls);

/// dlpack.cpp: `__dlpack__`, `__dlpack_device__`.
void bind_dlpack(nanobind::class_<array_handle>& cls);

/// dask_support.cpp: `__dask_tokenize__`, `to_dask`.
void bind_dask_support(nanobind::class_<array_handle>& cls);

}  // namespace mmap_array::python
