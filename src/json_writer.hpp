// Writing JSON text: string literals for headers the library writes, and the
// same escaping for quoting untrusted names in error messages, where a name may
// be huge, hold control characters or not be UTF-8 at all.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mmap_array::detail {

/// Appends `text` as a JSON string literal: '"' and '\' escaped, control characters as
/// \u00XX, everything else verbatim. `text` must already be checked to be UTF-8.
void append_json_string(std::string& out, std::string_view text);

/// `text` as a JSON-style string literal for an error message: escaped as above, bytes that
/// are not UTF-8 shown as \xNN, and cut after about `max_bytes` bytes with "..." added.
std::string quote(std::string_view text, std::size_t max_bytes = 80);

}  // namespace mmap_array::detail
