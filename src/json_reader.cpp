#include "json_reader.hpp"

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>

#include "checked_math.hpp"
#include "json_writer.hpp"
#include "utf8.hpp"

namespace mmap_array::detail {
namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr bool is_whitespace(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex_byte(unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", static_cast<unsigned>(byte));
  return buffer;
}

std::string code_point_name(char32_t cp) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(cp));
  return buffer;
}

std::string escape_name(char32_t unit) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "\\u%04X", static_cast<unsigned>(unit));
  return buffer;
}

// The decoded code point of the (already validated) UTF-8 sequence at `text[pos]`.
char32_t decode_at(std::string_view text, std::size_t pos) noexcept {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const std::size_t length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t cp = lead & (0x7F >> length);
  for (std::size_t k = 1; k < length && pos + k < text.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(text[pos + k]) & 0x3F);
  }
  return cp;
}

// A literal, shortened so that a megabyte of digits does not become a megabyte of message.
std::string shown(std::string_view literal) {
  constexpr std::size_t kMax = 40;
  if (literal.size() <= kMax) return std::string(literal);
  return std::string(literal.substr(0, kMax)) + "... (" + std::to_string(literal.size()) +
         " characters)";
}

std::string with_subject(std::string_view what, std::string_view message) {
  if (what.empty()) return std::string(message);
  return std::string(what) + ": " + std::string(message);
}

void misuse(const char* what) { throw std::logic_error(std::string("json_reader: ") + what); }

}  // namespace

std::string_view describe(json_kind kind) noexcept {
  switch (kind) {
    case json_kind::object: return "an object";
    case json_kind::array: return "an array";
    case json_kind::string: return "a string";
    case json_kind::number: return "a number";
    case json_kind::boolean: return "a boolean";
    case json_kind::null: return "null";
  }
  return "a value";
}

json_reader::json_reader(std::string_view text, std::string_view operation,
                         std::filesystem::path path, std::uint64_t base_offset,
                         std::size_t max_depth)
    : text_(text),
      operation_(operation),
      path_(std::move(path)),
      base_offset_(base_offset),
      max_depth_(max_depth) {
  // Checked once up front, so string scanning can pass multi-byte characters through.
  if (const std::optional<utf8_error> bad = find_invalid_utf8(text_)) {
    std::string bytes;
    for (std::size_t k = 0; k < bad->length && bad->offset + k < text_.size(); ++k) {
      if (k > 0) bytes += ' ';
      bytes += hex_byte(static_cast<unsigned char>(text_[bad->offset + k]));
    }
    fail(format_errc::bad_syntax,
         "expected UTF-8 text, found " + std::string(bad->reason) + " (" + bytes + ")",
         base_offset_ + bad->offset);
  }
}

void json_reader::fail(format_errc code, std::string_view message, std::uint64_t offset) const {
  throw format_error(code, operation_, path_,
                     std::string(message) + " at byte " + std::to_string(offset));
}

void json_reader::fail_syntax(std::string_view expected, std::size_t pos) const {
  fail(format_errc::bad_syntax, "expected " + std::string(expected) + ", found " + found_at(pos),
       base_offset_ + pos);
}

std::string json_reader::found_at(std::size_t pos) const {
  if (pos >= text_.size()) return "the end of the input";
  const auto c = static_cast<unsigned char>(text_[pos]);
  if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  if (c < 0x80) return "the control character " + hex_byte(c);
  return "the character " + code_point_name(decode_at(text_, pos));
}

void json_reader::skip_whitespace() noexcept {
  while (pos_ < text_.size() && is_whitespace(text_[pos_])) ++pos_;
}

void json_reader::start_value() {
  if (!value_due_) misuse("a value was read where the grammar allows none");
  value_due_ = false;
}

json_kind json_reader::peek() {
  if (!value_due_) misuse("peek() where the grammar allows no value");
  skip_whitespace();
  if (pos_ >= text_.size()) fail_syntax("a value", pos_);
  switch (text_[pos_]) {
    case '{': return json_kind::object;
    case '[': return json_kind::array;
    case '"': return json_kind::string;
    case 't':
    case 'f': return json_kind::boolean;
    case 'n': return json_kind::null;
    default:
      if (text_[pos_] == '-' || is_digit(text_[pos_])) return json_kind::number;
      fail_syntax("a value", pos_);
  }
}

