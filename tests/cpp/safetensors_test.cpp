// safetensors: one test per kind of malformed header, each asserting the
// format_errc and the numbers its message names; round trips through
// format_safetensors_header; and map_safetensors on files written by these
// tests and by the reference implementation (tests/data/safetensors).
#include "mmap_array/safetensors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <complex>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::format_errc;
using mmap_array::format_error;
using mmap_array::format_safetensors_header;
using mmap_array::mapped_safetensors;
using mmap_array::map_safetensors;
using mmap_array::os_error;
using mmap_array::parse_safetensors_header;
using mmap_array::safetensors_dtype;
using mmap_array::safetensors_header;
using mmap_array::safetensors_limits;
using mmap_array::safetensors_tensor;
using namespace mmap_array_test;

using shape_t = std::vector<std::uint64_t>;
using metadata_t = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kReadOperation = "read the safetensors header of";
constexpr std::uint64_t k2To32 = std::uint64_t{1} << 32;

std::string le64(std::uint64_t value) {
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return bytes;
}

// A whole file: the length of `json`, `json`, then `data_size` bytes of data.
std::string file_of(std::string_view json, std::size_t data_size = 0) {
  return le64(json.size()) + std::string(json) + pattern(data_size);
}

// One tensor's member of a header, the parts spliced in as JSON text.
std::string entry(std::string_view name, std::string_view dtype, std::string_view shape,
                  std::string_view offsets) {
  return "\"" + std::string(name) + "\":{\"dtype\":\"" + std::string(dtype) +
         "\",\"shape\":" + std::string(shape) + ",\"data_offsets\":" + std::string(offsets) +
         "}";
}

safetensors_header parse(std::string_view file, const safetensors_limits& limits = {}) {
  return parse_safetensors_header(as_bytes(file), file.size(), "m.safetensors", limits);
}

// Parsing `file` fails with `code`; returns the cause.
std::string rejected(std::string_view file, format_errc code,
                     const safetensors_limits& limits = {}) {
  auto e = thrown<format_error>([&] { parse(file, limits); });
  if (!e) return {};
  EXPECT_EQ(e->code(), code) << e->what();
  EXPECT_EQ(e->operation(), kReadOperation);
  EXPECT_EQ(e->path(), "m.safetensors");
  return e->cause();
}

// A header of one tensor "w" with the given members, and `data_size` bytes of data.
std::string rejected_tensor(std::string_view members, std::size_t data_size, format_errc code) {
  return rejected(file_of("{\"w\":{" + std::string(members) + "}}", data_size), code);
}

safetensors_tensor tensor(std::string name, safetensors_dtype dtype, shape_t shape,
                          std::uint64_t begin, std::uint64_t end) {
  return {std::move(name), dtype, std::move(shape), begin, end};
}

std::string formatted(const std::vector<safetensors_tensor>& tensors,
                      const metadata_t& metadata = {}) {
  return format_safetensors_header(tensors, metadata);
}

// format_safetensors_header refuses with `code`; returns the cause.
std::string format_rejected(const std::vector<safetensors_tensor>& tensors, format_errc code,
                            const metadata_t& metadata = {}) {
  auto e = thrown<format_error>([&] { formatted(tensors, metadata); });
  if (!e) return {};
  EXPECT_EQ(e->code(), code) << e->what();
  EXPECT_EQ(e->operation(), "write a safetensors header");
  return e->cause();
}

void expect_same_tensor(const safetensors_tensor& a, const safetensors_tensor& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.dtype, b.dtype) << a.name;
  EXPECT_EQ(a.shape, b.shape) << a.name;
  EXPECT_EQ(a.begin, b.begin) << a.name;
  EXPECT_EQ(a.end, b.end) << a.name;
}

