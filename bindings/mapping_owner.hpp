// The Python object that owns one mapping. Every exported array holds a
// reference to it as its `base`, and so does the handle until close(): the
// range is unmapped when the last of them goes, so nothing can dangle.
//
// One is made on every open, so it is a plain CPython type rather than a
// nanobind class: nanobind's generic instance path (type lookup, move into a
// new instance, the C++-to-Python instance map) cost 2,000 of an open's 11,000
// instructions; this one costs an allocation and a move.
#pragma once

#include <nanobind/nanobind.h>

#include <atomic>
#include <memory>

#include "mmap_array/mapped_file.hpp"

namespace mmap_array::python {

/// Creates the owner type and adds it to `m` as `_Mapping`.
void bind_mapping_owner(nanobind::module_& m);

/// Wraps `file` in a new owner object.
nanobind::object make_owner(mapped_file&& file);

/// The mapping held by `owner`, which must be an object made by make_owner.
mapped_file& owned_file(nanobind::handle owner) noexcept;

/// The flag that ends the owner's write-behind (made on first use; see access_methods.cpp).
std::shared_ptr<std::atomic<bool>> write_behind_flag(nanobind::handle owner);

/// Ends the owner's write-behind, if it has one: at flush, which writes everything anyway,
/// and when the mapping goes.
void stop_write_behind(nanobind::handle owner) noexcept;

/// True if the fault guard found pages of the owner's mapping gone from the file.
inline bool owner_truncated(nanobind::handle owner) { return owned_file(owner).truncated(); }

}  // namespace mmap_array::python
