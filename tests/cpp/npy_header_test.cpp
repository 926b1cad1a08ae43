// The .npy header: one test per malformation (each with its own code), and
// format_npy_header's output parsing back to the same dtype, shape and order,
// laid out as NumPy lays it out (byte for byte, where NumPy wrote the file).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::format_errc;
using mmap_array::format_error;
using mmap_array::format_npy_descr;
using mmap_array::format_npy_header;
using mmap_array::npy_dtype;
using mmap_array::npy_header;
using mmap_array::npy_limits;
using mmap_array::parse_npy_descr;
using mmap_array::parse_npy_header;
using namespace mmap_array_test;

using shape_t = std::vector<std::uint64_t>;

const std::filesystem::path kDataDir = MMAP_ARRAY_TEST_DATA_DIR;

// An .npy prefix: magic, version `major`.0, the length of `text`, then `text` as given.
std::string npy_prefix(std::string_view text, int major = 1) {
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(major);
  bytes += '\0';
  const std::size_t width = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < width; ++i) {
    bytes += static_cast<char>((text.size() >> (8 * i)) & 0xFF);
  }
  return bytes + std::string(text);
}

std::string dict(std::string_view descr, std::string_view order, std::string_view shape) {
  return "{'descr': " + std::string(descr) + ", 'fortran_order': " + std::string(order) +
         ", 'shape': " + std::string(shape) + ", }\n";
}

npy_header parse(std::string_view bytes, const npy_limits& limits = {}) {
  return parse_npy_header(as_bytes(bytes), "h.npy", limits);
}

// Parsing `bytes` fails with `code`; returns the cause.
std::string header_error(std::string_view bytes, format_errc code, const npy_limits& limits = {}) {
  auto e = thrown<format_error>([&] { parse(bytes, limits); });
  if (!e) return "(no error)";
  EXPECT_EQ(e->code(), code) << e->what();
  EXPECT_EQ(e->path().string(), "h.npy");
  return e->cause();
}

std::string header_text_error(std::string_view text, format_errc code) {
  return header_error(npy_prefix(text), code);
}

TEST(NpyHeader, ParsesAPlainHeader) {
  const std::string bytes = npy_prefix(dict("'<f8'", "False", "(3, 4)"));
  const npy_header h = parse(bytes + "data after the header is not read");
  EXPECT_EQ(h.major_version, 1);
  EXPECT_EQ(h.minor_version, 0);
  EXPECT_EQ(h.dtype.typestr, "<f8");
  EXPECT_EQ(h.dtype.itemsize, 8u);
  EXPECT_FALSE(h.fortran_order);
  EXPECT_EQ(h.shape, shape_t({3, 4}));
  EXPECT_EQ(h.data_offset, bytes.size());
  EXPECT_EQ(h.data_size, 96u);
}

TEST(NpyHeader, ZeroDimensionalAndEmptyArrays) {
  npy_header h = parse(npy_prefix(dict("'<c16'", "False", "()")));
  EXPECT_TRUE(h.shape.empty());
  EXPECT_EQ(h.data_size, 16u);
  h = parse(npy_prefix(dict("'<f8'", "True", "(0, 5)")));
  EXPECT_EQ(h.shape, shape_t({0, 5}));
  EXPECT_TRUE(h.fortran_order);
  EXPECT_EQ(h.data_size, 0u);
}

TEST(NpyHeader, AcceptsKeysInAnyOrderAndTrailingWhitespace) {
  const npy_header h =
      parse(npy_prefix("{'shape': (2,), 'fortran_order': True, 'descr': '|u1'}  \t \n\n"));
  EXPECT_EQ(h.shape, shape_t({2}));
  EXPECT_TRUE(h.fortran_order);
  // No final newline and no padding: NumPy reads this too.
  EXPECT_EQ(parse(npy_prefix("{'descr': '|u1', 'fortran_order': False, 'shape': (2,)}")).data_size,
            2u);
}

TEST(NpyHeader, Python2Headers) {
  // NumPy on Python 2 wrote longs with an L and could write u'' names.
  const npy_header h = parse(
      npy_prefix("{'descr': [(u'a', '<i8')], 'fortran_order': False, 'shape': (3L, 4L), }\n"));
  EXPECT_EQ(h.shape, shape_t({3, 4}));
  EXPECT_EQ(h.dtype.fields.at(0).name, "a");
}