const safetensors_tensor* find(const safetensors_header& header, std::string_view name) {
  for (const safetensors_tensor& t : header.tensors) {
    if (t.name == name) return &t;
  }
  ADD_FAILURE() << "no tensor " << name;
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// dtypes

TEST(SafetensorsDtype, NamesAndBitsOfAll22) {
  const std::pair<std::string_view, unsigned> expected[] = {
      {"BOOL", 8},    {"U8", 8},          {"I8", 8},          {"I16", 16},
      {"U16", 16},    {"I32", 32},        {"U32", 32},        {"I64", 64},
      {"U64", 64},    {"F16", 16},        {"BF16", 16},       {"F32", 32},
      {"F64", 64},    {"C64", 64},        {"F8_E5M2", 8},     {"F8_E4M3", 8},
      {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"F4", 4},
      {"F6_E2M3", 6}, {"F6_E3M2", 6},
  };
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    const auto dtype = static_cast<safetensors_dtype>(i);
    EXPECT_EQ(to_string(dtype), expected[i].first);
    EXPECT_EQ(bits_of(dtype), expected[i].second) << expected[i].first;
    EXPECT_EQ(mmap_array::parse_safetensors_dtype(expected[i].first), dtype);
  }
  EXPECT_EQ(to_string(safetensors_dtype::F6_E3M2), "F6_E3M2");
  for (const std::string_view bad : {"", "f32", "F33", "FLOAT32", "F32 ", "F8_E4M3FN", "C128"}) {
    EXPECT_FALSE(mmap_array::parse_safetensors_dtype(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------
// The 8-byte length

TEST(SafetensorsLength, FileShorterThanTheLength) {
  EXPECT_EQ(rejected("", format_errc::truncated),
            "the file has 0 bytes, fewer than the 8 of the header length");
  EXPECT_EQ(rejected("abc", format_errc::truncated),
            "the file has 3 bytes, fewer than the 8 of the header length");
  EXPECT_EQ(rejected("1234567", format_errc::truncated),
            "the file has 7 bytes, fewer than the 8 of the header length");
}

TEST(SafetensorsLength, PrefixShorterThanGiven) {
  const std::string file = file_of("{}      ");
  auto e = thrown<format_error>([&] {
    parse_safetensors_header(as_bytes(file).first(5), file.size(), "m.safetensors");
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::truncated);
  EXPECT_EQ(e->cause(),
            "only 5 bytes of the file were given, fewer than the 8 of the header length");
  e = thrown<format_error>([&] {
    parse_safetensors_header(as_bytes(file).first(12), file.size(), "m.safetensors");
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::truncated);
  EXPECT_EQ(e->cause(),
            "only 12 bytes of the file were given, fewer than the 8 + 8 of the length and header");
}

TEST(SafetensorsLength, AboveTheCap) {
  EXPECT_EQ(rejected(le64(100'000'001) + "{}", format_errc::header_too_large),
            "the header length 100000001 exceeds the limit of 100000000 bytes");
  EXPECT_EQ(rejected(le64(UINT64_MAX), format_errc::header_too_large),
            "the header length 18446744073709551615 exceeds the limit of 100000000 bytes");
  // The caller's own cap.
  EXPECT_EQ(rejected(file_of("{}      "), format_errc::header_too_large, {7}),
            "the header length 8 exceeds the limit of 7 bytes");
  EXPECT_EQ(parse(file_of("{}      "), {8}).data_offset, 16u);
}

TEST(SafetensorsLength, PastTheEndOfTheFile) {
  EXPECT_EQ(rejected(le64(100) + "{}", format_errc::truncated),
            "the header length 100 needs 8 + 100 bytes, but the file has 10");
  EXPECT_EQ(rejected(le64(100'000'000) + "{}", format_errc::truncated),
            "the header length 100000000 needs 8 + 100000000 bytes, but the file has 10");
  // Without a cap, 8 + N itself overflows.
  EXPECT_EQ(rejected(le64(UINT64_MAX) + "{}", format_errc::truncated, {UINT64_MAX}),
            "the header length 18446744073709551615 needs 8 + 18446744073709551615 bytes, but "
            "the file has 10");
  EXPECT_EQ(rejected(le64(UINT64_MAX - 7) + "{}", format_errc::truncated, {UINT64_MAX}),
            "the header length 18446744073709551608 needs 8 + 18446744073709551608 bytes, but "
            "the file has 10");
}

// ---------------------------------------------------------------------------------------
// The JSON as a whole

TEST(SafetensorsJson, EmptyHeader) {
  EXPECT_EQ(rejected(file_of(""), format_errc::bad_syntax),
            "expected a value, found the end of the input at byte 8");
  EXPECT_EQ(rejected(file_of("        "), format_errc::bad_syntax),
            "expected a value, found the end of the input at byte 16");
}

TEST(SafetensorsJson, TopLevelNotAnObject) {
  EXPECT_EQ(rejected(file_of("[]"), format_errc::bad_value),
            "the header: expected an object, found an array at byte 8");
  EXPECT_EQ(rejected(file_of("\"{}\""), format_errc::bad_value),
            "the header: expected an object, found a string at byte 8");
  EXPECT_EQ(rejected(file_of("1"), format_errc::bad_value),
            "the header: expected an object, found a number at byte 8");
  EXPECT_EQ(rejected(file_of("null"), format_errc::bad_value),
            "the header: expected an object, found null at byte 8");
}

TEST(SafetensorsJson, MustBeginWithABrace) {
  EXPECT_EQ(rejected(file_of(" {}"), format_errc::bad_syntax),
            "expected the header to begin with '{', found whitespace before it at byte 8");
  EXPECT_EQ(rejected(file_of("\n{}"), format_errc::bad_syntax),
            "expected the header to begin with '{', found whitespace before it at byte 8");
}

TEST(SafetensorsJson, TrailingPadding) {
  EXPECT_TRUE(parse(file_of("{}      ")).tensors.empty());
  EXPECT_TRUE(parse(file_of("{}\n\t\r ")).tensors.empty());
  // NUL is not whitespace: some writers pad with it, and the reference rejects it too.
  EXPECT_EQ(rejected(file_of(std::string("{}\0\0", 4)), format_errc::bad_syntax),
            "expected nothing but whitespace after the JSON value, found the control character "
            "0x00 at byte 10");
  EXPECT_EQ(rejected(file_of("{}x"), format_errc::bad_syntax),
            "expected nothing but whitespace after the JSON value, found 'x' at byte 10");
}

TEST(SafetensorsJson, SyntaxErrorsNameFileOffsets) {
  EXPECT_EQ(rejected(file_of("{\"__metadata__\":{},}"), format_errc::bad_syntax),
            "expected '\"' to begin a key after ',', found '}' at byte 27");
  EXPECT_EQ(rejected(file_of("{\"w\xC0\xAF\":1}"), format_errc::bad_syntax),
            "expected UTF-8 text, found an overlong encoding (0xC0) at byte 11");
  EXPECT_EQ(rejected(file_of(std::string(100'000, '[')), format_errc::bad_value),
            "the header: expected an object, found an array at byte 8");
  std::string bomb = "{";
  for (int i = 0; i < 100'000; ++i) bomb += "\"a\":{";
  EXPECT_TRUE(contains(rejected(file_of(bomb), format_errc::bad_keys),
                       "tensor \"a\": expected only the keys \"dtype\", \"shape\" and "
                       "\"data_offsets\", found \"a\" at byte 14"));
}

// ---------------------------------------------------------------------------------------
// One tensor's entry

TEST(SafetensorsTensor, ValueNotAnObject) {
  EXPECT_EQ(rejected(file_of("{\"w\":[1]}"), format_errc::bad_value),
            "tensor \"w\": expected an object, found an array at byte 13");
  EXPECT_EQ(rejected(file_of("{\"w\":\"F32\"}"), format_errc::bad_value),
            "tensor \"w\": expected an object, found a string at byte 13");
  EXPECT_EQ(rejected(file_of("{\"w\":null}"), format_errc::bad_value),
            "tensor \"w\": expected an object, found null at byte 13");
}

TEST(SafetensorsTensor, MissingKeys) {
  EXPECT_EQ(rejected_tensor(R"("shape":[1],"data_offsets":[0,1])", 1, format_errc::bad_keys),
            "tensor \"w\": expected the keys \"dtype\", \"shape\" and \"data_offsets\", found no "
            "\"dtype\" at byte 13");
  EXPECT_TRUE(contains(
      rejected_tensor(R"("dtype":"U8","data_offsets":[0,1])", 1, format_errc::bad_keys),
      "found no \"shape\""));
  EXPECT_TRUE(contains(rejected_tensor(R"("dtype":"U8","shape":[1])", 1, format_errc::bad_keys),
                       "found no \"data_offsets\""));
  EXPECT_TRUE(contains(rejected_tensor("", 0, format_errc::bad_keys), "found no \"dtype\""));
}

TEST(SafetensorsTensor, ExtraKeys) {
  EXPECT_EQ(rejected_tensor(R"("dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1)", 1,
                            format_errc::bad_keys),
            "tensor \"w\": expected only the keys \"dtype\", \"shape\" and \"data_offsets\", found "
            "\"extra\" at byte 60");
  EXPECT_TRUE(contains(rejected_tensor(R"("Dtype":"U8","shape":[1],"data_offsets":[0,1])", 1,
                                       format_errc::bad_keys),
                       "found \"Dtype\""));
}

TEST(SafetensorsTensor, DuplicateKeysAndNames) {
  EXPECT_EQ(rejected_tensor(R"("dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1])", 1,
                            format_errc::bad_keys),
            "expected each key once in an object, found \"dtype\" again at byte 27");
  const std::string twice = "{" + entry("w", "U8", "[1]", "[0,1]") + "," +
                            entry("w", "U8", "[1]", "[1,2]") + "}";
  EXPECT_TRUE(contains(rejected(file_of(twice, 2), format_errc::bad_keys),
                       "expected each key once in an object, found \"w\" again"));
}

TEST(SafetensorsTensor, UnknownDtype) {
  EXPECT_EQ(rejected_tensor(R"("dtype":"F33","shape":[1],"data_offsets":[0,4])", 4,
                            format_errc::bad_dtype),
            "tensor \"w\": expected a safetensors dtype such as \"F32\" or \"BF16\", found "
            "\"F33\" at byte 22");
  EXPECT_TRUE(contains(rejected_tensor(R"("dtype":"f32","shape":[1],"data_offsets":[0,4])", 4,
                                       format_errc::bad_dtype),
                       "found \"f32\""));
  EXPECT_TRUE(contains(rejected_tensor(R"("dtype":"","shape":[1],"data_offsets":[0,4])", 4,
                                       format_errc::bad_dtype),
                       "found \"\""));
  // Not a string at all is a value of the wrong type.
  EXPECT_EQ(rejected_tensor(R"("dtype":32,"shape":[1],"data_offsets":[0,4])", 4,
                            format_errc::bad_value),
            "tensor \"w\" dtype: expected a string, found a number at byte 22");
}

TEST(SafetensorsTensor, BadShapeEntries) {
  const auto shape_error = [](std::string_view shape) {
    return rejected_tensor(
        "\"dtype\":\"U8\",\"shape\":" + std::string(shape) + ",\"data_offsets\":[0,1]", 1,
        format_errc::bad_value);
  };
  const std::string expected = "tensor \"w\" shape: expected an integer from 0 to "
                               "18446744073709551615, found ";
  EXPECT_EQ(shape_error("[-1]"), expected + "-1 (a negative number) at byte 36");
  EXPECT_EQ(shape_error("[1.0]"), expected + "1.0 (a fraction) at byte 36");
  EXPECT_EQ(shape_error("[1e0]"), expected + "1e0 (an exponent) at byte 36");
  EXPECT_EQ(shape_error("[18446744073709551616]"),
            expected + "18446744073709551616 (too large) at byte 36");
  EXPECT_TRUE(contains(shape_error("[" + std::string(5000, '9') + "]"), "(too large)"));
  EXPECT_EQ(shape_error("[\"1\"]"),
            "tensor \"w\" shape: expected a number, found a string at byte 36");
  EXPECT_EQ(shape_error("[[1]]"),
            "tensor \"w\" shape: expected a number, found an array at byte 36");
  EXPECT_EQ(shape_error("1"), "tensor \"w\" shape: expected an array, found a number at byte 35");
  EXPECT_EQ(shape_error("null"), "tensor \"w\" shape: expected an array, found null at byte 35");
}

TEST(SafetensorsTensor, ElementCountOverflows) {
  EXPECT_EQ(rejected_tensor(R"("dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0])",
                            0, format_errc::size_overflow),
            "tensor \"w\": shape [4294967296, 4294967296] has 2**64 elements or more");
  // A zero dimension makes the tensor empty, but the others must still multiply: they set
  // the strides, and NumPy refuses such a shape too.
  EXPECT_TRUE(contains(
      rejected_tensor(R"("dtype":"U8","shape":[0,4294967296,4294967296],"data_offsets":[0,0])", 0,
                      format_errc::size_overflow),
      "shape [0, 4294967296, 4294967296] has 2**64 elements or more"));
  // The count fits, the bits do not.
  EXPECT_EQ(
      rejected_tensor(R"("dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0])", 0,
                      format_errc::size_overflow),
      "tensor \"w\": shape [4611686018427387904] of F32 elements has 2**64 bits or more");
  EXPECT_TRUE(contains(
      rejected_tensor(R"("dtype":"U8","shape":[4294967296,4294967295],"data_offsets":[0,0])", 0,
                      format_errc::size_overflow),
      "shape [4294967296, 4294967295] of U8 elements has 2**64 bits or more"));
  // A size that fits is merely out of bounds.
  EXPECT_TRUE(contains(rejected_tensor(R"("dtype":"U8","shape":[1073741824,1073741824],)"
                                       R"("data_offsets":[0,1152921504606846976])",
                                       0, format_errc::out_of_bounds),
                       "tensor \"w\" (data_offsets [0, 1152921504606846976]) ends past the 0 "
                       "bytes of the data section"));
}

TEST(SafetensorsTensor, MessagesShowTheFirstDimensionsOnly) {
  std::string shape = "[";
  for (int i = 0; i < 100'000; ++i) shape += "1,";
  shape += "1]";
  const std::string cause = rejected_tensor(
      R"("dtype":"U8","shape":)" + shape + R"(,"data_offsets":[0,2])", 2, format_errc::bad_value);
  EXPECT_TRUE(contains(cause, "shape [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ... "
                              "(100001 dimensions)] need 1 bytes"));
  EXPECT_LT(cause.size(), 250u);
}

TEST(SafetensorsTensor, SubByteDtypesNeedWholeBytes) {
  EXPECT_EQ(rejected_tensor(R"("dtype":"F4","shape":[3],"data_offsets":[0,2])", 2,
                            format_errc::bad_value),
            "tensor \"w\": shape [3] holds 3 F4 elements of 4 bits, which is not a whole number "
            "of bytes");
  EXPECT_TRUE(contains(rejected_tensor(R"("dtype":"F6_E2M3","shape":[1,3],"data_offsets":[0,3])",
                                       3, format_errc::bad_value),
                       "holds 3 F6_E2M3 elements of 6 bits"));
  EXPECT_EQ(parse(file_of("{" + entry("w", "F4", "[2,3]", "[0,3]") + "}", 3)).tensors.size(), 1u);
  EXPECT_EQ(parse(file_of("{" + entry("w", "F6_E3M2", "[4]", "[0,3]") + "}", 3)).tensors.size(),
            1u);
}

TEST(SafetensorsTensor, BadDataOffsets) {
  const auto offsets_error = [](std::string_view offsets) {
    return rejected_tensor("\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":" +
                               std::string(offsets),
                           1, format_errc::bad_value);
  };
  EXPECT_EQ(offsets_error("[0]"),
            "tensor \"w\" data_offsets: expected 2 integers, found 1 at byte 54");
  EXPECT_EQ(offsets_error("[]"),
            "tensor \"w\" data_offsets: expected 2 integers, found 0 at byte 54");
  EXPECT_EQ(offsets_error("[0,1,2]"),
            "tensor \"w\" data_offsets: expected 2 integers, found more at byte 54");
  EXPECT_EQ(offsets_error("{\"begin\":0}"),
            "tensor \"w\" data_offsets: expected an array, found an object at byte 54");
  EXPECT_EQ(offsets_error("[-0,1]"),
            "tensor \"w\" data_offsets: expected an integer from 0 to 18446744073709551615, found "
            "-0 (a negative number) at byte 55");
  EXPECT_TRUE(contains(offsets_error("[0,1.5]"), "1.5 (a fraction) at byte 57"));
  EXPECT_TRUE(contains(offsets_error("[0,18446744073709551616]"), "(too large) at byte 57"));
}

TEST(SafetensorsTensor, BeginAfterEnd) {
  EXPECT_EQ(rejected_tensor(R"("dtype":"U8","shape":[0],"data_offsets":[4,2])", 4,
                            format_errc::bad_value),
            "tensor \"w\": data_offsets [4, 2] begin after they end");
}

TEST(SafetensorsTensor, SizeMismatch) {
  EXPECT_EQ(rejected_tensor(R"("dtype":"F32","shape":[2,3],"data_offsets":[0,20])", 20,
                            format_errc::bad_value),
            "tensor \"w\": dtype F32 and shape [2, 3] need 24 bytes, but data_offsets [0, 20] "
            "span 20");
  EXPECT_TRUE(contains(rejected_tensor(R"("dtype":"F32","shape":[],"data_offsets":[0,8])", 8,
                                       format_errc::bad_value),
                       "dtype F32 and shape [] need 4 bytes, but data_offsets [0, 8] span 8"));
  EXPECT_TRUE(contains(rejected_tensor(R"("dtype":"F32","shape":[0],"data_offsets":[0,4])", 4,
                                       format_errc::bad_value),
                       "need 0 bytes"));
}

// ---------------------------------------------------------------------------------------
// Tiling of the data section

TEST(SafetensorsTiling, GapBeforeTheFirstTensor) {
  EXPECT_EQ(rejected(file_of("{" + entry("w", "U8", "[4]", "[4,8]") + "}", 8), format_errc::gap),
            "bytes 0 to 4 of the data belong to no tensor: the first tensor, \"w\", begins at 4");
}

TEST(SafetensorsTiling, GapBetweenTensors) {
  const std::string json = "{" + entry("b", "U8", "[4]", "[12,16]") + "," +
                           entry("a", "U8", "[8]", "[0,8]") + "}";
  EXPECT_EQ(rejected(file_of(json, 16), format_errc::gap),
            "bytes 8 to 12 of the data belong to no tensor: tensor \"a\" ends at 8 and tensor "
            "\"b\" begins at 12");
}

TEST(SafetensorsTiling, Overlap) {
  const std::string json = "{" + entry("a", "U8", "[8]", "[0,8]") + "," +
                           entry("b", "U8", "[8]", "[4,12]") + "}";
  EXPECT_EQ(rejected(file_of(json, 12), format_errc::overlap),
            "tensor \"b\" (data_offsets [4, 12]) overlaps tensor \"a\" (data_offsets [0, 8])");
  const std::string same = "{" + entry("a", "U8", "[8]", "[0,8]") + "," +
                           entry("b", "U8", "[8]", "[0,8]") + "}";
  EXPECT_TRUE(contains(rejected(file_of(same, 8), format_errc::overlap),
                       "tensor \"b\" (data_offsets [0, 8]) overlaps tensor \"a\""));
  // An empty tensor inside another's bytes claims them as well.
  const std::string inside = "{" + entry("a", "U8", "[8]", "[0,8]") + "," +
                             entry("e", "U8", "[0]", "[4,4]") + "}";
  EXPECT_TRUE(contains(rejected(file_of(inside, 8), format_errc::overlap),
                       "tensor \"e\" (data_offsets [4, 4]) overlaps tensor \"a\""));
}

TEST(SafetensorsTiling, TrailingBytes) {
  const std::string json = "{" + entry("a", "U8", "[8]", "[0,8]") + "}";
  const std::string file = file_of(json, 12);
  EXPECT_EQ(rejected(file, format_errc::trailing_bytes),
            "bytes 8 to 12 of the data belong to no tensor: the last, \"a\", ends at 8 "
            "(file size " +
                std::to_string(file.size()) + ", data from byte " +
                std::to_string(8 + json.size()) + ")");
}

TEST(SafetensorsTiling, DataShortOfTheLastEnd) {
  const std::string json = "{" + entry("a", "U8", "[4]", "[0,4]") + "," +
                           entry("b", "U8", "[8]", "[4,12]") + "}";
  const std::string file = file_of(json, 10);
  EXPECT_EQ(rejected(file, format_errc::out_of_bounds),
            "tensor \"b\" (data_offsets [4, 12]) ends past the 10 bytes of the data section (file "
            "size " + std::to_string(file.size()) + ", data from byte " +
                std::to_string(8 + json.size()) + ")");
}

TEST(SafetensorsTiling, NoTensors) {
  const safetensors_header empty = parse(file_of("{}      "));
  EXPECT_TRUE(empty.tensors.empty());
  EXPECT_TRUE(empty.metadata.empty());
  EXPECT_EQ(empty.data_offset, 16u);
  EXPECT_EQ(empty.data_size, 0u);
  EXPECT_EQ(rejected(file_of("{}      ", 5), format_errc::trailing_bytes),
            "no tensors are declared, but the data section has 5 bytes (file size 21, data from "
            "byte 16)");
  EXPECT_EQ(rejected(file_of(R"({"__metadata__":{"a":"b"}})", 1), format_errc::trailing_bytes),
            "no tensors are declared, but the data section has 1 bytes (file size 35, data from "
            "byte 34)");
}

// ---------------------------------------------------------------------------------------
// __metadata__

TEST(SafetensorsMetadata, ValuesMustBeStrings) {
  EXPECT_EQ(rejected(file_of(R"({"__metadata__":{"a":"b","n":1}})"), format_errc::bad_value),
            "\"__metadata__\" entry \"n\": expected a string, found a number at byte 37");
  EXPECT_TRUE(contains(rejected(file_of(R"({"__metadata__":{"o":{}}})"), format_errc::bad_value),
                       "entry \"o\": expected a string, found an object"));
  EXPECT_TRUE(contains(rejected(file_of(R"({"__metadata__":{"z":null}})"), format_errc::bad_value),
                       "entry \"z\": expected a string, found null"));
  EXPECT_TRUE(contains(rejected(file_of(R"({"__metadata__":{"l":["x"]}})"), format_errc::bad_value),
                       "entry \"l\": expected a string, found an array"));
}

TEST(SafetensorsMetadata, MustBeAnObject) {
  EXPECT_EQ(rejected(file_of(R"({"__metadata__":"format=pt"})"), format_errc::bad_value),
            "\"__metadata__\": expected an object, found a string at byte 24");
  EXPECT_TRUE(contains(rejected(file_of(R"({"__metadata__":null})"), format_errc::bad_value),
                       "expected an object, found null"));
}

TEST(SafetensorsMetadata, AtMostOnce) {
  EXPECT_EQ(rejected(file_of(R"({"__metadata__":{"a":"b"},"__metadata__":{"c":"d"}})"),
                     format_errc::bad_keys),
            "expected each key once in an object, found \"__metadata__\" again at byte 34");
  EXPECT_TRUE(contains(rejected(file_of(R"({"__metadata__":{"a":"b","a":"c"}})"),
                                format_errc::bad_keys),
                       "found \"a\" again"));
}

TEST(SafetensorsMetadata, KeptInFileOrder) {
  const safetensors_header header = parse(
      file_of(R"({"__metadata__":{"z":"1","a":"\u00e9","":""},)" + entry("w", "U8", "[1]",
                "[0,1]") +
                  "}",
              1));
  EXPECT_EQ(header.metadata, (metadata_t{{"z", "1"}, {"a", "\xC3\xA9"}, {"", ""}}));
  ASSERT_EQ(header.tensors.size(), 1u);
}

// ---------------------------------------------------------------------------------------
// Valid headers

TEST(SafetensorsParse, TensorsAreSortedByOffsetThenName) {
  const std::string json = "{" + entry("c", "F32", "[2]", "[8,16]") + "," +
                           entry("z", "U8", "[0]", "[0,0]") + "," +
                           entry("b", "I64", "[]", "[16,24]") + "," +
                           entry("a", "U8", "[0]", "[0,0]") + "," +
                           entry("d", "U16", "[2,2]", "[0,8]") + "," +
                           entry("e", "BOOL", "[0,5]", "[24,24]") + "}";
  const safetensors_header header = parse(file_of(json, 24));
  std::vector<std::string> names;
  for (const safetensors_tensor& t : header.tensors) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "z", "d", "c", "b", "e"}));
  EXPECT_EQ(header.data_offset, 8 + json.size());
  EXPECT_EQ(header.data_size, 24u);
  expect_same_tensor(header.tensors[3], tensor("c", safetensors_dtype::F32, {2}, 8, 16));
  expect_same_tensor(header.tensors[4], tensor("b", safetensors_dtype::I64, {}, 16, 24));
  expect_same_tensor(header.tensors[5], tensor("e", safetensors_dtype::BOOL, {0, 5}, 24, 24));
}

TEST(SafetensorsParse, NamesMayBeAnyString) {
  const std::string json = R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                           R"("caf\u00e9 \ud83d\ude00":)"
                           R"({"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
                           "\"\xE6\x97\xA5\xE6\x9C\xAC\":"
                           R"({"dtype":"U8","shape":[1],"data_offsets":[2,3]},)"
                           R"("a\"b\\c\nd\u0000":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}})";
  const safetensors_header header = parse(file_of(json, 4));
  ASSERT_EQ(header.tensors.size(), 4u);
  EXPECT_EQ(header.tensors[0].name, "");
  EXPECT_EQ(header.tensors[1].name, "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(header.tensors[2].name, "\xE6\x97\xA5\xE6\x9C\xAC");
  EXPECT_EQ(header.tensors[3].name, std::string("a\"b\\c\nd\0", 8));
}

