// The Python literal parser of .npy headers: the subset NumPy writes (and
// wrote, in the Python 2 era) parses to the values Python would give, and
// everything else is bad_syntax at the right byte, without deep recursion.
#include "py_literal.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mmap_array/error.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::format_errc;
using mmap_array::format_error;
using mmap_array::detail::literal_encoding;
using mmap_array::detail::long_suffix;
using mmap_array::detail::parse_py_literal;
using mmap_array::detail::py_value;
using namespace mmap_array_test;

using kind = py_value::kind;

py_value parse(std::string_view text, literal_encoding encoding = literal_encoding::utf8) {
  return parse_py_literal(text, encoding, "h.npy", "header");
}

// The text fails to parse; returns the cause, and checks the code and the path.
std::string syntax_error(std::string_view text,
                         literal_encoding encoding = literal_encoding::utf8) {
  auto e = thrown<format_error>([&] { parse(text, encoding); });
  if (!e) return "(no error)";
  EXPECT_EQ(e->code(), format_errc::bad_syntax) << e->what();
  EXPECT_EQ(e->path().string(), "h.npy");
  return e->cause();
}

std::uint64_t as_uint(const py_value& v) {
  std::uint64_t n = 0;
  EXPECT_TRUE(mmap_array::detail::to_uint64(v, n)) << mmap_array::detail::describe(v);
  return n;
}

TEST(PyLiteral, ParsesAnNpyHeaderDict) {
  const py_value v = parse("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }   \n");
  ASSERT_EQ(v.type, kind::dict);
  ASSERT_EQ(v.items.size(), 6u);
  EXPECT_EQ(v.items[0].text, "descr");
  EXPECT_EQ(v.items[1].text, "<f8");
  EXPECT_EQ(v.items[2].text, "fortran_order");
  EXPECT_EQ(v.items[3].type, kind::boolean);
  EXPECT_FALSE(v.items[3].truth);
  EXPECT_EQ(v.items[5].type, kind::tuple);
  ASSERT_EQ(v.items[5].items.size(), 2u);
  EXPECT_EQ(as_uint(v.items[5].items[0]), 3u);
  EXPECT_EQ(as_uint(v.items[5].items[1]), 4u);
  EXPECT_EQ(v.items[5].offset, 50u);
}

TEST(PyLiteral, TuplesOfEveryLength) {
  EXPECT_EQ(parse("()").type, kind::tuple);
  EXPECT_TRUE(parse("()").items.empty());
  EXPECT_TRUE(parse("( )").items.empty());
  const py_value one = parse("(3,)");
  ASSERT_EQ(one.type, kind::tuple);
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(as_uint(one.items[0]), 3u);
  EXPECT_EQ(parse("(1, 2, 3,)").items.size(), 3u);
  // Python: a parenthesised value without a comma is the value, not a tuple.
  EXPECT_EQ(parse("(3)").type, kind::integer);
  EXPECT_EQ(parse("((3))").type, kind::integer);
  EXPECT_EQ(parse("((3),)").type, kind::tuple);
}

TEST(PyLiteral, ListsAndNesting) {
  const py_value v = parse("[('a', '<f4'), ('b', [('c', '|u1')], (2,)),]");
  ASSERT_EQ(v.type, kind::list);
  ASSERT_EQ(v.items.size(), 2u);
  EXPECT_EQ(v.items[1].items[1].type, kind::list);
  EXPECT_EQ(v.items[1].items[1].items[0].items[0].text, "c");
  EXPECT_TRUE(parse("[]").items.empty());
  EXPECT_TRUE(parse("{}").items.empty());
}

TEST(PyLiteral, StringsInEitherQuoteWithEscapes) {
  EXPECT_EQ(parse("'abc'").text, "abc");
  EXPECT_EQ(parse("\"it's\"").text, "it's");
  EXPECT_EQ(parse(R"('a\'b\"c\\d')").text, "a'b\"c\\d");
  EXPECT_EQ(parse(R"('\n\t\r')").text, "\n\t\r");
  EXPECT_EQ(parse(R"('\x41\xe9')").text, "A\xC3\xA9");
  EXPECT_EQ(parse(R"('\u00e9\u20AC')").text, "\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse(R"('\U0001F600')").text, "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse(R"('\x00')").text, std::string(1, '\0'));
  EXPECT_EQ(parse(R"('\101')").text, "A");
  EXPECT_EQ(parse("''").text, "");
}