void json_reader::expect(json_kind kind, std::string_view what) {
  const json_kind found = peek();
  if (found != kind) {
    fail(format_errc::bad_value,
         with_subject(what, "expected " + std::string(describe(kind)) + ", found " +
                                std::string(describe(found))),
         offset());
  }
}

void json_reader::push(bool is_object) {
  if (frames_.size() >= max_depth_) {
    fail_syntax("at most " + std::to_string(max_depth_) +
                    " levels of nested arrays and objects, but one more opens here",
                pos_);
  }
  start_value();
  frames_.push_back(frame{is_object, true, {}});
  ++pos_;
}

void json_reader::begin_object() {
  expect(json_kind::object);
  push(true);
}

void json_reader::begin_array() {
  expect(json_kind::array);
  push(false);
}

bool json_reader::next_member(std::string& key) {
  if (frames_.empty() || !frames_.back().is_object || value_due_) {
    misuse("next_member() outside an object or before the member's value was read");
  }
  frame& top = frames_.back();
  skip_whitespace();
  if (pos_ < text_.size() && text_[pos_] == '}') {
    ++pos_;
    frames_.pop_back();
    return false;
  }
  if (top.first) {
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      fail_syntax("'\"' to begin a key or '}' to close the object", pos_);
    }
  } else {
    if (pos_ >= text_.size() || text_[pos_] != ',') {
      fail_syntax("',' or '}' after an object member", pos_);
    }
    ++pos_;
    skip_whitespace();
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      fail_syntax("'\"' to begin a key after ','", pos_);
    }
  }
  top.first = false;
  key_pos_ = pos_;
  key = parse_string();
  skip_whitespace();
  if (pos_ >= text_.size() || text_[pos_] != ':') fail_syntax("':' after the key", pos_);
  ++pos_;
  if (!top.keys.insert(key).second) {
    fail(format_errc::bad_keys, "expected each key once in an object, found " + quote(key) +
                                    " again",
         base_offset_ + key_pos_);
  }
  value_due_ = true;
  return true;
}

bool json_reader::next_element() {
  if (frames_.empty() || frames_.back().is_object || value_due_) {
    misuse("next_element() outside an array or before the element was read");
  }
  frame& top = frames_.back();
  skip_whitespace();
  if (pos_ < text_.size() && text_[pos_] == ']') {
    ++pos_;
    frames_.pop_back();
    return false;
  }
  if (!top.first) {
    if (pos_ >= text_.size() || text_[pos_] != ',') {
      fail_syntax("',' or ']' after an array element", pos_);
    }
    ++pos_;
  }
  top.first = false;
  value_due_ = true;
  return true;
}

std::string json_reader::read_string() {
  expect(json_kind::string);
  start_value();
  return parse_string();
}

std::string json_reader::parse_string() {
  const std::size_t open_pos = pos_;
  ++pos_;  // the opening quote
  std::string out;
  for (;;) {
    const std::size_t run = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\\' &&
           static_cast<unsigned char>(text_[pos_]) >= 0x20) {
      ++pos_;
    }
    out.append(text_.substr(run, pos_ - run));
    if (pos_ >= text_.size()) {
      fail_syntax("'\"' to close the string that begins at byte " +
                      std::to_string(base_offset_ + open_pos),
                  pos_);
    }
    const char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      return out;
    }
    if (c != '\\') fail_syntax("a control character in a string to be escaped", pos_);
    const std::size_t escape_pos = pos_++;
    if (pos_ >= text_.size()) fail_syntax("an escape character after '\\'", pos_);
    switch (text_[pos_++]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': out += read_escaped_code_point(escape_pos); break;
      default:
        fail_syntax("an escape character (one of \" \\ / b f n r t u) after '\\'", pos_ - 1);
    }
  }
}

std::string json_reader::read_escaped_code_point(std::size_t escape_pos) {
  char32_t cp = read_hex4();
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    fail(format_errc::bad_syntax,
         "expected a high surrogate escape before the low surrogate " + escape_name(cp) +
             ", found it alone",
         base_offset_ + escape_pos);
  }
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    const std::size_t low_pos = pos_;
    if (text_.substr(pos_, 2) != "\\u") {
      fail_syntax("a low surrogate escape \\uDC00 to \\uDFFF after the high surrogate " +
                      escape_name(cp),
                  pos_);
    }
    pos_ += 2;
    const char32_t low = read_hex4();
    if (low < 0xDC00 || low > 0xDFFF) {
      fail(format_errc::bad_syntax,
           "expected a low surrogate escape \\uDC00 to \\uDFFF after the high surrogate " +
               escape_name(cp) + ", found " + escape_name(low),
           base_offset_ + low_pos);
    }
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  std::string utf8;
  append_utf8(utf8, cp);
  return utf8;
}