TEST(SafetensorsParse, MessagesQuoteHostileNames) {
  const std::string long_name(10'000, 'n');
  const std::string cause =
      rejected(file_of("{\"" + long_name +
                       R"(\n":{"dtype":"X","shape":[],"data_offsets":[0,0]}})"),
               format_errc::bad_dtype);
  EXPECT_TRUE(contains(cause, "tensor \"nnnn"));
  EXPECT_TRUE(contains(cause, "\"...: expected a safetensors dtype"));
  EXPECT_LT(cause.size(), 250u);
  EXPECT_TRUE(contains(
      rejected(file_of(R"({"a\nb":{"dtype":"X","shape":[],"data_offsets":[0,0]}})"),
               format_errc::bad_dtype),
      "tensor \"a\\u000Ab\""));
}

// ---------------------------------------------------------------------------------------
// format_safetensors_header

TEST(SafetensorsFormat, ExactBytes) {
  const std::string bytes = formatted({tensor("w", safetensors_dtype::F32, {1, 2}, 0, 8)},
                                      {{"format", "pt"}});
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}})";
  const std::string padding((8 - json.size() % 8) % 8, ' ');
  EXPECT_EQ(bytes, le64(json.size() + padding.size()) + json + padding);

  // No "__metadata__" without metadata; tensors in the given order, not the data's.
  EXPECT_EQ(formatted({tensor("b", safetensors_dtype::U8, {1}, 1, 2),
                       tensor("a", safetensors_dtype::U8, {1}, 0, 1)}),
            le64(112) +
                R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
                R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})" + "       ");
  EXPECT_EQ(formatted({}), le64(8) + "{}      ");
}

