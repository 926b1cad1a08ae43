// json_reader: the strict JSON reader of untrusted headers. One test per kind
// of malformation, each asserting the format_errc and the message's expected /
// found / byte parts; plus the valid forms it must keep exact.
#include "json_reader.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "json_writer.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::format_errc;
using mmap_array::format_error;
using mmap_array::detail::json_kind;
using mmap_array::detail::json_reader;
using namespace mmap_array_test;

// The document read through the reader, in a canonical form: strings re-escaped, numbers
// as their literal text. Recursion is bounded by the reader's depth cap.
std::string walk(json_reader& reader) {
  std::string out;
  switch (reader.peek()) {
    case json_kind::object: {
      reader.begin_object();
      out += '{';
      std::string key;
      while (reader.next_member(key)) {
        if (out.size() > 1) out += ',';
        mmap_array::detail::append_json_string(out, key);
        out += ':' + walk(reader);
      }
      return out + '}';
    }
    case json_kind::array: {
      reader.begin_array();
      out += '[';
      while (reader.next_element()) {
        if (out.size() > 1) out += ',';
        out += walk(reader);
      }
      return out + ']';
    }
    case json_kind::string:
      mmap_array::detail::append_json_string(out, reader.read_string());
      return out;
    case json_kind::number: return std::string(reader.read_number());
    case json_kind::boolean: return reader.read_boolean() ? "true" : "false";
    case json_kind::null: reader.read_null(); return "null";
  }
  return out;
}

std::string canonical(std::string_view text) {
  json_reader reader(text, "read", "h.json");
  std::string out = walk(reader);
  reader.finish();
  return out;
}

// Reading `text` whole fails with `code`; returns the message's cause.
std::string rejected(std::string_view text, format_errc code) {
  auto e = thrown<format_error>([&] { canonical(text); });
  if (!e) return {};
  EXPECT_EQ(e->code(), code) << e->what();
  EXPECT_EQ(e->operation(), "read");
  EXPECT_EQ(e->path(), "h.json");
  return e->cause();
}

std::string syntax_error(std::string_view text) { return rejected(text, format_errc::bad_syntax); }

std::string decoded_string(std::string_view literal) {
  json_reader reader(literal, "read", "h.json");
  std::string value = reader.read_string();
  reader.finish();
  return value;
}

std::uint64_t as_uint64(std::string_view text) {
  json_reader reader(text, "read", "h.json");
  const std::uint64_t value = reader.read_uint64("n");
  reader.finish();
  return value;
}

std::string uint64_error(std::string_view text) {
  auto e = thrown<format_error>([&] { as_uint64(text); });
  if (!e) return {};
  EXPECT_EQ(e->code(), format_errc::bad_value) << e->what();
  return e->cause();
}

TEST(JsonReader, ValidDocumentsKeepOrderAndLiterals) {
  EXPECT_EQ(canonical(R"({"b":1,"a":[true,false,null],"c":{"d":"e"}})"),
            R"({"b":1,"a":[true,false,null],"c":{"d":"e"}})");
  EXPECT_EQ(canonical(" \t\r\n[ 1 , -0.5e+10 , 0 , 2E-3 ] \n  "), "[1,-0.5e+10,0,2E-3]");
  EXPECT_EQ(canonical("{}"), "{}");
  EXPECT_EQ(canonical("[]"), "[]");
  EXPECT_EQ(canonical("[[],{}]"), "[[],{}]");
  EXPECT_EQ(canonical("\"\""), "\"\"");
  EXPECT_EQ(canonical("0"), "0");
  EXPECT_EQ(canonical("null"), "null");
}

