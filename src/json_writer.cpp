#include "json_writer.hpp"

#include <cstdio>
#include <optional>

#include "utf8.hpp"

namespace mmap_array::detail {
namespace {

void append_escaped_byte(std::string& out, const char* format, unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, format, static_cast<unsigned>(byte));
  out += buffer;
}

// Escapes one run of valid UTF-8.
void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      append_escaped_byte(out, "\\u%04X", byte);
    } else {
      out += c;
    }
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  append_escaped(out, text);
  out += '"';
}

std::string quote(std::string_view text, std::size_t max_bytes) {
  bool cut = false;
  if (text.size() > max_bytes) {
    // Back up to a character boundary so the cut does not itself look like bad UTF-8.
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out = "\"";
  while (!text.empty()) {
    const std::optional<utf8_error> bad = find_invalid_utf8(text);
    append_escaped(out, text.substr(0, bad ? bad->offset : text.size()));
    if (!bad) break;
    append_escaped_byte(out, "\\x%02X", static_cast<unsigned char>(text[bad->offset]));
    text.remove_prefix(bad->offset + 1);
  }
  out += '"';
  if (cut) out += "...";
  return out;
}

}  // namespace mmap_array::detail