TEST(SafetensorsFormat, PadsToAMultipleOf8) {
  for (std::size_t length = 0; length < 24; ++length) {
    const std::string bytes =
        formatted({tensor(std::string(length, 'x'), safetensors_dtype::U8, {2}, 0, 2)});
    EXPECT_EQ(bytes.size() % 8, 0u) << length;
    const safetensors_header header = parse(bytes + "ab");
    EXPECT_EQ(header.data_offset, bytes.size());
    EXPECT_EQ(header.data_offset % 8, 0u);
    EXPECT_EQ(header.tensors[0].name, std::string(length, 'x'));
  }
}

TEST(SafetensorsFormat, RoundTripEveryDtype) {
  std::vector<safetensors_tensor> tensors;
  std::uint64_t offset = 0;
  for (unsigned i = 0; i < 22; ++i) {
    const auto dtype = static_cast<safetensors_dtype>(i);
    // 8 elements are a whole number of bytes for every dtype, sub-byte ones included.
    const std::uint64_t size = 8 * bits_of(dtype) / 8;
    std::string name = "t";
    name += std::to_string(i);
    tensors.push_back(tensor(std::move(name), dtype, {2, 4}, offset, offset + size));
    offset += size;
  }
  const metadata_t metadata{{"format", "pt"}, {"note", "h\xC3\xA9llo"}};
  const std::string bytes = formatted(tensors, metadata);
  const safetensors_header header = parse(bytes + pattern(offset));
  ASSERT_EQ(header.tensors.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    expect_same_tensor(header.tensors[i], tensors[i]);
  }
  EXPECT_EQ(header.metadata, metadata);
  EXPECT_EQ(header.data_offset, bytes.size());
  EXPECT_EQ(header.data_size, offset);
}

