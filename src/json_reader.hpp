// A strict pull reader of JSON (RFC 8259) for headers from untrusted files.
//
// The caller walks the document value by value and says what it expects, so a
// header is checked and converted in one pass without building a tree: a tree
// would cost tens of bytes per value, and a 100 MB header of "0," can hold 50
// million values. Nesting is tracked on an explicit stack, never by recursion,
// and capped. Numbers are handed over as their literal text, so the caller can
// demand an exact integer instead of a rounded double.
//
// Strictness: all input must be UTF-8; the grammar is RFC 8259's exactly (no
// comments, trailing commas, NaN, leading zeros, single quotes or raw control
// characters); \u escapes pair surrogates and refuse lone ones; an object may
// not repeat a key (compared after unescaping). Every error is a format_error
// whose message says what was expected, what was found and at which byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mmap_array/error.hpp"

namespace mmap_array::detail {

/// The kinds of JSON values.
enum class json_kind { object, array, string, number, boolean, null };

/// "an object", "a string", ...: the kind as an error message names it.
std::string_view describe(json_kind kind) noexcept;

class json_reader {
 public:
  /// Nesting of arrays and objects allowed by default.
  static constexpr std::size_t default_max_depth = 64;

  /// Reads `text`, which must stay alive as long as the reader. Errors are
  /// format_error(code, `operation`, `path`), and name byte offsets as `base_offset` plus the
  /// offset in `text` (so a header inside a file reports file offsets). Throws
  /// format_error(bad_syntax) at once if `text` is not UTF-8.
  json_reader(std::string_view text, std::string_view operation, std::filesystem::path path,
              std::uint64_t base_offset = 0, std::size_t max_depth = default_max_depth);

  /// The kind of the value that comes next (skipping whitespace); throws bad_syntax if no
  /// value starts there.
  json_kind peek();
  /// Requires the next value to be of `kind`; throws bad_value "<what>: expected <kind>,
  /// found <kind> at byte N" otherwise (`what` may be empty).
  void expect(json_kind kind, std::string_view what = {});

  /// Enters the object that comes next; throws bad_syntax past the depth cap.
  void begin_object();
  /// Reads the next key of the innermost object into `key` and returns true, leaving its
  /// value to be read next; returns false once the object closes. Throws bad_syntax on
  /// malformed separators, bad_keys on a repeated key.
  bool next_member(std::string& key);
  /// Enters the array that comes next; throws bad_syntax past the depth cap.
  void begin_array();
  /// Returns true if the innermost array has another element (to be read next), false once
  /// the array closes.
  bool next_element();

  /// Reads a string value, its escapes decoded.
  std::string read_string();
  /// Reads a number value and returns its literal text, checked against the grammar.
  std::string_view read_number();
  /// Reads a number that must be an integer from 0 to 2^64-1 written without sign, fraction
  /// or exponent; throws bad_value (naming `what`) for any other number.
  std::uint64_t read_uint64(std::string_view what = {});
  /// Reads true or false.
  bool read_boolean();
  /// Reads null.
  void read_null();
  /// Reads and checks the next value whatever it is, containers included (iteratively).
  void skip_value();

  /// Requires that only whitespace follows the one top-level value; throws bad_syntax.
  void finish();

  /// The offset, as messages report it, of the next unread byte: after peek(), the first
  /// byte of the next value.
  std::uint64_t offset() const noexcept { return base_offset_ + pos_; }
  /// The offset, as messages report it, of the key next_member() read last.
  std::uint64_t key_offset() const noexcept { return base_offset_ + key_pos_; }

  /// Throws format_error(`code`) with `message` + " at byte " + `offset`.
  [[noreturn]] void fail(format_errc code, std::string_view message, std::uint64_t offset) const;

 private:
  struct frame {
    bool is_object = false;
    bool first = true;  // nothing read yet, so no comma is due
    // Ordered, not hashed: a header's keys are the attacker's choice, and a tree has no
    // collisions to exploit.
    std::set<std::string, std::less<>> keys;
  };

  void skip_whitespace() noexcept;
  void start_value();
  void push(bool is_object);
  std::string found_at(std::size_t pos) const;
  [[noreturn]] void fail_syntax(std::string_view expected, std::size_t pos) const;
  std::string parse_string();
  std::string read_escaped_code_point(std::size_t escape_pos);
  char32_t read_hex4();
  void read_literal(std::string_view word);

  std::string_view text_;
  std::string operation_;
  std::filesystem::path path_;
  std::uint64_t base_offset_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  std::size_t key_pos_ = 0;
  std::vector<frame> frames_;
  bool value_due_ = true;  // the grammar wants a value next (at the start, after a key...)
};

}  // namespace mmap_array::detail
