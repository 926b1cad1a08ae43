// mmap_array.FileIdentity: which file a mapping was made from, and its state then
// (device, inode, size, modification time), as a named tuple. Pickles carry it so
// that unpickling can tell the same file from a replaced or modified one.
#pragma once

#include <nanobind/nanobind.h>

#include "mmap_array/mapped_file.hpp"

namespace mmap_array::python {

/// Creates the FileIdentity type and adds it to the module.
void bind_file_identity(nanobind::module_& m);

/// A new FileIdentity(device, inode, size, mtime_ns).
nanobind::object identity_tuple(const file_identity& identity);

}  // namespace mmap_array::python