TEST(SafetensorsFormat, RoundTripEmptyScalarAndUnicode) {
  const std::vector<safetensors_tensor> tensors = {
      tensor("scalar", safetensors_dtype::F64, {}, 0, 8),
      tensor("empty", safetensors_dtype::F32, {0}, 8, 8),
      tensor("also empty", safetensors_dtype::I16, {3, 0, 2}, 8, 8),
      tensor("caf\xC3\xA9 \xF0\x9F\x98\x80", safetensors_dtype::U8, {1}, 8, 9),
      tensor(std::string("quote\" backslash\\ nl\n nul\0", 26), safetensors_dtype::BOOL, {1}, 9,
             10),
      tensor("", safetensors_dtype::F4, {2}, 10, 11),
      tensor("tail empty", safetensors_dtype::U8, {0}, 11, 11),
  };
  const metadata_t metadata{{"k\n\"", std::string("v\0\x1F", 3)}, {"", ""}};
  const safetensors_header header = parse(formatted(tensors, metadata) + pattern(11));
  ASSERT_EQ(header.tensors.size(), tensors.size());
  for (const safetensors_tensor& t : tensors) {
    const safetensors_tensor* found = find(header, t.name);
    if (found != nullptr) expect_same_tensor(*found, t);
  }
  EXPECT_EQ(header.metadata, metadata);
  EXPECT_EQ(header.data_size, 11u);
}

