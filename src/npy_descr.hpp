// The element types of .npy headers ("descr"), between their Python literal
// form and npy_dtype. Shared by the header parser, which has already parsed
// the literal, and the public parse_npy_descr, which has not.
#pragma once

#include <filesystem>

#include "mmap_array/npy.hpp"
#include "py_literal.hpp"

namespace mmap_array::detail {

/// The dtype a parsed descr literal describes: type strings in canonical form (as NumPy's
/// dtype.str writes them), every itemsize computed with checked arithmetic. Throws
/// format_error: bad_dtype, object_dtype or size_overflow.
npy_dtype dtype_from_literal(const py_value& descr, const std::filesystem::path& path);

}  // namespace mmap_array::detail
