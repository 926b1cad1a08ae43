// Between the core's npy_dtype and NumPy's dtype objects.
#pragma once

#include <nanobind/nanobind.h>

#include <filesystem>
#include <string>

#include "mmap_array/npy.hpp"

namespace mmap_array::python {

/// The NumPy dtype (a PyArray_Descr) of `dtype`; throws format_error(bad_dtype) naming
/// `path` if NumPy reads it differently (another item size) or refuses it.
nanobind::object numpy_descr(const npy_dtype& dtype, const std::filesystem::path& path);

/// NumPy's descr of `descr` as a Python literal (numpy.lib.format.dtype_to_descr, repr'd),
/// the input of the core's parse_npy_descr.
std::string descr_literal(nanobind::handle descr);

}  // namespace mmap_array::python