TEST(SafetensorsFormat, RefusesNamesThatAreNotUtf8) {
  EXPECT_EQ(format_rejected({tensor("w\xFF", safetensors_dtype::U8, {1}, 0, 1)},
                            format_errc::bad_value),
            "tensor name \"w\\xFF\" is not UTF-8: a byte that never occurs in UTF-8 at byte 1");
  EXPECT_TRUE(contains(format_rejected({tensor("\xED\xA0\x80", safetensors_dtype::U8, {1}, 0, 1)},
                                       format_errc::bad_value),
                       "a UTF-16 surrogate encoded in UTF-8 at byte 0"));
  EXPECT_TRUE(contains(format_rejected({}, format_errc::bad_value, {{"k\xC0\xAF", "v"}}),
                       "metadata key \"k\\xC0\\xAF\" is not UTF-8: an overlong encoding"));
  EXPECT_TRUE(contains(format_rejected({}, format_errc::bad_value, {{"k", "v\xE2\x82"}}),
                       "metadata value \"v\\xE2\\x82\" is not UTF-8: a truncated"));
}

TEST(SafetensorsFormat, RefusesRepeatedAndReservedNames) {
  EXPECT_EQ(format_rejected({tensor("w", safetensors_dtype::U8, {1}, 0, 1),
                             tensor("w", safetensors_dtype::U8, {1}, 1, 2)},
                            format_errc::bad_keys),
            "tensor \"w\" is named twice");
  EXPECT_EQ(format_rejected({tensor("__metadata__", safetensors_dtype::U8, {1}, 0, 1)},
                            format_errc::bad_keys),
            "a tensor cannot be named \"__metadata__\", the key of the metadata");
  EXPECT_EQ(format_rejected({}, format_errc::bad_keys, {{"a", "1"}, {"a", "2"}}),
            "metadata key \"a\" is given twice");
}

TEST(SafetensorsFormat, RefusesWhatTheParserRefuses) {
  EXPECT_EQ(format_rejected({tensor("w", safetensors_dtype::F32, {2}, 0, 4)},
                            format_errc::bad_value),
            "tensor \"w\": dtype F32 and shape [2] need 8 bytes, but data_offsets [0, 4] span 4");
  EXPECT_TRUE(contains(format_rejected({tensor("w", safetensors_dtype::F4, {1}, 0, 1)},
                                       format_errc::bad_value),
                       "not a whole number of bytes"));
  EXPECT_TRUE(contains(format_rejected({tensor("w", safetensors_dtype::U8, {0}, 2, 1)},
                                       format_errc::bad_value),
                       "begin after they end"));
  EXPECT_EQ(format_rejected({tensor("w", safetensors_dtype::U8, {4}, 4, 8)}, format_errc::gap),
            "bytes 0 to 4 of the data belong to no tensor: the first tensor, \"w\", begins at 4");
  EXPECT_TRUE(contains(format_rejected({tensor("a", safetensors_dtype::U8, {2}, 0, 2),
                                        tensor("b", safetensors_dtype::U8, {2}, 3, 5)},
                                       format_errc::gap),
                       "bytes 2 to 3 of the data belong to no tensor"));
  // The larger tensor's end is the data size, so this is an overlap, not a tensor out of bounds.
  EXPECT_EQ(format_rejected({tensor("a", safetensors_dtype::U8, {10}, 0, 10),
                             tensor("b", safetensors_dtype::U8, {2}, 4, 6)},
                            format_errc::overlap),
            "tensor \"b\" (data_offsets [4, 6]) overlaps tensor \"a\" (data_offsets [0, 10])");
  EXPECT_TRUE(contains(format_rejected({tensor("w", safetensors_dtype::U8, {k2To32, k2To32}, 0, 0)},
                                       format_errc::size_overflow),
                       "has 2**64 elements or more"));
  EXPECT_EQ(format_rejected({tensor("w", static_cast<safetensors_dtype>(99), {1}, 0, 1)},
                            format_errc::bad_dtype),
            "tensor \"w\": dtype value 99 is not a safetensors dtype");
}

// ---------------------------------------------------------------------------------------
// map_safetensors

class MapSafetensors : public ::testing::Test {
 protected:
  // Writes a file of `tensors` and `metadata` whose data is `data`.
  std::filesystem::path write(std::string_view name, const std::vector<safetensors_tensor>& tensors,
                              std::string_view data, const metadata_t& metadata = {}) {
    const auto path = tmp / name;
    write_file(path, format_safetensors_header(tensors, metadata) + std::string(data));
    return path;
  }

  // Both forms of map_safetensors fail with format error `code`, leaving no descriptor open
  // and mapping nothing; returns the thrown error.
  std::optional<format_error> expect_map_error(const std::filesystem::path& path,
                                               format_errc code,
                                               const safetensors_limits& limits = {}) {
    const std::size_t descriptors = open_descriptor_count();
    counting_seam seam;
    auto e = thrown<format_error>(
        [&] { map_safetensors(path, access_mode::read_only, limits); });
    if (e) {
      EXPECT_EQ(e->code(), code) << e->what();
      EXPECT_EQ(e->path(), path);
    }
    std::error_code ec;
    mapped_safetensors m = map_safetensors(path, access_mode::read_only, limits, ec);
    EXPECT_EQ(ec, code);
    EXPECT_FALSE(m.data.is_open());
    EXPECT_TRUE(m.header.tensors.empty());
    EXPECT_EQ(seam.counts().open, 2);
    EXPECT_EQ(seam.counts().close, 2);
    EXPECT_EQ(seam.counts().mmap, 0);
    EXPECT_EQ(open_descriptor_count(), descriptors);
    return e;
  }

  temp_dir tmp;
};

TEST_F(MapSafetensors, ReadOnlyMapsTheDataSection) {
  const std::string data = pattern(24 + 3);
  const auto path = write("m.safetensors",
                          {tensor("w", safetensors_dtype::F32, {2, 3}, 0, 24),
                           tensor("b", safetensors_dtype::U8, {3}, 24, 27)},
                          data, {{"format", "pt"}});
  const std::size_t descriptors = open_descriptor_count();
  mapped_safetensors m = map_safetensors(path, access_mode::read_only);
  EXPECT_EQ(open_descriptor_count(), descriptors);
  ASSERT_EQ(m.header.tensors.size(), 2u);
  EXPECT_EQ(m.header.metadata, (metadata_t{{"format", "pt"}}));
  const std::string file = read_file(path);
  EXPECT_EQ(m.header.data_offset, file.size() - data.size());
  EXPECT_EQ(m.header.data_offset % 8, 0u);
  EXPECT_EQ(m.header.data_size, data.size());
  EXPECT_TRUE(m.data.is_open());
  EXPECT_FALSE(m.data.writable());
  EXPECT_EQ(m.data.offset(), m.header.data_offset);
  EXPECT_EQ(m.data.size(), data.size());
  EXPECT_EQ(m.data.path(), path);
  EXPECT_EQ(as_text({m.data.data(), m.data.size()}), data);
  const safetensors_tensor& b = m.header.tensors[1];
  EXPECT_EQ(as_text({m.data.data() + b.begin, b.end - b.begin}), data.substr(24));
}

