// json_writer: string literals for the headers the library writes, and the
// quoting of untrusted names in error messages.
#include "json_writer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "json_reader.hpp"

namespace {

using mmap_array::detail::append_json_string;
using mmap_array::detail::quote;

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\n\x01\x1F\x7F\xC3\xA9/", 12));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\u000A\\u0001\\u001F\x7F\xC3\xA9/\"");
}

TEST(JsonWriter, OutputReadsBackUnchanged) {
  std::string value;
  for (int c = 1; c < 0x80; ++c) value += static_cast<char>(c);
  value += std::string("\0\xC3\xA9\xF0\x9F\x98\x80", 7);
  std::string literal;
  append_json_string(literal, value);
  mmap_array::detail::json_reader reader(literal, "read", "h.json");
  EXPECT_EQ(reader.read_string(), value);
  reader.finish();
}

TEST(JsonWriter, QuoteShowsBadBytesAndCutsLongText) {
  EXPECT_EQ(quote("w\xFF\n"), "\"w\\xFF\\u000A\"");
  EXPECT_EQ(quote("\xED\xA0\x80"), "\"\\xED\\xA0\\x80\"");
  EXPECT_EQ(quote(std::string(100, 'a'), 10), "\"aaaaaaaaaa\"...");
  // The cut backs up to a character boundary instead of splitting "é".
  EXPECT_EQ(quote("abcdefghi\xC3\xA9", 10), "\"abcdefghi\"...");
  EXPECT_EQ(quote(""), "\"\"");
}

}  // namespace