TEST(PyLiteral, UPrefixIsAcceptedBPrefixIsNot) {
  EXPECT_EQ(parse("u'name'").text, "name");
  EXPECT_EQ(parse("U\"name\"").text, "name");
  EXPECT_TRUE(contains(syntax_error("b'name'"), "bytes literal"));
  EXPECT_TRUE(contains(syntax_error("B'name'"), "bytes literal"));
  EXPECT_TRUE(contains(syntax_error("r'name'"), "expected a value, found 'r'"));
}

TEST(PyLiteral, Latin1HeadersAreConvertedToUtf8) {
  // Version 1.0 and 2.0 headers are latin-1: byte 0xE9 is 'é'.
  EXPECT_EQ(parse("'caf\xE9'", literal_encoding::latin1).text, "caf\xC3\xA9");
  EXPECT_EQ(parse("'caf\xC3\xA9'", literal_encoding::utf8).text, "caf\xC3\xA9");
}

TEST(PyLiteral, Utf8HeadersAreValidated) {
  EXPECT_TRUE(contains(syntax_error("'caf\xE9'"), "invalid UTF-8"));
  EXPECT_TRUE(contains(syntax_error("'\xC0\x80'"), "invalid UTF-8"));          // overlong NUL
  EXPECT_TRUE(contains(syntax_error("'\xED\xA0\x80'"), "invalid UTF-8"));      // surrogate
  EXPECT_TRUE(contains(syntax_error("'\xF4\x90\x80\x80'"), "invalid UTF-8"));  // past U+10FFFF
  EXPECT_TRUE(contains(syntax_error("'\xE2\x82'"), "invalid UTF-8"));          // cut short
}