TEST(NpyHeader, LongSuffixOnlyInVersionsPython2CouldHaveWritten) {
  // As NumPy reads them: an L after a number in 1.0 and 2.0 headers, never in 3.0 ones
  // (Python 3 only), never a lower-case l. Found by the property-based tests, which check
  // that whatever opens, NumPy reads the same way.
  const std::string text = "{'descr': [('a', '<i2', (2L,))], 'fortran_order': False, 'shape': (3L,), }\n";
  EXPECT_EQ(parse(npy_prefix(text, 1)).shape, shape_t({3}));
  EXPECT_EQ(parse(npy_prefix(text, 2)).dtype.fields.at(0).shape, shape_t({2}));
  EXPECT_TRUE(contains(header_error(npy_prefix(text, 3), format_errc::bad_syntax),
                       "Python 2 long suffix"));
  const std::string lower = "{'descr': '<f8', 'fortran_order': False, 'shape': (3l,), }\n";
  EXPECT_TRUE(contains(header_error(npy_prefix(lower, 1), format_errc::bad_syntax), "lower-case"));
}

TEST(NpyHeader, BadMagic) {
  std::string bytes = npy_prefix(dict("'<f8'", "False", "(3,)"));
  bytes[5] = 'X';
  EXPECT_TRUE(contains(header_error(bytes, format_errc::bad_magic), "not an .npy file"));
  EXPECT_TRUE(contains(header_error("PK\x03\x04 a zip file", format_errc::bad_magic),
                       "starts with 50 4b 03 04 20 61 20 7a"));
  header_error("abc", format_errc::bad_magic);
  header_error("\x93NUMPX", format_errc::bad_magic);
}

TEST(NpyHeader, ShortInputsMatchingTheMagicAreTruncated) {
  for (std::size_t n : {0u, 1u, 5u, 6u, 7u, 9u}) {
    SCOPED_TRACE(n);
    const std::string bytes = std::string("\x93NUMPY\x01\x00\x10\x00", 10).substr(0, n);
    EXPECT_TRUE(contains(header_error(bytes, format_errc::truncated),
                         "only " + std::to_string(n) + " bytes"));
  }
  // Version 2.0 needs 12 bytes before the header.
  header_error(std::string("\x93NUMPY\x02\x00\x10\x00\x00", 11), format_errc::truncated);
}

TEST(NpyHeader, UnknownVersions) {
  for (const char* version : {"\x04\x00", "\x01\x01", "\x00\x00", "\xFF\x00", "\x02\x05"}) {
    std::string bytes = npy_prefix(dict("'<f8'", "False", "(3,)"));
    bytes[6] = version[0];
    bytes[7] = version[1];
    EXPECT_TRUE(contains(header_error(bytes, format_errc::unsupported_version),
                         "versions 1.0, 2.0 and 3.0 are read"));
  }
}

TEST(NpyHeader, OversizeHeaderIsRefusedBeforeItIsNeeded) {
  // Only the 10-byte preamble is given: the cap is checked before the header's bytes.
  const std::string preamble("\x93NUMPY\x01\x00\x11\x27", 10);  // 10001 bytes
  EXPECT_TRUE(contains(header_error(preamble, format_errc::header_too_large),
                       "header of 10001 bytes exceeds the limit of 10000 bytes"));
  const std::string huge("\x93NUMPY\x02\x00\xFF\xFF\xFF\xFF", 12);
  header_error(huge, format_errc::header_too_large);
  header_error(npy_prefix(dict("'<f8'", "False", "(3,)")), format_errc::header_too_large,
               npy_limits{.max_header_size = 20});
  // With a higher cap, the same preamble is merely truncated.
  header_error(preamble, format_errc::truncated, npy_limits{.max_header_size = 20000});
}

TEST(NpyHeader, HeaderLengthPastTheEnd) {
  const std::string bytes = npy_prefix(dict("'<f8'", "False", "(3,)"));
  const std::string cause = header_error(bytes.substr(0, bytes.size() - 1), format_errc::truncated);
  EXPECT_TRUE(contains(cause, "past the end of the " + std::to_string(bytes.size() - 1) +
                                  " bytes available"))
      << cause;
}

