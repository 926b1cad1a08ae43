// The Python object that owns one mapping. Every exported array holds a
// reference to it as its `base`, and so does the handle until close(): the
// range is unmapped when the last of them goes, so nothing can dangle.
#pragma once

#include <nanobind/nanobind.h>

#include "mmap_array/mapped_file.hpp"

namespace mmap_array::python {

struct mapping_owner {
  mapped_file file;
};

/// Binds the owner type as `_Mapping`.
void bind_mapping_owner(nanobind::module_& m);

/// Wraps `file` in a new owner object.
nanobind::object make_owner(mapped_file&& file);

/// True if the fault guard found pages of the owner's mapping gone from the file.
bool owner_truncated(nanobind::handle owner);

}  // namespace mmap_array::python