TEST(PyLiteral, IntegersWithTheirPython2Suffix) {
  EXPECT_EQ(as_uint(parse("0")), 0u);
  EXPECT_EQ(as_uint(parse("18446744073709551615")), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(as_uint(parse_py_literal("3L", literal_encoding::latin1, "h.npy", "header", 0,
                                     long_suffix::accepted)),
            3u);
  EXPECT_EQ(as_uint(parse("-0")), 0u);
  EXPECT_EQ(as_uint(parse("000")), 0u);

  std::uint64_t n = 0;
  const py_value big = parse("18446744073709551616");
  EXPECT_EQ(big.type, kind::integer);
  EXPECT_FALSE(mmap_array::detail::to_uint64(big, n));
  const py_value negative = parse("-3");
  EXPECT_TRUE(negative.negative);
  EXPECT_FALSE(mmap_array::detail::to_uint64(negative, n));
  EXPECT_EQ(mmap_array::detail::describe(negative), "the int -3");
  EXPECT_FALSE(mmap_array::detail::to_uint64(parse("'3'"), n));
}

TEST(PyLiteral, ThePython2LongSuffixOnlyWhereAsked) {
  // Found by the property-based tests: "(2l)" in a 3.0 header was read, NumPy refuses it.
  // NumPy strips an L after a number in 1.0 and 2.0 headers only (Python 2 wrote those),
  // and never reads a lower-case l.
  EXPECT_TRUE(contains(syntax_error("3L"), "Python 2 long suffix"));
  EXPECT_TRUE(contains(syntax_error("(2L,)"), "at byte 2"));
  EXPECT_TRUE(contains(syntax_error("3l"), "lower-case"));
  auto e = thrown<format_error>([] {
    parse_py_literal("(2l)", literal_encoding::latin1, "h.npy", "header", 0, long_suffix::accepted);
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::bad_syntax);
  EXPECT_TRUE(contains(e->cause(), "lower-case"));
}

TEST(PyLiteral, RefusesWhatNumpyNeverWrites) {
  EXPECT_TRUE(contains(syntax_error("012"), "leading zero"));
  EXPECT_TRUE(contains(syntax_error("None"), "expected a value, found 'None'"));
  EXPECT_TRUE(contains(syntax_error("1.5"), "found '.'"));
  EXPECT_TRUE(contains(syntax_error("0x10"), "found 'x10'"));
  EXPECT_TRUE(contains(syntax_error("'a' 'b'"), "expected the end of the header, found '''"));
  EXPECT_TRUE(contains(syntax_error("{'a': 1} # comment"), "found '#'"));
  EXPECT_TRUE(contains(syntax_error("{1, 2}"), "expected ':' after a dict key, found ','"));
  EXPECT_TRUE(contains(syntax_error("(,)"), "expected a value, found ','"));
  EXPECT_TRUE(contains(syntax_error("[1 2]"), "expected ',' or ']' after a list item"));
  EXPECT_TRUE(contains(syntax_error(""), "expected a value, found the end of the header"));
  EXPECT_TRUE(contains(syntax_error("-"), "expected a digit"));
  EXPECT_TRUE(contains(syntax_error(std::string("'a\0b'", 5)), "NUL byte"));
  EXPECT_TRUE(contains(syntax_error("\x01"), "found byte 0x01"));
}

TEST(PyLiteral, ReportsTheByteOffset) {
  EXPECT_TRUE(contains(syntax_error("{'descr' '<f8'}"), "at byte 9: expected ':'"));
  auto e = thrown<format_error>(
      [] { parse_py_literal("{'a' 1}", literal_encoding::latin1, "f.npy", "header", 10); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "cannot parse 'f.npy': header syntax error at byte 15"));
}

TEST(PyLiteral, UnterminatedStrings) {
  EXPECT_TRUE(contains(syntax_error("{'descr': '<f8}"), "at byte 10: unterminated string"));
  EXPECT_TRUE(contains(syntax_error("'abc\ndef'"), "unterminated string"));
  EXPECT_TRUE(contains(syntax_error("'abc\\"), "backslash at the end"));
}

TEST(PyLiteral, BadEscapes) {
  EXPECT_TRUE(contains(syntax_error(R"('\q')"), "unknown escape"));
  EXPECT_TRUE(contains(syntax_error(R"('\N{DASH}')"), "unknown escape"));
  EXPECT_TRUE(contains(syntax_error(R"('\x4')"), "truncated escape"));
  EXPECT_TRUE(contains(syntax_error(R"('\u12')"), "truncated escape"));
  EXPECT_TRUE(contains(syntax_error(R"('\ud800')"), "not a Unicode scalar value"));
  EXPECT_TRUE(contains(syntax_error(R"('\U00110000')"), "not a Unicode scalar value"));
}

TEST(PyLiteral, NestingIsCapped) {
  const std::size_t cap = mmap_array::detail::max_literal_depth;
  EXPECT_NO_THROW(parse(std::string(cap, '[') + std::string(cap, ']')));
  EXPECT_TRUE(contains(syntax_error(std::string(cap + 1, '[') + std::string(cap + 1, ']')),
                       "nesting deeper than 32 levels"));
  EXPECT_TRUE(contains(syntax_error(std::string(cap + 1, '(') + "1" + std::string(cap + 1, ')')),
                       "nesting deeper"));
}

TEST(PyLiteral, DepthBombFailsFastWithoutRecursingDeeply) {
  // A megabyte of brackets would overflow a parser that recursed once per bracket.
  const std::string bomb(1 << 20, '[');
  EXPECT_TRUE(contains(syntax_error(bomb), "at byte 32: nesting deeper"));
  std::string mixed;
  for (int i = 0; i < 100000; ++i) mixed += "{'a':(";
  EXPECT_TRUE(contains(syntax_error(mixed), "nesting deeper"));
}

TEST(PyLiteral, WhitespaceAroundTokens) {
  const py_value v = parse(" \t{ 'a' :\n( 1 , ) ,\r\n}\n\n  ");
  ASSERT_EQ(v.type, kind::dict);
  EXPECT_EQ(v.items[1].items.size(), 1u);
}

TEST(PyLiteral, QuoteRoundTrips) {
  using mmap_array::detail::quote_py_str;
  EXPECT_EQ(quote_py_str("abc"), "'abc'");
  EXPECT_EQ(quote_py_str("it's \\"), R"('it\'s \\')");
  EXPECT_EQ(quote_py_str("a\nb\tc\x01\x7F"), R"('a\nb\tc\x01\x7f')");
  EXPECT_EQ(quote_py_str("\xC2\x85\xC3\xA9"), "'\\x85\xC3\xA9'");
  for (std::string text : {std::string("plain"), std::string("q'\"\\"), std::string("\x00\x1F", 2),
                           std::string("\xE2\x82\xAC\xF0\x9F\x98\x80\xC2\x9F")}) {
    EXPECT_EQ(parse(quote_py_str(text)).text, text);
  }
}

TEST(PyLiteral, TupleText) {
  using mmap_array::detail::py_tuple;
  EXPECT_EQ(py_tuple(std::vector<std::uint64_t>{}), "()");
  EXPECT_EQ(py_tuple(std::vector<std::uint64_t>{3}), "(3,)");
  EXPECT_EQ(py_tuple(std::vector<std::uint64_t>{3, 4}), "(3, 4)");
}

}  // namespace
