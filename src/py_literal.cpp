#include "py_literal.hpp"

#include <cstdio>
#include <string>
#include <utility>

#include "mmap_array/error.hpp"
#include "utf8.hpp"

namespace mmap_array::detail {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool is_word_char(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex_byte(unsigned char byte) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(byte));
  return text;
}

class parser {
 public:
  parser(std::string_view text, literal_encoding encoding, const std::filesystem::path& path,
         std::string_view what, std::uint64_t base_offset, long_suffix longs)
      : text_(text),
        encoding_(encoding),
        path_(path),
        what_(what),
        base_(base_offset),
        longs_(longs) {}

  py_value parse_all() {
    skip_space();
    py_value value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("the end of the " + std::string(what_));
    return value;
  }

 private:
  [[noreturn]] void fail_at(std::size_t pos, std::string_view message) const {
    throw format_error(format_errc::bad_syntax, "parse", path_,
                       std::string(what_) + " syntax error at byte " +
                           std::to_string(base_ + pos) + ": " + std::string(message));
  }

  // "expected X, found Y" at the current position.
  [[noreturn]] void fail(std::string_view expected) const {
    fail_at(pos_, "expected " + std::string(expected) + ", found " + found());
  }

  std::string found() const {
    if (pos_ >= text_.size()) return "the end of the " + std::string(what_);
    const char c = text_[pos_];
    if (is_word_char(c)) {
      std::size_t end = pos_;
      while (end < text_.size() && end - pos_ < 20 && is_word_char(text_[end])) ++end;
      return "'" + std::string(text_.substr(pos_, end - pos_)) + "'";
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x21 && byte < 0x7F) return std::string("'") + c + "'";
    return "byte " + hex_byte(byte);
  }

  bool at(char c) const noexcept { return pos_ < text_.size() && text_[pos_] == c; }

  void expect(char c, std::string_view expected) {
    if (!at(c)) fail(expected);
    ++pos_;
  }