char32_t json_reader::read_hex4() {
  char32_t value = 0;
  for (int k = 0; k < 4; ++k) {
    const int digit = pos_ < text_.size() ? hex_value(text_[pos_]) : -1;
    if (digit < 0) fail_syntax("4 hex digits after \\u", pos_);
    value = value * 16 + static_cast<char32_t>(digit);
    ++pos_;
  }
  return value;
}

std::string_view json_reader::read_number() {
  expect(json_kind::number);
  start_value();
  const std::size_t start = pos_;
  const auto digit_here = [&] { return pos_ < text_.size() && is_digit(text_[pos_]); };
  const auto digits = [&] {
    while (digit_here()) ++pos_;
  };
  if (text_[pos_] == '-') ++pos_;
  if (!digit_here()) fail_syntax("a digit after '-'", pos_);
  if (text_[pos_] == '0') {
    ++pos_;
    if (digit_here()) fail_syntax("'.', 'e' or the end of the number after a leading 0", pos_);
  } else {
    digits();
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (!digit_here()) fail_syntax("a digit after '.'", pos_);
    digits();
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (!digit_here()) fail_syntax("a digit in the exponent", pos_);
    digits();
  }
  return text_.substr(start, pos_ - start);
}

std::uint64_t json_reader::read_uint64(std::string_view what) {
  expect(json_kind::number, what);
  const std::uint64_t at = offset();
  const std::string_view literal = read_number();
  const auto reject = [&](std::string_view why) {
    fail(format_errc::bad_value,
         with_subject(what, "expected an integer from 0 to 18446744073709551615, found " +
                                shown(literal) + " (" + std::string(why) + ")"),
         at);
  };
  if (literal.front() == '-') reject("a negative number");
  if (literal.find('.') != std::string_view::npos) reject("a fraction");
  if (literal.find_first_of("eE") != std::string_view::npos) reject("an exponent");
  std::uint64_t value = 0;
  for (const char c : literal) {
    if (!checked_mul(value, 10, value) ||
        !checked_add(value, static_cast<std::uint64_t>(c - '0'), value)) {
      reject("too large");
    }
  }
  return value;
}

void json_reader::read_literal(std::string_view word) {
  for (std::size_t k = 0; k < word.size(); ++k) {
    if (pos_ + k >= text_.size() || text_[pos_ + k] != word[k]) {
      // Appended piece by piece: GCC 12 at -O2 warns (-Wrestrict, a false positive) on
      // "'" + std::string(word).
      std::string expected = "'";
      expected.append(word).append("'");
      fail_syntax(expected, pos_ + k);
    }
  }
  pos_ += word.size();
}

bool json_reader::read_boolean() {
  expect(json_kind::boolean);
  start_value();
  const bool value = text_[pos_] == 't';
  read_literal(value ? "true" : "false");
  return value;
}

void json_reader::read_null() {
  expect(json_kind::null);
  start_value();
  read_literal("null");
}

void json_reader::skip_value() {
  const std::size_t base = frames_.size();
  std::string key;
  for (;;) {
    switch (peek()) {
      case json_kind::object: begin_object(); break;
      case json_kind::array: begin_array(); break;
      case json_kind::string: read_string(); break;
      case json_kind::number: read_number(); break;
      case json_kind::boolean: read_boolean(); break;
      case json_kind::null: read_null(); break;
    }
    // Close every container that has no more values, until one has a value due or the
    // skipped value is complete.
    for (;;) {
      if (frames_.size() == base) return;
      if (frames_.back().is_object ? next_member(key) : next_element()) break;
    }
  }
}

void json_reader::finish() {
  if (value_due_ || !frames_.empty()) misuse("finish() before the top-level value was read");
  skip_whitespace();
  if (pos_ < text_.size()) fail_syntax("nothing but whitespace after the JSON value", pos_);
}

}  // namespace mmap_array::detail