TEST(JsonReader, EscapesAreDecoded) {
  EXPECT_EQ(decoded_string(R"("\" \\ \/ \b \f \n \r \t")"), "\" \\ / \b \f \n \r \t");
  EXPECT_EQ(decoded_string(R"("\u0041\u00e9\u20AC")"), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(decoded_string(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(decoded_string(R"("\uDBFF\uDFFF")"), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(decoded_string(R"("a\u0000b")"), std::string("a\0b", 3));
  EXPECT_EQ(decoded_string("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(JsonReader, InvalidUtf8IsRejectedWithItsBytes) {
  struct bad_case {
    std::string text;
    std::string found;
    std::string_view at;
  };
  const bad_case cases[] = {
      {"\"\xC0\xAF\"", "an overlong encoding (0xC0)", "at byte 1"},
      {"\"\xC1\xBF\"", "an overlong encoding (0xC1)", "at byte 1"},
      {"\"\xE0\x80\xAF\"", "an overlong encoding (0xE0 0x80)", "at byte 1"},
      {"\"\xF0\x80\x80\xAF\"", "an overlong encoding (0xF0 0x80)", "at byte 1"},
      {"\"\xED\xA0\x80\"", "a UTF-16 surrogate encoded in UTF-8 (0xED 0xA0)", "at byte 1"},
      {"\"\xED\xBF\xBF\"", "a UTF-16 surrogate encoded in UTF-8 (0xED 0xBF)", "at byte 1"},
      {"\"\xF4\x90\x80\x80\"", "a code point above U+10FFFF (0xF4 0x90)", "at byte 1"},
      {"\"\xF5\x80\x80\x80\"", "a code point above U+10FFFF (0xF5)", "at byte 1"},
      {"\"\xFF\"", "a byte that never occurs in UTF-8 (0xFF)", "at byte 1"},
      {"\"ab\x80\"", "a continuation byte without a lead byte (0x80)", "at byte 3"},
      {"\"\xC3", "a truncated multi-byte sequence (0xC3)", "at byte 1"},
      {"\"\xE2\x82\"", "a truncated multi-byte sequence (0xE2 0x82)", "at byte 1"},
      {"\"\xE2\x82\x41\"", "a truncated multi-byte sequence (0xE2 0x82)", "at byte 1"},
      {"\"\xF0\x9F\x98\"", "a truncated multi-byte sequence (0xF0 0x9F 0x98)", "at byte 1"},
      {"{\"k\xFE\":1}", "a byte that never occurs in UTF-8 (0xFE)", "at byte 3"},
      {"[1]\xC3\xA9\xFF", "a byte that never occurs in UTF-8 (0xFF)", "at byte 5"},
  };
  for (const bad_case& c : cases) {
    const std::string cause = syntax_error(c.text);
    EXPECT_TRUE(contains(cause, "expected UTF-8 text, found " + c.found)) << c.found;
    EXPECT_TRUE(contains(cause, c.at)) << c.found;
  }
  // The limits themselves are valid.
  EXPECT_EQ(decoded_string("\"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\xC2\x80\xE0\xA0\x80\""),
            "\xEF\xBF\xBF\xF4\x8F\xBF\xBF\xC2\x80\xE0\xA0\x80");
}

TEST(JsonReader, NotAValue) {
  EXPECT_EQ(syntax_error(""), "expected a value, found the end of the input at byte 0");
  EXPECT_EQ(syntax_error("  \n "), "expected a value, found the end of the input at byte 4");
  EXPECT_EQ(syntax_error("NaN"), "expected a value, found 'N' at byte 0");
  EXPECT_EQ(syntax_error("Infinity"), "expected a value, found 'I' at byte 0");
  EXPECT_EQ(syntax_error("[-Infinity]"), "expected a digit after '-', found 'I' at byte 2");
  EXPECT_EQ(syntax_error("'a'"), "expected a value, found ''' at byte 0");
  EXPECT_EQ(syntax_error("+1"), "expected a value, found '+' at byte 0");
  EXPECT_EQ(syntax_error(".5"), "expected a value, found '.' at byte 0");
  EXPECT_EQ(syntax_error("]"), "expected a value, found ']' at byte 0");
  EXPECT_EQ(syntax_error("\xEF\xBB\xBF{}"),
            "expected a value, found the character U+FEFF at byte 0");
  EXPECT_EQ(syntax_error("\xC2\xA0{}"), "expected a value, found the character U+00A0 at byte 0");
  EXPECT_EQ(syntax_error("\f{}"), "expected a value, found the control character 0x0C at byte 0");
  EXPECT_EQ(syntax_error("\v{}"), "expected a value, found the control character 0x0B at byte 0");
}

TEST(JsonReader, BadLiterals) {
  EXPECT_EQ(syntax_error("tru"), "expected 'true', found the end of the input at byte 3");
  EXPECT_EQ(syntax_error("trUe"), "expected 'true', found 'U' at byte 2");
  EXPECT_EQ(syntax_error("nul"), "expected 'null', found the end of the input at byte 3");
  EXPECT_EQ(syntax_error("fals"), "expected 'false', found the end of the input at byte 4");
  EXPECT_EQ(syntax_error("True"), "expected a value, found 'T' at byte 0");
  EXPECT_EQ(syntax_error("None"), "expected a value, found 'N' at byte 0");
  EXPECT_EQ(syntax_error("[truex]"),
            "expected ',' or ']' after an array element, found 'x' at byte 5");
}

TEST(JsonReader, BadNumbers) {
  EXPECT_EQ(syntax_error("01"),
            "expected '.', 'e' or the end of the number after a leading 0, found '1' at "
            "byte 1");
  EXPECT_EQ(syntax_error("-01"),
            "expected '.', 'e' or the end of the number after a leading 0, found '1' at "
            "byte 2");
  EXPECT_EQ(syntax_error("[00]"),
            "expected '.', 'e' or the end of the number after a leading 0, found '0' at "
            "byte 2");
  EXPECT_EQ(syntax_error("-"), "expected a digit after '-', found the end of the input at byte 1");
  EXPECT_EQ(syntax_error("- 1"), "expected a digit after '-', found ' ' at byte 1");
  EXPECT_EQ(syntax_error("1."), "expected a digit after '.', found the end of the input at byte 2");
  EXPECT_EQ(syntax_error("1.e3"), "expected a digit after '.', found 'e' at byte 2");
  EXPECT_EQ(syntax_error("1e"),
            "expected a digit in the exponent, found the end of the input at byte 2");
  EXPECT_EQ(syntax_error("1e+"),
            "expected a digit in the exponent, found the end of the input at byte 3");
  EXPECT_EQ(syntax_error("0x10"),
            "expected nothing but whitespace after the JSON value, found 'x' at byte 1");
  EXPECT_EQ(syntax_error("1 2"),
            "expected nothing but whitespace after the JSON value, found '2' at byte 2");
}

TEST(JsonReader, Uint64AcceptsOnlyPlainIntegers) {
  EXPECT_EQ(as_uint64("0"), 0u);
  EXPECT_EQ(as_uint64(" 42 "), 42u);
  EXPECT_EQ(as_uint64("18446744073709551615"), UINT64_MAX);
  const std::string expected = "n: expected an integer from 0 to 18446744073709551615, found ";
  EXPECT_EQ(uint64_error("1.0"), expected + "1.0 (a fraction) at byte 0");
  EXPECT_EQ(uint64_error("1e3"), expected + "1e3 (an exponent) at byte 0");
  EXPECT_EQ(uint64_error("1E0"), expected + "1E0 (an exponent) at byte 0");
  EXPECT_EQ(uint64_error(" -1"), expected + "-1 (a negative number) at byte 1");
  EXPECT_EQ(uint64_error("-0"), expected + "-0 (a negative number) at byte 0");
  EXPECT_EQ(uint64_error("18446744073709551616"),
            expected + "18446744073709551616 (too large) at byte 0");
  EXPECT_EQ(uint64_error("99999999999999999999999"),
            expected + "99999999999999999999999 (too large) at byte 0");
  // A million digits: rejected, and the message does not repeat them.
  const std::string huge(1'000'000, '7');
  const std::string cause = uint64_error(huge);
  EXPECT_TRUE(contains(cause, "(1000000 characters) (too large) at byte 0"));
  EXPECT_LT(cause.size(), 200u);
  // Not a number at all is a type error, not a syntax error.
  EXPECT_EQ(uint64_error("\"7\""), "n: expected a number, found a string at byte 0");
}

TEST(JsonReader, BadStrings) {
  EXPECT_EQ(syntax_error("\"abc"),
            "expected '\"' to close the string that begins at byte 0, found the end of "
            "the input at byte 4");
  EXPECT_EQ(syntax_error("\"a\nb\""),
            "expected a control character in a string to be escaped, found the control "
            "character 0x0A at byte 2");
  EXPECT_EQ(syntax_error("\"a\tb\""),
            "expected a control character in a string to be escaped, found the control "
            "character 0x09 at byte 2");
  EXPECT_EQ(syntax_error(std::string("\"a\0b\"", 5)),
            "expected a control character in a string to be escaped, found the control "
            "character 0x00 at byte 2");
  EXPECT_EQ(syntax_error("\"\x1F\""),
            "expected a control character in a string to be escaped, found the control "
            "character 0x1F at byte 1");
  const std::string escape =
      "expected an escape character (one of \" \\ / b f n r t u) after '\\', found ";
  EXPECT_EQ(syntax_error(R"("\x41")"), escape + "'x' at byte 2");
  EXPECT_EQ(syntax_error(R"("\'")"), escape + "''' at byte 2");
  EXPECT_EQ(syntax_error(R"("\U0041")"), escape + "'U' at byte 2");
  EXPECT_EQ(syntax_error("\"\\"),
            "expected an escape character after '\\', found the end of the input at byte "
            "2");
  EXPECT_EQ(syntax_error(R"("\u00G0")"), "expected 4 hex digits after \\u, found 'G' at byte 5");
  EXPECT_EQ(syntax_error(R"("\u12")"), "expected 4 hex digits after \\u, found '\"' at byte 5");
}

TEST(JsonReader, LoneSurrogateEscapes) {
  EXPECT_EQ(syntax_error(R"("\ud800")"),
            "expected a low surrogate escape \\uDC00 to \\uDFFF after the high surrogate "
            "\\uD800, found '\"' at byte 7");
  EXPECT_EQ(syntax_error(R"("\ud800x")"),
            "expected a low surrogate escape \\uDC00 to \\uDFFF after the high surrogate "
            "\\uD800, found 'x' at byte 7");
  EXPECT_EQ(syntax_error(R"("\ud800\n")"),
            "expected a low surrogate escape \\uDC00 to \\uDFFF after the high surrogate "
            "\\uD800, found '\\' at byte 7");
  EXPECT_EQ(syntax_error(R"("\ud800\u0041")"),
            "expected a low surrogate escape \\uDC00 to \\uDFFF after the high surrogate "
            "\\uD800, found \\u0041 at byte 7");
  EXPECT_EQ(syntax_error(R"("\ud800\ud800")"),
            "expected a low surrogate escape \\uDC00 to \\uDFFF after the high surrogate "
            "\\uD800, found \\uD800 at byte 7");
  EXPECT_EQ(syntax_error(R"("ab\udc00")"),
            "expected a high surrogate escape before the low surrogate \\uDC00, found "
            "it alone at byte 3");
  EXPECT_EQ(syntax_error(R"("\udfff\ud800")"),
            "expected a high surrogate escape before the low surrogate \\uDFFF, found "
            "it alone at byte 1");
}

TEST(JsonReader, BadStructure) {
  EXPECT_EQ(syntax_error("[1,]"), "expected a value, found ']' at byte 3");
  EXPECT_EQ(syntax_error("[,1]"), "expected a value, found ',' at byte 1");
  EXPECT_EQ(syntax_error("[1 2]"),
            "expected ',' or ']' after an array element, found '2' at byte 3");
  EXPECT_EQ(syntax_error("[1"),
            "expected ',' or ']' after an array element, found the end of the input at "
            "byte 2");
  EXPECT_EQ(syntax_error("["), "expected a value, found the end of the input at byte 1");
  EXPECT_EQ(syntax_error(R"({"a":1,})"),
            "expected '\"' to begin a key after ',', found '}' at byte 7");
  EXPECT_EQ(syntax_error(R"({,"a":1})"),
            "expected '\"' to begin a key or '}' to close the object, found ',' at byte "
            "1");
  EXPECT_EQ(syntax_error(R"({"a":1 "b":2})"),
            "expected ',' or '}' after an object member, found '\"' at byte 7");
  EXPECT_EQ(syntax_error(R"({"a" 1})"), "expected ':' after the key, found '1' at byte 5");
  EXPECT_EQ(syntax_error(R"({"a":})"), "expected a value, found '}' at byte 5");
  EXPECT_EQ(syntax_error(R"({a:1})"),
            "expected '\"' to begin a key or '}' to close the object, found 'a' at byte "
            "1");
  EXPECT_EQ(syntax_error(R"({'a':1})"),
            "expected '\"' to begin a key or '}' to close the object, found ''' at byte "
            "1");
  EXPECT_EQ(syntax_error(R"({1:2})"),
            "expected '\"' to begin a key or '}' to close the object, found '1' at byte "
            "1");
  EXPECT_EQ(syntax_error(R"({"a":1)"),
            "expected ',' or '}' after an object member, found the end of the input at "
            "byte 6");
  EXPECT_EQ(syntax_error("[1]]"),
            "expected nothing but whitespace after the JSON value, found ']' at byte 3");
  EXPECT_EQ(syntax_error("{}{}"),
            "expected nothing but whitespace after the JSON value, found '{' at byte 2");
  EXPECT_EQ(syntax_error("// c\n{}"), "expected a value, found '/' at byte 0");
  EXPECT_EQ(syntax_error("{} /* c */"),
            "expected nothing but whitespace after the JSON value, found '/' at byte 3");
  EXPECT_EQ(syntax_error("[1 /* c */]"),
            "expected ',' or ']' after an array element, found '/' at byte 3");
  EXPECT_EQ(syntax_error(std::string("{}\0", 3)),
            "expected nothing but whitespace after the JSON value, found the control character "
            "0x00 at byte 2");
}

TEST(JsonReader, DuplicateKeysAtEveryLevel) {
  EXPECT_EQ(rejected(R"({"a":1,"b":2,"a":3})", format_errc::bad_keys),
            "expected each key once in an object, found \"a\" again at byte 13");
  EXPECT_EQ(rejected(R"({"x":{"a":1,"a":1}})", format_errc::bad_keys),
            "expected each key once in an object, found \"a\" again at byte 12");
  EXPECT_EQ(rejected(R"([{"x":[{"y":{"k":0,"k":0}}]}])", format_errc::bad_keys),
            "expected each key once in an object, found \"k\" again at byte 19");
  // Keys are compared once unescaped.
  EXPECT_EQ(rejected(R"({"a":1,"\u0061":2})", format_errc::bad_keys),
            "expected each key once in an object, found \"a\" again at byte 7");
  EXPECT_EQ(rejected(R"({"":1,"":2})", format_errc::bad_keys),
            "expected each key once in an object, found \"\" again at byte 6");
  // The same key in different objects is fine.
  EXPECT_EQ(canonical(R"({"a":{"a":{"a":1}},"b":{"a":2}})"), R"({"a":{"a":{"a":1}},"b":{"a":2}})");
}

TEST(JsonReader, DepthIsCapped) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_EQ(canonical(nested(64)), nested(64));
  EXPECT_EQ(syntax_error(nested(65)),
            "expected at most 64 levels of nested arrays and objects, but one more opens here, "
            "found '[' at byte 64");

  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  EXPECT_TRUE(contains(syntax_error(objects), "at byte 320"));

  json_reader shallow("[[[1]]]", "read", "h.json", 0, 2);
  auto e = thrown<format_error>([&] { shallow.skip_value(); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->cause(), "at most 2 levels"));
}

TEST(JsonReader, DepthBombFailsQuickly) {
  const std::string bomb(100'000, '[');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(contains(syntax_error(bomb), "at byte 64"));
  json_reader reader(bomb, "read", "h.json");
  auto e = thrown<format_error>([&] { reader.skip_value(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::bad_syntax);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(JsonReader, SkipValueChecksWhatItSkips) {
  json_reader reader(R"([{"a":[1,{"b":null}],"c":"\u00e9"}, 7])", "read", "h.json");
  reader.begin_array();
  ASSERT_TRUE(reader.next_element());
  reader.skip_value();
  ASSERT_TRUE(reader.next_element());
  EXPECT_EQ(reader.read_number(), "7");
  EXPECT_FALSE(reader.next_element());
  reader.finish();

  json_reader duplicate(R"([{"a":[{"b":1,"b":2}]}])", "read", "h.json");
  auto e = thrown<format_error>([&] { duplicate.skip_value(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::bad_keys);
}

TEST(JsonReader, ExpectNamesBothKinds) {
  json_reader reader(R"({"shape": "2"})", "read", "h.json", 8);
  reader.begin_object();
  std::string key;
  ASSERT_TRUE(reader.next_member(key));
  EXPECT_EQ(key, "shape");
  EXPECT_EQ(reader.key_offset(), 9u);
  auto e = thrown<format_error>([&] { reader.expect(json_kind::array, "tensor \"w\" shape"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::bad_value);
  EXPECT_EQ(std::string(e->what()),
            "cannot read 'h.json': tensor \"w\" shape: expected an array, found a string at "
            "byte 18");
}

TEST(JsonReader, OffsetsIncludeTheBase) {
  auto e = thrown<format_error>([&] {
    json_reader reader("[1,,]", "read the safetensors header of", "m.safetensors", 8);
    reader.skip_value();
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->what()),
            "cannot read the safetensors header of 'm.safetensors': expected a value, found ',' "
            "at byte 11");
  e = thrown<format_error>([] { json_reader("\"\xFF\"", "read", "h.json", 100); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->cause(), "at byte 101"));
}

TEST(JsonReader, MisuseIsALogicError) {
  json_reader reader("[1]", "read", "h.json");
  std::string key;
  EXPECT_THROW(reader.next_element(), std::logic_error);
  reader.begin_array();
  EXPECT_THROW(reader.next_member(key), std::logic_error);
  EXPECT_THROW(reader.read_number(), std::logic_error);
  ASSERT_TRUE(reader.next_element());
  EXPECT_THROW(reader.finish(), std::logic_error);
}

// Mutations of a valid header either read or fail with format_error: never a crash, a hang,
// or another exception.
TEST(JsonReader, MutatedInputFailsOnlyWithFormatErrors) {
  const std::string seed =
      R"({"__metadata__":{"k":"v\u00e9"},"w":{"dtype":"F32","shape":[2,3],)"
      R"("data_offsets":[0,24]},"\ud83d\ude00":[true,false,null,-1.5e-3]})";
  const std::string alphabet = "{}[]\",:\\u0123456789eE+-.tfnrl \t\n\x80\xC3\xA9\xED\xF4";
  std::mt19937 random(12345);
  for (int round = 0; round < 20'000; ++round) {
    std::string text = seed;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = random() % (text.size() + 1);
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0: text.insert(at, 1, c); break;
        case 1: if (at < text.size()) text.erase(at, 1); break;
        default: if (at < text.size()) text[at] = c; break;
      }
    }
    try {
      json_reader reader(text, "read", "h.json");
      reader.skip_value();
      reader.finish();
    } catch (const format_error&) {
    } catch (const std::exception& e) {
      FAIL() << "unexpected exception for " << mmap_array::detail::quote(text, 400) << ": "
             << e.what();
    }
  }
}

}  // namespace