  // Python's whitespace between tokens; newlines are insignificant inside brackets, and the
  // header's only newline ends it.
  void skip_space() noexcept {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f') return;
      ++pos_;
    }
  }

  py_value parse_value(std::size_t depth) {
    if (pos_ >= text_.size()) fail("a value");
    const char c = text_[pos_];
    if (c == '{' || c == '(' || c == '[') {
      if (depth >= max_literal_depth) {
        fail_at(pos_, "nesting deeper than " + std::to_string(max_literal_depth) + " levels");
      }
      if (c == '{') return parse_dict(depth + 1);
      if (c == '(') return parse_parenthesised(depth + 1);
      return parse_list(depth + 1);
    }
    if (c == '\'' || c == '"') return parse_str(pos_);
    if (c == '-' || is_digit(c)) return parse_integer();
    if (is_word_char(c)) return parse_word();
    fail("a value");
  }

  py_value make(py_value::kind type, std::size_t offset) const {
    py_value value;
    value.type = type;
    value.offset = offset;
    return value;
  }

  py_value parse_dict(std::size_t depth) {
    py_value dict = make(py_value::kind::dict, pos_);
    // Room for an .npy header's three keys and values: growing one element at a time moved
    // every parsed value (each a string and a vector) four times.
    dict.items.reserve(6);
    ++pos_;
    skip_space();
    while (!at('}')) {
      dict.items.push_back(parse_value(depth));
      skip_space();
      expect(':', "':' after a dict key");
      skip_space();
      dict.items.push_back(parse_value(depth));
      skip_space();
      if (at('}')) break;
      expect(',', "',' or '}' after a dict value");
      skip_space();
    }
    ++pos_;
    return dict;
  }

  py_value parse_list(std::size_t depth) {
    py_value list = make(py_value::kind::list, pos_);
    ++pos_;
    skip_space();
    while (!at(']')) {
      list.items.push_back(parse_value(depth));
      skip_space();
      if (at(']')) break;
      expect(',', "',' or ']' after a list item");
      skip_space();
    }
    ++pos_;
    return list;
  }

  // "()" is the empty tuple, "(x)" is x itself, "(x,)" and "(x, y)" are tuples.
  py_value parse_parenthesised(std::size_t depth) {
    py_value tuple = make(py_value::kind::tuple, pos_);
    ++pos_;
    skip_space();
    if (at(')')) {
      ++pos_;
      return tuple;
    }
    py_value first = parse_value(depth);
    skip_space();
    if (at(')')) {
      ++pos_;
      return first;
    }
    expect(',', "',' or ')' after a tuple item");
    tuple.items.reserve(4);  // most shapes have at most four dimensions
    tuple.items.push_back(std::move(first));
    skip_space();
    while (!at(')')) {
      tuple.items.push_back(parse_value(depth));
      skip_space();
      if (at(')')) break;
      expect(',', "',' or ')' after a tuple item");
      skip_space();
    }
    ++pos_;
    return tuple;
  }

  py_value parse_integer() {
    py_value value = make(py_value::kind::integer, pos_);
    if (at('-')) {
      value.negative = true;
      ++pos_;
      skip_space();
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    if (pos_ == start) fail("a digit");
    value.text = std::string(text_.substr(start, pos_ - start));
    // Python 3 refuses "012", Python 2 read it as octal: neither means twelve.
    if (value.text.size() > 1 && value.text[0] == '0' &&
        value.text.find_first_not_of('0') != std::string::npos) {
      fail_at(start, "integer " + value.text + " has a leading zero");
    }
    if (at('l')) fail_at(pos_, "a lower-case long suffix 'l', which NumPy never wrote");
    if (at('L')) {
      if (longs_ != long_suffix::accepted) {
        fail_at(pos_, "a Python 2 long suffix 'L', which is read in .npy 1.0 and 2.0 headers only");
      }
      ++pos_;
    }
    return value;
  }

  py_value parse_word() {
    const std::size_t start = pos_;
    std::size_t end = pos_;
    while (end < text_.size() && is_word_char(text_[end])) ++end;
    const std::string_view word = text_.substr(start, end - start);
    const bool quote_follows = end < text_.size() && (text_[end] == '\'' || text_[end] == '"');
    if (quote_follows && (word == "u" || word == "U")) {
      pos_ = end;
      return parse_str(start);
    }
    if (quote_follows && (word == "b" || word == "B")) {
      fail_at(start, "a bytes literal where a str was expected");
    }
    if (word == "True" || word == "False") {
      py_value value = make(py_value::kind::boolean, start);
      value.truth = word == "True";
      pos_ = end;
      return value;
    }
    fail("a value");
  }

  // True for a character a string holds as itself: ASCII, and not its quote, a backslash, a
  // NUL or a line end, which parse_str handles one by one.
  static bool plain_in_string(char c, char quote) noexcept {
    return static_cast<unsigned char>(c) < 0x80 && c != quote && c != '\\' && c != '\0' &&
           c != '\n' && c != '\r';
  }

  // The quote is at pos_; `start` is where the literal (with any prefix) begins.
  py_value parse_str(std::size_t start) {
    py_value value = make(py_value::kind::str, start);
    const char quote = text_[pos_++];
    for (;;) {
      // A run of plain ASCII characters is appended at once: most strings hold nothing else.
      std::size_t end = pos_;
      while (end < text_.size() && plain_in_string(text_[end], quote)) ++end;
      value.text.append(text_.data() + pos_, end - pos_);
      pos_ = end;
      if (pos_ >= text_.size() || text_[pos_] == '\n' || text_[pos_] == '\r') {
        fail_at(start, "unterminated string (no closing " + std::string(1, quote) +
                           " before " + (pos_ >= text_.size() ? "the end" : "a newline") + ")");
      }
      const char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        return value;
      }
      if (c == '\\') {
        parse_escape(value.text);
      } else if (c == '\0') {
        fail_at(pos_, "NUL byte in a string");
      } else if (encoding_ == literal_encoding::latin1) {
        append_utf8(value.text, static_cast<unsigned char>(c));
        ++pos_;
      } else {
        const std::size_t before = pos_;
        char32_t cp = 0;
        if (!decode_utf8(text_, pos_, cp)) {
          fail_at(pos_, "invalid UTF-8 (byte " + hex_byte(static_cast<unsigned char>(c)) + ")");
        }
        value.text.append(text_.substr(before, pos_ - before));
      }
    }
  }

  // Reads `digits` hex digits after an escape letter.
  char32_t hex_escape(std::size_t escape_start, std::size_t digits) {
    char32_t cp = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      const int v = pos_ < text_.size() ? hex_value(text_[pos_]) : -1;
      if (v < 0) {
        fail_at(escape_start, "truncated escape " +
                                  std::string(text_.substr(escape_start, pos_ - escape_start)) +
                                  " (" + std::to_string(digits) + " hex digits needed)");
      }
      cp = cp * 16 + static_cast<char32_t>(v);
      ++pos_;
    }
    return cp;
  }

  void parse_escape(std::string& out) {
    const std::size_t escape_start = pos_;
    ++pos_;  // the backslash
    if (pos_ >= text_.size()) fail_at(escape_start, "a backslash at the end of the text");
    const char c = text_[pos_++];
    char32_t cp = 0;
    switch (c) {
      case '\\': cp = '\\'; break;
      case '\'': cp = '\''; break;
      case '"': cp = '"'; break;
      case 'n': cp = '\n'; break;
      case 't': cp = '\t'; break;
      case 'r': cp = '\r'; break;
      case 'a': cp = '\a'; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'v': cp = '\v'; break;
      case 'x': cp = hex_escape(escape_start, 2); break;
      case 'u': cp = hex_escape(escape_start, 4); break;
      case 'U': cp = hex_escape(escape_start, 8); break;
      default:
        if (c >= '0' && c <= '7') {
          cp = static_cast<char32_t>(c - '0');
          for (int i = 0; i < 2 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7';
               ++i) {
            cp = cp * 8 + static_cast<char32_t>(text_[pos_++] - '0');
          }
          break;
        }
        // Python keeps unknown escapes verbatim with a warning; a header has no use for one.
        const auto byte = static_cast<unsigned char>(c);
        fail_at(escape_start, "unknown escape: backslash followed by " +
                                  (byte >= 0x21 && byte < 0x7F ? "'" + std::string(1, c) + "'"
                                                               : "byte " + hex_byte(byte)));
    }
    if (!is_scalar_value(cp)) {
      fail_at(escape_start, "escape " +
                                std::string(text_.substr(escape_start, pos_ - escape_start)) +
                                " is not a Unicode scalar value (UTF-8 cannot hold it)");
    }
    append_utf8(out, cp);
  }

  std::string_view text_;
  literal_encoding encoding_;
  const std::filesystem::path& path_;
  std::string_view what_;
  std::uint64_t base_;
  long_suffix longs_;
  std::size_t pos_ = 0;
};

}  // namespace

