// One translator turns every C++ error of the core into the documented Python
// exception: os_error -> the OSError subclass its errno selects, layout and
// state errors -> ValueError (an index out of range -> IndexError).
#pragma once

#include <nanobind/nanobind.h>

#include <string_view>

namespace mmap_array::python {

/// Creates mmap_array.FormatError (a ValueError) in the module and installs the exception
/// translator.
void register_errors(nanobind::module_& m);

/// Raises ValueError("cannot <operation> '<filename>': the mapping is closed").
[[noreturn]] void raise_closed(std::string_view operation, nanobind::handle filename);

/// Raises FileTruncatedError: `filename`'s file shrank under its mapping.
[[noreturn]] void raise_truncated(std::string_view operation, nanobind::handle filename);

/// mmap_array.FileTruncatedError (an OSError).
nanobind::handle file_truncated_error_type();

}  // namespace mmap_array::python