TEST(NpyHeader, MissingKeys) {
  EXPECT_TRUE(contains(
      header_text_error("{'descr': '<f8', 'fortran_order': False}", format_errc::bad_keys),
      "header has no key 'shape'"));
  header_text_error("{'descr': '<f8', 'shape': (3,)}", format_errc::bad_keys);
  header_text_error("{'fortran_order': False, 'shape': (3,)}", format_errc::bad_keys);
  header_text_error("{}", format_errc::bad_keys);
}

TEST(NpyHeader, ExtraKeys) {
  EXPECT_TRUE(contains(header_text_error("{'descr': '<f8', 'fortran_order': False, "
                                         "'shape': (3,), 'extra': 1}",
                                         format_errc::bad_keys),
                       "unexpected header key 'extra'"));
  header_text_error("{'descr': '<f8', 'fortran_order': False, 'Shape': (3,)}",
                    format_errc::bad_keys);
  EXPECT_TRUE(contains(header_text_error("{'descr': '<f8', 'fortran_order': False, "
                                         "'shape': (3,), 1: 2}",
                                         format_errc::bad_keys),
                       "header key the int 1 is not a str"));
}

TEST(NpyHeader, DuplicateKeys) {
  // Python's dict would silently keep the last; which one a reader believes is ambiguous.
  EXPECT_TRUE(contains(header_text_error("{'descr': '<f8', 'fortran_order': False, "
                                         "'shape': (3,), 'descr': '<i8'}",
                                         format_errc::bad_keys),
                       "header key 'descr' occurs twice"));
}

TEST(NpyHeader, HeaderIsNotADict) {
  EXPECT_TRUE(contains(header_text_error("('<f8', False, (3,))", format_errc::bad_value),
                       "the header is a tuple, not a dict"));
  header_text_error("[]", format_errc::bad_value);
}

TEST(NpyHeader, WrongTypes) {
  EXPECT_TRUE(contains(header_text_error(dict("'<f8'", "0", "(3,)"), format_errc::bad_value),
                       "'fortran_order' is the int 0, not True or False"));
  header_text_error(dict("'<f8'", "'False'", "(3,)"), format_errc::bad_value);
  EXPECT_TRUE(contains(header_text_error(dict("'<f8'", "False", "[3]"), format_errc::bad_value),
                       "'shape' is a list, not a tuple of ints"));
  header_text_error(dict("'<f8'", "False", "3"), format_errc::bad_value);
  header_text_error(dict("'<f8'", "False", "('3',)"), format_errc::bad_value);
  header_text_error(dict("'<f8'", "False", "(True,)"), format_errc::bad_value);
  header_text_error(dict("'<f8'", "False", "((3,),)"), format_errc::bad_value);
  header_text_error(dict("8", "False", "(3,)"), format_errc::bad_dtype);
  header_text_error(dict("'<q8'", "False", "(3,)"), format_errc::bad_dtype);
}

TEST(NpyHeader, NegativeAndHugeDimensions) {
  EXPECT_TRUE(contains(header_text_error(dict("'<f8'", "False", "(3, -1)"), format_errc::bad_value),
                       "the int -1, a negative dimension"));
  EXPECT_TRUE(contains(header_text_error(dict("'<f8'", "False", "(18446744073709551616,)"),
                                         format_errc::bad_value),
                       "does not fit 64 bits"));
  EXPECT_EQ(parse(npy_prefix(dict("'|u1'", "False", "(18446744073709551615,)"))).data_size,
            std::numeric_limits<std::uint64_t>::max());
}

TEST(NpyHeader, SizeOverflow) {
  EXPECT_TRUE(contains(header_text_error(dict("'<f8'", "False", "(4294967296, 4294967296)"),
                                         format_errc::size_overflow),
                       "shape (4294967296, 4294967296) of 8-byte items"));
  header_text_error(dict("'<f8'", "False", "(2305843009213693952,)"), format_errc::size_overflow);
  // As in NumPy, a zero dimension makes the array empty, but the others must not overflow,
  // in whatever order they come.
  EXPECT_EQ(parse(npy_prefix(dict("'<f8'", "False", "(4294967296, 0, 1024)"))).data_size, 0u);
  header_text_error(dict("'<f8'", "False", "(2305843009213693952, 0)"), format_errc::size_overflow);
  header_text_error(dict("'<f8'", "False", "(0, 2305843009213693952)"), format_errc::size_overflow);
}

