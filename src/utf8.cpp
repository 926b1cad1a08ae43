#include "utf8.hpp"

#include <algorithm>
#include <cstdint>

namespace mmap_array::detail {
namespace {

constexpr bool is_continuation(unsigned char byte) noexcept { return (byte & 0xC0) == 0x80; }

struct lead_rule {
  std::size_t length;  // bytes of the whole sequence
  // The range the second byte must fall in: narrower than 0x80..0xBF exactly where a lead
  // byte could otherwise start an overlong form, a surrogate or a code point past U+10FFFF.
  unsigned char second_min;
  unsigned char second_max;
  std::string_view outside_range;  // what a continuation byte outside that range means
};

std::optional<lead_rule> rule_for(unsigned char lead) noexcept {
  if (lead >= 0xC2 && lead <= 0xDF) return lead_rule{2, 0x80, 0xBF, {}};
  if (lead == 0xE0) return lead_rule{3, 0xA0, 0xBF, "an overlong encoding"};
  if (lead == 0xED) return lead_rule{3, 0x80, 0x9F, "a UTF-16 surrogate encoded in UTF-8"};
  if (lead >= 0xE1 && lead <= 0xEF) return lead_rule{3, 0x80, 0xBF, {}};
  if (lead == 0xF0) return lead_rule{4, 0x90, 0xBF, "an overlong encoding"};
  if (lead >= 0xF1 && lead <= 0xF3) return lead_rule{4, 0x80, 0xBF, {}};
  if (lead == 0xF4) return lead_rule{4, 0x80, 0x8F, "a code point above U+10FFFF"};
  return std::nullopt;
}

std::string_view bad_lead_reason(unsigned char lead) noexcept {
  if (is_continuation(lead)) return "a continuation byte without a lead byte";
  if (lead == 0xC0 || lead == 0xC1) return "an overlong encoding";
  if (lead >= 0xF5 && lead <= 0xF7) return "a code point above U+10FFFF";
  return "a byte that never occurs in UTF-8";
}

}  // namespace

std::optional<utf8_error> find_invalid_utf8(std::string_view text) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    const std::optional<lead_rule> rule = rule_for(lead);
    if (!rule) return utf8_error{i, 1, bad_lead_reason(lead)};
    for (std::size_t k = 1; k < rule->length; ++k) {
      if (i + k >= size || !is_continuation(bytes[i + k])) {
        return utf8_error{i, k, "a truncated multi-byte sequence"};
      }
      if (k == 1 && (bytes[i + 1] < rule->second_min || bytes[i + 1] > rule->second_max)) {
        return utf8_error{i, 2, rule->outside_range};
      }
    }
    i += rule->length;
  }
  return std::nullopt;
}

bool decode_utf8(std::string_view text, std::size_t& pos, char32_t& cp) noexcept {
  if (pos >= text.size()) return false;
  // One sequence, checked by the same rules as find_invalid_utf8.
  const std::size_t end = std::min(text.size(), pos + 4);
  const std::string_view window = text.substr(pos, end - pos);
  const auto lead = static_cast<unsigned char>(window[0]);
  const std::size_t length = lead < 0x80 ? 1 : (rule_for(lead) ? rule_for(lead)->length : 0);
  if (length == 0 || length > window.size() || find_invalid_utf8(window.substr(0, length))) {
    return false;
  }
  char32_t value = length == 1 ? lead : lead & (0x7Fu >> length);
  for (std::size_t i = 1; i < length; ++i) {
    value = (value << 6) | (static_cast<unsigned char>(window[i]) & 0x3Fu);
  }
  cp = value;
  pos += length;
  return true;
}

void append_utf8(std::string& out, char32_t code_point) {
  const auto cp = static_cast<std::uint32_t>(code_point);
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

}  // namespace mmap_array::detail
