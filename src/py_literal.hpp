// A parser of the Python literal subset that .npy headers are written in,
// for untrusted input. It evaluates nothing: it reads dicts, tuples, lists,
// str literals, non-negative integers, True and False, and refuses the rest
// with format_error(bad_syntax) naming the byte offset, what it expected and
// what it found.
//
// Accepted beyond what NumPy writes today, because old NumPy wrote it:
// a u or U prefix on str literals (Python 2, and valid Python 3), and, where
// the caller asks for it (long_suffix::accepted), an L suffix on integers
// (Python 2 longs, which old headers wrote for large dims). NumPy's reader
// strips that L from version 1.0 and 2.0 headers only, since Python 2 never
// wrote a 3.0 one, and never reads a lower-case l, so neither does this.
// Also accepted, as Python reads them: a minus sign on integers (so a
// negative dimension is reported as a bad value, not as a syntax error), a
// parenthesised value without a comma (it is that value, not a tuple), and
// trailing commas. Refused: bytes literals (b'...'), raw or triple-quoted
// strings, string concatenation, floats, None, comments, line continuations,
// NUL bytes, and integers with leading zeros (octal in Python 2).
//
// Nesting is capped at max_literal_depth, so the recursion of the parser is
// bounded whatever the input; every value consumes input, so the tree is at
// most proportional to the input's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mmap_array::detail {

/// How the bytes inside str literals are decoded: .npy 1.0 and 2.0 headers are latin-1,
/// 3.0 headers UTF-8.
enum class literal_encoding { latin1, utf8 };

/// Deepest nesting of containers (and parentheses) accepted.
inline constexpr std::size_t max_literal_depth = 32;

/// One parsed value.
struct py_value {
  enum class kind { dict, tuple, list, str, integer, boolean };

  kind type = kind::integer;
  std::size_t offset = 0;       ///< byte offset of the value's first character in the text
  std::string text;             ///< str: the value in UTF-8; integer: its decimal digits
  bool negative = false;        ///< integer: written with a minus sign
  bool truth = false;           ///< boolean: True
  std::vector<py_value> items;  ///< tuple, list: the elements; dict: key, value, key, value...
};

/// Whether an integer may carry Python 2's long suffix L: NumPy reads it in .npy 1.0 and 2.0
/// headers, which Python 2 could have written, and nowhere else.
enum class long_suffix { refused, accepted };

/// Parses `text`, which must hold exactly one value (whitespace around it allowed). `what`
/// ("header", "descr") and `base_offset` (added to every offset reported) place errors in
/// the file; `path` names it. Throws format_error(bad_syntax).
py_value parse_py_literal(std::string_view text, literal_encoding encoding,
                          const std::filesystem::path& path, std::string_view what,
                          std::uint64_t base_offset = 0,
                          long_suffix longs = long_suffix::refused);

/// The value of a non-negative integer; false if `value` is not an integer, is negative
/// (other than -0) or does not fit 64 bits.
bool to_uint64(const py_value& value, std::uint64_t& out) noexcept;

/// A short description for messages: "a dict", "the int -3", "the str 'x'", "True"...
std::string describe(const py_value& value);

/// `dims` as a Python tuple literal: "()", "(3,)", "(3, 4)".
std::string py_tuple(std::span<const std::uint64_t> dims);

/// `utf8` as a single-quoted Python str literal, as repr() writes it: quotes and backslashes
/// escaped, control characters as \n \r \t or \xNN, other characters left as they are.
std::string quote_py_str(std::string_view utf8);

}  // namespace mmap_array::detail