TEST_F(MapSafetensors, CopyOnWriteLeavesTheFileAlone) {
  const auto path = write("m.safetensors", {tensor("w", safetensors_dtype::U8, {5}, 0, 5)},
                          "hello");
  const std::string before = read_file(path);
  mapped_safetensors m = map_safetensors(path, access_mode::copy_on_write);
  ASSERT_TRUE(m.data.writable());
  EXPECT_EQ(as_text({m.data.data(), m.data.size()}), "hello");
  std::memcpy(m.data.data(), "HELLO", 5);
  EXPECT_EQ(as_text({m.data.data(), m.data.size()}), "HELLO");
  m.data.close();
  EXPECT_EQ(read_file(path), before);
}

TEST_F(MapSafetensors, ReadWriteReachesTheFile) {
  const auto path = write("m.safetensors", {tensor("w", safetensors_dtype::U8, {5}, 0, 5)},
                          "hello");
  mapped_safetensors m = map_safetensors(path, access_mode::read_write);
  std::memcpy(m.data.data(), "HELLO", 5);
  m.data.flush();
  const std::string file = read_file(path);
  EXPECT_EQ(file.substr(file.size() - 5), "HELLO");
}

TEST_F(MapSafetensors, NoDataGivesAnEmptyMapping) {
  for (const auto& tensors : {std::vector<safetensors_tensor>{},
                              std::vector<safetensors_tensor>{
                                  tensor("e", safetensors_dtype::F32, {0, 4}, 0, 0)}}) {
    const auto path = write("m.safetensors", tensors, "");
    counting_seam seam;
    mapped_safetensors m = map_safetensors(path, access_mode::read_only);
    EXPECT_TRUE(m.data.is_open());
    EXPECT_EQ(m.data.size(), 0u);
    EXPECT_EQ(m.data.data(), nullptr);
    EXPECT_EQ(m.header.data_size, 0u);
    EXPECT_EQ(m.header.tensors.size(), tensors.size());
    EXPECT_EQ(seam.counts().mmap, 0);
  }
}

TEST_F(MapSafetensors, EmptyFile) {
  const auto path = tmp / "empty.safetensors";
  write_file(path, "");
  auto e = expect_map_error(path, format_errc::truncated);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->what()), "cannot read the safetensors header of '" + path.string() +
                                        "': the file has 0 bytes, fewer than the 8 of the header "
                                        "length");
}

TEST_F(MapSafetensors, FileShorterThanEightBytes) {
  const auto path = tmp / "short.safetensors";
  write_file(path, std::string_view("\x08\0\0", 3));
  auto e = expect_map_error(path, format_errc::truncated);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cause(), "the file has 3 bytes, fewer than the 8 of the header length");
}

// Largest pread(2) request since the fake was installed.
inline std::size_t g_largest_read = 0;

TEST_F(MapSafetensors, HugeLengthIsRefusedBeforeAnyLargeRead) {
  seam_guard seam;
  seam.table().pread = [](int fd, void* buffer, std::size_t count, off_t offset) -> ssize_t {
    g_largest_read = std::max(g_largest_read, count);
    return seam_guard::real().pread(fd, buffer, count, offset);
  };
  const auto path = tmp / "huge.safetensors";
  write_file(path, le64(UINT64_MAX) + "{}");
  g_largest_read = 0;
  auto e = expect_map_error(path, format_errc::header_too_large);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cause(),
            "the header length 18446744073709551615 exceeds the limit of 100000000 bytes");
  EXPECT_EQ(g_largest_read, 8u);

  // Without a cap, the file size still bounds what is read.
  g_largest_read = 0;
  e = expect_map_error(path, format_errc::truncated, {UINT64_MAX});
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->cause(), "but the file has 10"));
  EXPECT_EQ(g_largest_read, 8u);

  // Under the cap but past the end of the file.
  write_file(path, le64(99'999'999) + "{}");
  g_largest_read = 0;
  e = expect_map_error(path, format_errc::truncated);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cause(), "the header length 99999999 needs 8 + 99999999 bytes, but the file has 10");
  EXPECT_EQ(g_largest_read, 8u);
}

TEST_F(MapSafetensors, MalformedHeaderNamesThePath) {
  const auto path = tmp / "bad.safetensors";
  write_file(path, file_of("{" + entry("w", "F32", "[2]", "[0,4]") + "}", 4));
  auto e = expect_map_error(path, format_errc::bad_value);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->what()), "cannot read the safetensors header of '" + path.string() +
                                        "': tensor \"w\": dtype F32 and shape [2] need 8 bytes, "
                                        "but data_offsets [0, 4] span 4");
  write_file(path, file_of("{" + entry("w", "U8", "[4]", "[0,4]") + "}", 3));
  expect_map_error(path, format_errc::out_of_bounds);
  write_file(path, file_of("{" + entry("w", "U8", "[4]", "[0,4]") + "}", 5));
  expect_map_error(path, format_errc::trailing_bytes);
}