TEST(NpyHeader, ObjectDtypeInsideARecord) {
  header_text_error(dict("'|O'", "False", "(3,)"), format_errc::object_dtype);
  header_text_error(dict("[('a', '<i4'), ('b', [('c', '|O')])]", "False", "(3,)"),
                    format_errc::object_dtype);
}

TEST(NpyHeader, DescrSyntaxErrors) {
  const std::string cause =
      header_text_error(dict("[('a', '<i4') ('b', '<i4')]", "False", "(3,)"),
                        format_errc::bad_syntax);
  // The offset counts from the start of the file: 10 bytes of preamble, then the text.
  EXPECT_TRUE(contains(cause, "header syntax error at byte 34: expected ',' or ']'")) << cause;
  header_text_error(dict("'<f8", "False", "(3,)"), format_errc::bad_syntax);
  header_text_error("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } x",
                    format_errc::bad_syntax);
}

TEST(NpyHeader, UnterminatedString) {
  EXPECT_TRUE(contains(header_text_error("{'descr': '<f8", format_errc::bad_syntax),
                       "byte 20: unterminated string (no closing ' before the end)"));
  // A quote missing in the middle pairs the wrong quotes: still an error, one token later.
  EXPECT_TRUE(contains(header_text_error("{'descr': '<f8, 'fortran_order': False, 'shape': (3,)}",
                                         format_errc::bad_syntax),
                       "byte 27: expected ',' or '}' after a dict value, found 'fortran_order'"));
  EXPECT_TRUE(contains(header_text_error("{'descr': '<f8', 'fortran_order': False, 'shape\n",
                                         format_errc::bad_syntax),
                       "byte 51: unterminated string"));
}

TEST(NpyHeader, DepthBomb) {
  const std::string text = "{'descr': " + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_TRUE(contains(header_error(npy_prefix(text, 2), format_errc::bad_syntax,
                                    npy_limits{.max_header_size = 1 << 20}),
                       "nesting deeper than 32 levels"));
}

TEST(NpyHeader, Latin1AndUtf8Names) {
  // Versions 1.0 and 2.0 are latin-1: byte 0xE9 is 'é'.
  npy_header h = parse(npy_prefix(dict("[('caf\xE9', '<f4')]", "False", "(1,)")));
  EXPECT_EQ(h.dtype.fields.at(0).name, "caf\xC3\xA9");
  h = parse(npy_prefix(dict("[('caf\xE9', '<f4')]", "False", "(1,)"), 2));
  EXPECT_EQ(h.dtype.fields.at(0).name, "caf\xC3\xA9");
  // Version 3.0 is UTF-8, and must be valid.
  h = parse(npy_prefix(dict("[('\xCF\x80', '<f4')]", "False", "(1,)"), 3));
  EXPECT_EQ(h.dtype.fields.at(0).name, "\xCF\x80");
  header_error(npy_prefix(dict("[('caf\xE9', '<f4')]", "False", "(1,)"), 3),
               format_errc::bad_syntax);
}

// ---- format_npy_header ----

npy_header round_trip(const npy_dtype& dtype, const shape_t& shape, bool fortran,
                      const npy_limits& limits = {}) {
  const std::string bytes = format_npy_header(dtype, shape, fortran);
  EXPECT_EQ(bytes.size() % 64, 0u);
  EXPECT_EQ(bytes.back(), '\n');
  const npy_header h = parse(bytes, limits);
  EXPECT_EQ(h.data_offset, bytes.size());
  EXPECT_EQ(h.shape, shape);
  EXPECT_EQ(h.fortran_order, fortran);
  EXPECT_EQ(format_npy_descr(h.dtype), format_npy_descr(dtype));
  EXPECT_EQ(h.dtype.itemsize, parse_npy_descr(format_npy_descr(dtype)).itemsize);
  return h;
}

TEST(NpyHeaderFormat, EveryTypeStringKindRoundTrips) {
  for (const char* typestr :
       {"|b1", "|i1", "<i2", ">i4", "<i8", "|u1", ">u2", "<u4", ">u8", "<f2", "<f4", ">f8",
        "<f12", "<f16", "<c8", ">c16", "<c24", "<c32", "|S0", "|S9", "<U5", ">U1", "|V16",
        "<M8", "<M8[ns]", ">m8[10ms]", "<M8[D]"}) {
    SCOPED_TRACE(typestr);
    const npy_header h = round_trip(npy_dtype{typestr, {}, 0}, {2, 3}, false);
    EXPECT_EQ(h.major_version, 1);
  }
}

