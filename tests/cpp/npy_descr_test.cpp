// NumPy's descr: every type string kind and record form parses to its
// canonical dtype (as NumPy's dtype.str and dtype.descr write it) with the
// right itemsize, formats back to a literal that parses to the same dtype,
// and every malformation has its own error code and names what is wrong.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::format_errc;
using mmap_array::format_error;
using mmap_array::format_npy_descr;
using mmap_array::npy_dtype;
using mmap_array::npy_field;
using mmap_array::parse_npy_descr;
using namespace mmap_array_test;

using shape_t = std::vector<std::uint64_t>;

const std::string kNative = std::endian::native == std::endian::little ? "<" : ">";

// Both dtypes are the same in every member, recursively.
::testing::AssertionResult same_dtype(const npy_dtype& a, const npy_dtype& b) {
  if (a.typestr != b.typestr || a.itemsize != b.itemsize || a.fields.size() != b.fields.size()) {
    return ::testing::AssertionFailure()
           << format_npy_descr(a) << " (" << a.itemsize << " bytes) differs from "
           << format_npy_descr(b) << " (" << b.itemsize << " bytes)";
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    const npy_field& x = a.fields[i];
    const npy_field& y = b.fields[i];
    if (x.name != y.name || x.title != y.title || x.shape != y.shape) {
      return ::testing::AssertionFailure() << "field " << i << " differs";
    }
    if (auto r = same_dtype(x.type, y.type); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

// parse_npy_descr(literal) fails with `code`; returns the cause.
std::string descr_error(std::string_view literal, format_errc code) {
  auto e = thrown<format_error>([&] { parse_npy_descr(literal, "d.npy"); });
  if (!e) return "(no error)";
  EXPECT_EQ(e->code(), code) << e->what();
  EXPECT_EQ(e->path().string(), "d.npy");
  return e->cause();
}

struct typestr_case {
  const char* written;
  std::string canonical;
  std::uint64_t itemsize;
};

TEST(NpyDescr, EveryTypeStringKind) {
  const std::vector<typestr_case> cases = {
      {"|b1", "|b1", 1},         {"?", "|b1", 1},           {"<?", "|b1", 1},
      {"|i1", "|i1", 1},         {">i1", "|i1", 1},         {"<i2", "<i2", 2},
      {">i4", ">i4", 4},         {"<i8", "<i8", 8},         {"|u1", "|u1", 1},
      {"<u2", "<u2", 2},         {">u4", ">u4", 4},         {"<u8", "<u8", 8},
      {"<f2", "<f2", 2},         {"<f4", "<f4", 4},         {">f8", ">f8", 8},
      {"<f12", "<f12", 12},      {"<f16", "<f16", 16},      {"<c8", "<c8", 8},
      {">c16", ">c16", 16},      {"<c24", "<c24", 24},      {"<c32", "<c32", 32},
      {"|S0", "|S0", 0},         {"|S7", "|S7", 7},         {"|a5", "|S5", 5},
      {"<U5", "<U5", 20},        {">U1", ">U1", 4},         {"|V16", "|V16", 16},
      {"<V3", "|V3", 3},         {"<M8", "<M8", 8},         {"<M8[ns]", "<M8[ns]", 8},
      {">m8[10ms]", ">m8[10ms]", 8}, {"<M8[1ms]", "<M8[ms]", 8}, {"<M8[generic]", "<M8", 8},
      {"<M8[D]", "<M8[D]", 8},   {"<m8[as]", "<m8[as]", 8}, {"<M8[Y]", "<M8[Y]", 8},
      // No byte order, '=' and '|' on a multi-byte type mean this machine's order.
      {"f8", kNative + "f8", 8}, {"=i2", kNative + "i2", 2}, {"|i4", kNative + "i4", 4},
      {"|U3", kNative + "U3", 12}, {"M8[us]", kNative + "M8[us]", 8},
  };
  for (const typestr_case& c : cases) {
    SCOPED_TRACE(c.written);
    const npy_dtype dtype = parse_npy_descr("'" + std::string(c.written) + "'");
    EXPECT_EQ(dtype.typestr, c.canonical);
    EXPECT_EQ(dtype.itemsize, c.itemsize);
    EXPECT_TRUE(dtype.fields.empty());
    EXPECT_EQ(format_npy_descr(dtype), "'" + c.canonical + "'");
    EXPECT_TRUE(same_dtype(parse_npy_descr(format_npy_descr(dtype)), dtype));
  }
}

TEST(NpyDescr, UnknownTypeStrings) {
  for (const char* bad : {"''", "'<'", "'<f3'", "'<i16'", "'<i3'", "'b2'", "'<c4'", "'q8'",
                          "'<f08'", "'S-1'", "'Sx'", "'S'", "'<U'", "'i'", "'f 8'", "'<M4'",
                          "'<M8[]'", "'<M8[xs]'", "'<M8[0ms]'", "'<M8[05ms]'", "'<M8ns'",
                          "'<M8[10generic]'", "'<M8[2147483648s]'", "'<M8[ns'", "'<T'",
                          "'S99999999999999999999'"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(contains(descr_error(bad, format_errc::bad_dtype), "unknown type string"));
  }
}

TEST(NpyDescr, ObjectTypesAreRefusedAnywhere) {
  EXPECT_TRUE(contains(descr_error("'|O'", format_errc::object_dtype), "Python objects"));
  descr_error("'O'", format_errc::object_dtype);
  descr_error("'<O8'", format_errc::object_dtype);
  const std::string cause =
      descr_error("[('a', '<f8'), ('b', [('c', '<i4'), ('d', '|O', (2,))])]",
                  format_errc::object_dtype);
  EXPECT_TRUE(contains(cause, "descr field 'b' field 'd'")) << cause;
}

TEST(NpyDescr, UnicodeSizeOverflow) {
  // 2**62 characters of 4 bytes each are 2**64 bytes.
  descr_error("'<U4611686018427387904'", format_errc::size_overflow);
  EXPECT_EQ(parse_npy_descr("'<U4611686018427387903'").itemsize, 18446744073709551612u);
}

TEST(NpyDescr, RecordWithPaddingTitlesAndSubarrays) {
  const npy_dtype dtype = parse_npy_descr(
      "[('id', '<u2'), ('', '|V6'), (('the value', 'value'), '<f8'), ('pair', '<i2', (2,)),"
      " ('grid', 'u1', (2, 3)), ('one', '>f4', 3), ('scalar', '<i4', ())]");
  EXPECT_TRUE(dtype.typestr.empty());
  ASSERT_EQ(dtype.fields.size(), 7u);
  EXPECT_EQ(dtype.itemsize, 2u + 6 + 8 + 4 + 6 + 12 + 4);
  EXPECT_EQ(dtype.fields[1].name, "");
  EXPECT_EQ(dtype.fields[1].type.typestr, "|V6");
  EXPECT_EQ(dtype.fields[2].title, "the value");
  EXPECT_EQ(dtype.fields[2].name, "value");
  EXPECT_EQ(dtype.fields[3].shape, shape_t({2}));
  EXPECT_EQ(dtype.fields[4].shape, shape_t({2, 3}));
  EXPECT_EQ(dtype.fields[4].type.typestr, "|u1");
  EXPECT_EQ(dtype.fields[5].shape, shape_t({3}));  // an int n means (n,)
  EXPECT_TRUE(dtype.fields[6].shape.empty());      // () is a scalar field
  EXPECT_EQ(format_npy_descr(dtype),
            "[('id', '<u2'), ('', '|V6'), (('the value', 'value'), '<f8'), ('pair', '<i2', (2,)), "
            "('grid', '|u1', (2, 3)), ('one', '>f4', (3,)), ('scalar', '<i4')]");
  EXPECT_TRUE(same_dtype(parse_npy_descr(format_npy_descr(dtype)), dtype));
}

TEST(NpyDescr, NestedRecords) {
  const npy_dtype dtype = parse_npy_descr(
      "[('a', '<f4'), ('b', [('x', '|u1'), ('', '|V7'), ('y', [('z', '<c8', (2,))])], (3,))]");
  ASSERT_EQ(dtype.fields.size(), 2u);
  const npy_dtype& b = dtype.fields[1].type;
  ASSERT_EQ(b.fields.size(), 3u);
  EXPECT_EQ(b.fields[2].type.fields[0].name, "z");
  EXPECT_EQ(b.itemsize, 1u + 7 + 16);
  EXPECT_EQ(dtype.itemsize, 4u + 3 * 24);
  EXPECT_TRUE(same_dtype(parse_npy_descr(format_npy_descr(dtype)), dtype));
}

TEST(NpyDescr, EmptyRecordAndZeroSizeSubarrays) {
  // NumPy writes np.dtype([]) as [] (an itemsize of 0).
  const npy_dtype empty = parse_npy_descr("[]");
  EXPECT_TRUE(empty.fields.empty());
  EXPECT_TRUE(empty.typestr.empty());
  EXPECT_EQ(empty.itemsize, 0u);
  EXPECT_EQ(format_npy_descr(empty), "[]");
  EXPECT_EQ(parse_npy_descr("[('a', '<f8', (0,))]").itemsize, 0u);
}

TEST(NpyDescr, NamesAreUnicodeAndQuotedBack) {
  const npy_dtype dtype =
      parse_npy_descr("[('\xCF\x80', '<f4'), ('it\\'s', '<f4'), (u'caf\\xe9', '<f4'), "
                      "('\\n', '<f4')]");
  EXPECT_EQ(dtype.fields[0].name, "\xCF\x80");
  EXPECT_EQ(dtype.fields[1].name, "it's");
  EXPECT_EQ(dtype.fields[2].name, "caf\xC3\xA9");
  EXPECT_EQ(dtype.fields[3].name, "\n");
  EXPECT_EQ(format_npy_descr(dtype),
            "[('\xCF\x80', '<f4'), ('it\\'s', '<f4'), ('caf\xC3\xA9', '<f4'), ('\\n', '<f4')]");
  EXPECT_TRUE(same_dtype(parse_npy_descr(format_npy_descr(dtype)), dtype));
}

TEST(NpyDescr, MalformedRecords) {
  EXPECT_TRUE(contains(descr_error("[('a',)]", format_errc::bad_dtype),
                       "field 0 is a tuple, not a (name, type)"));
  descr_error("[('a', '<f4', (2,), 1)]", format_errc::bad_dtype);
  descr_error("['a']", format_errc::bad_dtype);
  descr_error("[['a', '<f4']]", format_errc::bad_dtype);
  EXPECT_TRUE(contains(descr_error("[(1, '<f4')]", format_errc::bad_dtype),
                       "has the name the int 1"));
  descr_error("[(('t', 'a', 'x'), '<f4')]", format_errc::bad_dtype);
  descr_error("[(('t', 1), '<f4')]", format_errc::bad_dtype);
  EXPECT_TRUE(contains(descr_error("[('a', 4)]", format_errc::bad_dtype),
                       "descr field 'a': the int 4 is neither a type string nor a list"));
  descr_error("[('a', ('<f4', (2,)))]", format_errc::bad_dtype);
  descr_error("{'a': '<f4'}", format_errc::bad_dtype);
  descr_error("3", format_errc::bad_dtype);
  EXPECT_TRUE(contains(descr_error("[('a', '<f4', (-1,))]", format_errc::bad_dtype),
                       "the int -1"));
  descr_error("[('a', '<f4', -2)]", format_errc::bad_dtype);
  descr_error("[('a', '<f4', '2')]", format_errc::bad_dtype);
  descr_error("[('a', '<f4', [2])]", format_errc::bad_dtype);
  descr_error("[('a', '<f4', (18446744073709551616,))]", format_errc::bad_dtype);
}

TEST(NpyDescr, DuplicateNamesAndTitles) {
  EXPECT_TRUE(contains(descr_error("[('a', '<f4'), ('a', '<i4')]", format_errc::bad_dtype),
                       "field name 'a' occurs more than once"));
  EXPECT_TRUE(contains(descr_error("[(('t', 'a'), '<f4'), ('t', '<i4')]", format_errc::bad_dtype),
                       "occurs more than once"));
  EXPECT_TRUE(contains(descr_error("[(('a', 'a'), '<f4')]", format_errc::bad_dtype),
                       "title 'a' repeats a field name or title"));
  // The same name in different records is fine, as is more than one padding field.
  EXPECT_NO_THROW(parse_npy_descr(
      "[('a', '<f4'), ('', '|V4'), ('b', [('a', '<f4')]), ('', '|V2')]"));
}

TEST(NpyDescr, EmptyNamesOnlyForPadding) {
  const std::string cause = descr_error("[('', '<f4')]", format_errc::bad_dtype);
  EXPECT_TRUE(contains(cause, "a field without a name must be padding")) << cause;
  descr_error("[('', '|V4', (2,))]", format_errc::bad_dtype);
  descr_error("[(('title', ''), '|V4')]", format_errc::bad_dtype);
  descr_error("[('', [('a', '|V4')])]", format_errc::bad_dtype);
}

TEST(NpyDescr, RecordSizesOverflow) {
  descr_error("[('a', '<f8', (2305843009213693952,))]", format_errc::size_overflow);
  descr_error("[('a', '|u1', (4294967296, 4294967296))]", format_errc::size_overflow);
  descr_error("[('a', '|S18446744073709551615'), ('b', '|u1')]", format_errc::size_overflow);
}

TEST(NpyDescr, SyntaxErrorsAndDepth) {
  EXPECT_TRUE(contains(descr_error("'<f8", format_errc::bad_syntax), "unterminated string"));
  descr_error("[('a', '<f8')", format_errc::bad_syntax);
  descr_error("b'<f8'", format_errc::bad_syntax);
  // Records nested deeper than the literal cap stop in the parser, before any recursion here.
  std::string deep = "'<f4'";
  for (int i = 0; i < 20; ++i) deep = "[('a', " + deep + ")]";
  EXPECT_TRUE(contains(descr_error(deep, format_errc::bad_syntax), "nesting deeper"));
}

}  // namespace