py_value parse_py_literal(std::string_view text, literal_encoding encoding,
                          const std::filesystem::path& path, std::string_view what,
                          std::uint64_t base_offset, long_suffix longs) {
  return parser(text, encoding, path, what, base_offset, longs).parse_all();
}

bool to_uint64(const py_value& value, std::uint64_t& out) noexcept {
  if (value.type != py_value::kind::integer) return false;
  std::uint64_t result = 0;
  for (char c : value.text) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (__builtin_mul_overflow(result, std::uint64_t{10}, &result) ||
        __builtin_add_overflow(result, digit, &result)) {
      return false;
    }
  }
  if (value.negative && result != 0) return false;
  out = result;
  return true;
}

std::string describe(const py_value& value) {
  switch (value.type) {
    case py_value::kind::dict: return "a dict";
    case py_value::kind::tuple: return "a tuple";
    case py_value::kind::list: return "a list";
    case py_value::kind::str: return "the str " + quote_py_str(value.text);
    case py_value::kind::integer: {
      // A hostile integer can be thousands of digits long; the message needs only its start.
      std::string digits = value.text.size() > 30 ? value.text.substr(0, 30) + "..." : value.text;
      return "the int " + std::string(value.negative ? "-" : "") + digits;
    }
    case py_value::kind::boolean: return value.truth ? "True" : "False";
  }
  return "a value";
}

std::string py_tuple(std::span<const std::uint64_t> dims) {
  std::string text = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims[i]);
  }
  if (dims.size() == 1) text += ",";
  return text + ")";
}

std::string quote_py_str(std::string_view utf8) {
  std::string out = "'";
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    switch (c) {
      case '\\': out += "\\\\"; continue;
      case '\'': out += "\\'"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      char text[8];
      std::snprintf(text, sizeof text, "\\x%02x", static_cast<unsigned>(c));
      out += text;
      continue;
    }
    // C1 controls (U+0080..U+009F, "\xC2\x80".."\xC2\x9F") are not printable either.
    if (c == 0xC2 && i + 1 < utf8.size()) {
      const auto next = static_cast<unsigned char>(utf8[i + 1]);
      if (next >= 0x80 && next <= 0x9F) {
        char text[8];
        std::snprintf(text, sizeof text, "\\x%02x", static_cast<unsigned>(next));
        out += text;
        ++i;
        continue;
      }
    }
    out += static_cast<char>(c);
  }
  return out + "'";
}

}  // namespace mmap_array::detail