TEST(NpyHeaderFormat, NonCanonicalTypeStringsAreWrittenCanonically) {
  const std::string bytes = format_npy_header(npy_dtype{"?", {}, 0}, shape_t{3}, false);
  EXPECT_TRUE(contains(bytes, "'descr': '|b1'"));
  EXPECT_EQ(parse(bytes).dtype.itemsize, 1u);
}

TEST(NpyHeaderFormat, RecordsRoundTrip) {
  for (const char* descr :
       {"[('id', '<u2'), ('', '|V6'), ('value', '<f8')]",
        "[(('a title', 'x'), '<f4'), ('y', '<i2', (3,))]",
        "[('a', '<f4'), ('b', [('x', '|u1'), ('', '|V3'), ('y', [('z', '<c8', (2, 2))])], (3,))]",
        "[('grid', '<f8', (2, 3)), ('flag', '|b1')]", "[]"}) {
    SCOPED_TRACE(descr);
    const npy_header h = round_trip(parse_npy_descr(descr), {4}, false);
    EXPECT_EQ(format_npy_descr(h.dtype), descr);
  }
}

TEST(NpyHeaderFormat, UnicodeNamesNeedVersion3) {
  const npy_dtype dtype = parse_npy_descr("[('\xCF\x80', '<f4'), ('\xF0\x9F\x98\x80', '<i2')]");
  const npy_header h = round_trip(dtype, {2}, false);
  EXPECT_EQ(h.major_version, 3);
  EXPECT_EQ(h.dtype.fields[1].name, "\xF0\x9F\x98\x80");
}

TEST(NpyHeaderFormat, Latin1NamesStayVersion1) {
  const npy_dtype dtype = parse_npy_descr("[('caf\xC3\xA9', '<f4')]");
  const std::string bytes = format_npy_header(dtype, shape_t{2}, false);
  EXPECT_EQ(bytes[6], '\x01');
  EXPECT_TRUE(contains(bytes, "'caf\xE9'"));  // latin-1 in the file
  EXPECT_EQ(parse(bytes).dtype.fields.at(0).name, "caf\xC3\xA9");
}

TEST(NpyHeaderFormat, LongHeadersNeedVersion2) {
  std::string descr = "[";
  for (int i = 0; i < 3000; ++i) descr += "('field_" + std::to_string(i) + "', '<f8'), ";
  descr += "]";
  const npy_limits big{.max_header_size = 1 << 20};
  const npy_header h = round_trip(parse_npy_descr(descr), {5}, false, big);
  EXPECT_EQ(h.major_version, 2);
  EXPECT_EQ(h.dtype.itemsize, 3000u * 8);
}

TEST(NpyHeaderFormat, ZeroDimensionalZeroSizeAndFortranShapes) {
  const npy_dtype f8{"<f8", {}, 8};
  EXPECT_EQ(round_trip(f8, {}, false).data_size, 8u);
  EXPECT_EQ(round_trip(f8, {0}, false).data_size, 0u);
  EXPECT_EQ(round_trip(f8, {3, 0, 2}, true).data_size, 0u);
  EXPECT_EQ(round_trip(f8, {3, 4, 5}, true).data_size, 480u);
  EXPECT_TRUE(contains(format_npy_header(f8, shape_t{}, false), "'shape': (), }"));
  EXPECT_TRUE(contains(format_npy_header(f8, shape_t{7}, false), "'shape': (7,), }"));
  EXPECT_TRUE(contains(format_npy_header(f8, shape_t{7, 8}, true),
                       "{'descr': '<f8', 'fortran_order': True, 'shape': (7, 8), }"));
}

// Rewrites `old_shape` in `bytes` (a header from format_npy_header) to `new_shape`, taking
// the extra digits out of the padding, as a writer appending along the growing axis would.
std::string grow(std::string bytes, const std::string& old_shape, const std::string& new_shape) {
  const std::size_t at = bytes.find(old_shape);
  EXPECT_NE(at, std::string::npos);
  bytes.replace(at, old_shape.size(), new_shape);
  const std::size_t extra = new_shape.size() - old_shape.size();
  const std::size_t newline = bytes.size() - 1;
  EXPECT_EQ(bytes.substr(newline - extra, extra), std::string(extra, ' '));
  bytes.erase(newline - extra, extra);
  return bytes;
}

