// UTF-8 (RFC 3629) checked in one pass that names the first bad sequence:
// shared by the JSON reader (untrusted headers) and the writers (the caller's
// names), so both reject exactly the same byte strings.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mmap_array::detail {

/// Where and why a byte string stops being UTF-8.
struct utf8_error {
  std::size_t offset = 0;   ///< first byte of the bad sequence
  std::size_t length = 1;   ///< bytes of the bad sequence examined, at least 1
  std::string_view reason;  ///< e.g. "an overlong encoding"; static storage
};

/// The first invalid sequence of `text`: overlong forms, UTF-16 surrogates, code points
/// above U+10FFFF, stray continuation bytes and truncated sequences; nothing if all is valid.
std::optional<utf8_error> find_invalid_utf8(std::string_view text) noexcept;

/// Appends `code_point` (at most U+10FFFF and not a surrogate) to `out` as UTF-8.
void append_utf8(std::string& out, char32_t code_point);

}  // namespace mmap_array::detail
