// UTF-8 encoding and strict decoding, for the text formats read from files:
// a decoder that refuses overlong forms, surrogates and code points past
// U+10FFFF, so every name the library hands out is valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mmap_array::detail {

/// Appends the UTF-8 form of `cp`, which must be a Unicode scalar value.
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// True for a code point UTF-8 can carry (not a surrogate, at most U+10FFFF).
constexpr bool is_scalar_value(char32_t cp) noexcept {
  return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

/// Decodes the code point starting at `text[pos]` and advances `pos` past it; returns false
/// (leaving `pos` alone) for a malformed, truncated, overlong or surrogate sequence.
inline bool decode_utf8(std::string_view text, std::size_t& pos, char32_t& cp) noexcept {
  if (pos >= text.size()) return false;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    cp = lead;
    ++pos;
    return true;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1Fu;
    minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0Fu;
    minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07u;
    minimum = 0x10000;
  } else {
    return false;  // a continuation byte, or a lead byte no valid sequence starts with
  }
  if (text.size() - pos < length) return false;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80) return false;
    value = (value << 6) | (next & 0x3Fu);
  }
  if (value < minimum || !is_scalar_value(value)) return false;
  cp = value;
  pos += length;
  return true;
}

/// True if all of `text` is valid UTF-8.
inline bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    if (!decode_utf8(text, pos, cp)) return false;
  }
  return true;
}

}  // namespace mmap_array::detail