TEST(NpyHeaderFormat, GrowthAxisCanBeRewrittenInPlace) {
  const npy_dtype u1{"|u1", {}, 1};
  const std::string c_order = format_npy_header(u1, shape_t{3, 1}, false);
  const std::string grown = grow(c_order, "(3, 1)", "(10000000000000000000, 1)");
  ASSERT_EQ(grown.size(), c_order.size());
  EXPECT_EQ(parse(grown).shape, shape_t({10000000000000000000u, 1}));

  const std::string fortran = format_npy_header(u1, shape_t{1, 3}, true);
  const std::string grown_f = grow(fortran, "(1, 3)", "(1, 18446744073709551615)");
  ASSERT_EQ(grown_f.size(), fortran.size());
  EXPECT_EQ(parse(grown_f).shape, shape_t({1, 18446744073709551615u}));

  // Even the longest start leaves room: a header is never without its padding.
  const std::string wide = format_npy_header(u1, shape_t{10000000000000000000u}, false);
  const std::string grown_w = grow(wide, "(10000000000000000000,)", "(18446744073709551615,)");
  EXPECT_EQ(grown_w.size(), wide.size());
}

TEST(NpyHeaderFormat, MatchesNumpyByteForByte) {
  struct sample {
    const char* file;
    npy_dtype dtype;
    shape_t shape;
    bool fortran;
  };
  const std::vector<sample> samples = {
      {"f8_2x3.npy", {"<f8", {}, 8}, {2, 3}, false},
      {"i4_fortran.npy", {"<i4", {}, 4}, {2, 3}, true},
      {"c16_scalar.npy", {"<c16", {}, 16}, {}, false},
      {"u1_0x5.npy", {"|u1", {}, 1}, {0, 5}, false},
      {"record_aligned.npy",
       parse_npy_descr("[('id', '<u2'), ('', '|V6'), ('value', '<f8'), ('pair', '<i2', (2,)), "
                       "('tag', '|S3'), ('', '|V1')]"),
       {2},
       false},
      {"v3_unicode_name.npy", parse_npy_descr("[('\xCF\x80', '<f4')]"), {1}, false},
  };
  for (const sample& s : samples) {
    SCOPED_TRACE(s.file);
    const std::string expected = format_npy_header(s.dtype, s.shape, s.fortran);
    const std::string file = read_file(kDataDir / "npy" / s.file);
    EXPECT_EQ(file.substr(0, expected.size()), expected);
  }
}

TEST(NpyHeaderFormat, InvalidDtypesAreFormatErrors) {
  const auto format_error_of = [](const npy_dtype& dtype, const shape_t& shape) {
    auto e = thrown<format_error>([&] { format_npy_header(dtype, shape, false); });
    return e ? e->code() : std::error_code();
  };
  EXPECT_EQ(format_error_of({"<q8", {}, 8}, {3}), format_errc::bad_dtype);
  EXPECT_NO_THROW(format_npy_header(npy_dtype{}, shape_t{3}, false));  // an empty record
  EXPECT_EQ(format_error_of({"|O", {}, 8}, {3}), format_errc::object_dtype);
  npy_dtype both = parse_npy_descr("[('a', '<f4')]");
  both.typestr = "<f4";
  EXPECT_EQ(format_error_of(both, {3}), format_errc::bad_dtype);
  npy_dtype bad_name = parse_npy_descr("[('a', '<f4')]");
  bad_name.fields[0].name = "\xFF";
  EXPECT_EQ(format_error_of(bad_name, {3}), format_errc::bad_dtype);
  npy_dtype duplicate = parse_npy_descr("[('a', '<f4'), ('b', '<f4')]");
  duplicate.fields[1].name = "a";
  EXPECT_EQ(format_error_of(duplicate, {3}), format_errc::bad_dtype);
  EXPECT_EQ(format_error_of({"<f8", {}, 8}, {1ull << 62, 4}), format_errc::size_overflow);
}

TEST(NpyHeaderFormat, ItemsizeIsComputedNotTrusted) {
  // The caller's itemsize is not read: the type says how big an element is.
  const npy_header h = parse(format_npy_header(npy_dtype{"<f8", {}, 3}, shape_t{2}, false));
  EXPECT_EQ(h.dtype.itemsize, 8u);
  EXPECT_EQ(h.data_size, 16u);
}

}  // namespace