TEST_F(MapSafetensors, OsErrors) {
  const std::size_t descriptors = open_descriptor_count();
  auto e = thrown<os_error>([&] { map_safetensors(tmp / "missing", access_mode::read_only); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOENT);
  e = thrown<os_error>([&] { map_safetensors(tmp.dir(), access_mode::read_only); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EISDIR);
  std::error_code ec;
  mapped_safetensors m = map_safetensors(tmp / "missing", access_mode::read_only, {}, ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  EXPECT_FALSE(m.data.is_open());
  EXPECT_EQ(open_descriptor_count(), descriptors);
}

// ---------------------------------------------------------------------------------------
// Files written by the reference implementation (tests/data/safetensors/README.md)

const std::filesystem::path kSamples =
    std::filesystem::path(MMAP_ARRAY_TEST_DATA_DIR) / "safetensors";

template <class T>
std::vector<T> values_of(const mapped_safetensors& m, std::string_view name) {
  const safetensors_tensor* t = find(m.header, name);
  if (t == nullptr) return {};
  std::vector<T> values((t->end - t->begin) / sizeof(T));
  // An empty tensor has no bytes to copy, and memcpy from null is undefined even for 0 bytes.
  if (!values.empty()) {
    std::memcpy(values.data(), m.data.data() + t->begin, values.size() * sizeof(T));
  }
  return values;
}

void expect_tensor(const mapped_safetensors& m, std::string_view name, safetensors_dtype dtype,
                   const shape_t& shape) {
  const safetensors_tensor* t = find(m.header, name);
  if (t == nullptr) return;
  EXPECT_EQ(t->dtype, dtype) << name;
  EXPECT_EQ(t->shape, shape) << name;
}

TEST(ReferenceFiles, Float32WithMetadata) {
  const mapped_safetensors m =
      map_safetensors(kSamples / "f32_with_metadata.safetensors", access_mode::read_only);
  metadata_t metadata = m.header.metadata;
  std::sort(metadata.begin(), metadata.end());
  EXPECT_EQ(metadata, (metadata_t{{"format", "np"}, {"note", "h\xC3\xA9llo \xE2\x9C\x93"}}));
  expect_tensor(m, "weight", safetensors_dtype::F32, {2, 3});
  expect_tensor(m, "bias", safetensors_dtype::F32, {3});
  EXPECT_EQ(values_of<float>(m, "weight"), (std::vector<float>{0, 0.5, 1, 1.5, 2, 2.5}));
  EXPECT_EQ(values_of<float>(m, "bias"), (std::vector<float>{-1, 0, 1}));
  EXPECT_EQ(m.header.data_offset % 8, 0u);
  EXPECT_EQ(m.data.size(), 36u);
  EXPECT_EQ(m.data.offset() + m.data.size(), m.data.identity().size);
}

TEST(ReferenceFiles, NumpyDtypes) {
  const mapped_safetensors m =
      map_safetensors(kSamples / "numpy_dtypes.safetensors", access_mode::copy_on_write);
  EXPECT_TRUE(m.header.metadata.empty());
  EXPECT_EQ(m.header.tensors.size(), 13u);
  expect_tensor(m, "bool", safetensors_dtype::BOOL, {3});
  expect_tensor(m, "u8", safetensors_dtype::U8, {2, 2});
  expect_tensor(m, "i8", safetensors_dtype::I8, {2});
  expect_tensor(m, "i16", safetensors_dtype::I16, {2});
  expect_tensor(m, "u16", safetensors_dtype::U16, {1});
  expect_tensor(m, "i32", safetensors_dtype::I32, {2, 1});
  expect_tensor(m, "u32", safetensors_dtype::U32, {1});
  expect_tensor(m, "i64", safetensors_dtype::I64, {4});
  expect_tensor(m, "u64", safetensors_dtype::U64, {1});
  expect_tensor(m, "f16", safetensors_dtype::F16, {2});
  expect_tensor(m, "f64", safetensors_dtype::F64, {});
  expect_tensor(m, "c64", safetensors_dtype::C64, {1});
  expect_tensor(m, "empty", safetensors_dtype::F32, {0, 3});
  EXPECT_EQ(values_of<std::uint8_t>(m, "bool"), (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_EQ(values_of<std::uint8_t>(m, "u8"), (std::vector<std::uint8_t>{0, 1, 2, 3}));
  EXPECT_EQ(values_of<std::int8_t>(m, "i8"), (std::vector<std::int8_t>{-128, 127}));
  EXPECT_EQ(values_of<std::int16_t>(m, "i16"), (std::vector<std::int16_t>{-2, 3}));
  EXPECT_EQ(values_of<std::uint16_t>(m, "u16"), (std::vector<std::uint16_t>{65535}));
  EXPECT_EQ(values_of<std::int32_t>(m, "i32"), (std::vector<std::int32_t>{-7, 8}));
  EXPECT_EQ(values_of<std::uint32_t>(m, "u32"), (std::vector<std::uint32_t>{4'000'000'000u}));
  EXPECT_EQ(values_of<std::int64_t>(m, "i64"), (std::vector<std::int64_t>{-2, -1, 0, 1}));
  EXPECT_EQ(values_of<std::uint64_t>(m, "u64"), (std::vector<std::uint64_t>{UINT64_MAX}));
  // 1.5 and -2.0 as IEEE half precision.
  EXPECT_EQ(values_of<std::uint16_t>(m, "f16"), (std::vector<std::uint16_t>{0x3E00, 0xC000}));
  EXPECT_EQ(values_of<double>(m, "f64"), (std::vector<double>{3.25}));
  EXPECT_EQ(values_of<std::complex<float>>(m, "c64"),
            (std::vector<std::complex<float>>{{1.0f, 2.0f}}));
  EXPECT_TRUE(values_of<float>(m, "empty").empty());
}

TEST(ReferenceFiles, RawDtypes) {
  const mapped_safetensors m =
      map_safetensors(kSamples / "raw_dtypes.safetensors", access_mode::read_only);
  EXPECT_EQ(m.header.metadata, (metadata_t{{"kind", "raw"}}));
  const std::tuple<std::string_view, safetensors_dtype, shape_t, std::size_t> expected[] = {
      {"bf16", safetensors_dtype::BF16, {2, 2}, 8},
      {"f8_e4m3", safetensors_dtype::F8_E4M3, {4}, 4},
      {"f8_e5m2", safetensors_dtype::F8_E5M2, {3}, 3},
      {"f8_e8m0", safetensors_dtype::F8_E8M0, {2}, 2},
      {"f8_e4m3fnuz", safetensors_dtype::F8_E4M3FNUZ, {1}, 1},
      {"f8_e5m2fnuz", safetensors_dtype::F8_E5M2FNUZ, {1, 1}, 1},
      {"f4", safetensors_dtype::F4, {2, 6}, 6},
  };
  EXPECT_EQ(m.header.tensors.size(), std::size(expected));
  for (const auto& [name, dtype, shape, nbytes] : expected) {
    expect_tensor(m, name, dtype, shape);
    std::vector<std::uint8_t> counting(nbytes);
    for (std::size_t i = 0; i < nbytes; ++i) counting[i] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(values_of<std::uint8_t>(m, name), counting) << name;
  }
}

TEST(ReferenceFiles, NoTensors) {
  const mapped_safetensors m =
      map_safetensors(kSamples / "no_tensors.safetensors", access_mode::read_only);
  EXPECT_TRUE(m.header.tensors.empty());
  EXPECT_EQ(m.header.data_offset, 16u);
  EXPECT_EQ(m.header.data_size, 0u);
  EXPECT_TRUE(m.data.is_open());
  EXPECT_EQ(m.data.size(), 0u);
}

// Our writer's header for the reference file's tensors reads back the same.
TEST(ReferenceFiles, ReformattedHeaderReadsBackTheSame) {
  const mapped_safetensors m =
      map_safetensors(kSamples / "numpy_dtypes.safetensors", access_mode::read_only);
  const std::string header = format_safetensors_header(m.header.tensors, m.header.metadata);
  const std::string data(reinterpret_cast<const char*>(m.data.data()), m.data.size());
  const safetensors_header again = parse(header + data);
  ASSERT_EQ(again.tensors.size(), m.header.tensors.size());
  for (std::size_t i = 0; i < again.tensors.size(); ++i) {
    expect_same_tensor(again.tensors[i], m.header.tensors[i]);
  }
}

}  // namespace
