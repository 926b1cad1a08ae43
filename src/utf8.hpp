// UTF-8 (RFC 3629): one checker that names the first bad sequence, one decoder
// and one encoder, shared by every format's reader and writer (JSON headers,
// .npy headers, zip member names), so all of them reject exactly the same bytes.
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

/// True if all of `text` is valid UTF-8.
inline bool is_valid_utf8(std::string_view text) noexcept { return !find_invalid_utf8(text); }

/// True for a code point UTF-8 can carry (not a surrogate, at most U+10FFFF).
constexpr bool is_scalar_value(char32_t cp) noexcept {
  return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

/// Decodes the code point starting at `text[pos]` and advances `pos` past it; returns false
/// (leaving `pos` alone) for a malformed, truncated, overlong or surrogate sequence.
bool decode_utf8(std::string_view text, std::size_t& pos, char32_t& cp) noexcept;

/// Appends `code_point` (at most U+10FFFF and not a surrogate) to `out` as UTF-8.
void append_utf8(std::string& out, char32_t code_point);

}  // namespace mmap_array::detail
