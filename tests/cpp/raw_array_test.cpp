// raw_array: the declared item size, offset and shape are checked against the
// file before anything is mapped, and every mismatch names its numbers.
#include "mmap_array/raw_array.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::errc;
using mmap_array::layout_error;
using mmap_array::mapped_file;
using mmap_array::raw_array_spec;
using namespace mmap_array_test;

using shape_t = std::vector<std::uint64_t>;

constexpr std::uint64_t k2To40 = std::uint64_t{1} << 40;

raw_array_spec spec(std::size_t itemsize, std::uint64_t offset = 0,
                    std::optional<shape_t> shape = std::nullopt) {
  return {itemsize, offset, std::move(shape)};
}

class RawArray : public ::testing::Test {
 protected:
  // Both forms of map_raw_array fail with layout error `code`; returns the thrown one.
  std::optional<layout_error> expect_map_error(const std::filesystem::path& path,
                                               const raw_array_spec& s, errc code) {
    auto e = thrown<layout_error>([&] { map_raw_array(path, access_mode::read_only, s); });
    if (e) {
      EXPECT_EQ(e->code(), code) << e->what();
    }
    std::error_code ec;
    mapped_file m = map_raw_array(path, access_mode::read_only, s, ec);
    EXPECT_EQ(ec, code);
    EXPECT_FALSE(m.is_open());
    return e;
  }

  // Both forms of create_raw_array fail with layout error `code`, before any syscall.
  std::optional<layout_error> expect_create_error(const std::filesystem::path& path,
                                                  const raw_array_spec& s, errc code) {
    counting_seam seam;
    auto e = thrown<layout_error>([&] { create_raw_array(path, s); });
    if (e) {
      EXPECT_EQ(e->code(), code) << e->what();
      EXPECT_EQ(e->operation(), "create") << e->what();
    }
    std::error_code ec;
    mapped_file m = create_raw_array(path, s, ec);
    EXPECT_EQ(ec, code);
    EXPECT_FALSE(m.is_open());
    EXPECT_EQ(seam.counts().open, 0);
    EXPECT_TRUE(tmp.names().empty());
    return e;
  }

  temp_dir tmp;
};

TEST_F(RawArray, WithoutShapeMapsTheWholeFile) {
  const auto path = tmp / "data.f64";
  const double values[] = {1.0, 2.5, -4.0};
  write_file(path, std::string_view(reinterpret_cast<const char*>(values), sizeof values));
  mapped_file m = map_raw_array(path, access_mode::read_only, spec(8));
  EXPECT_EQ(m.size(), 24u);
  EXPECT_EQ(m.offset(), 0u);
  const std::span<const double> view = m.as_span<const double>();
  ASSERT_EQ(view.size(), 3u);
  EXPECT_EQ(view[2], -4.0);
}

TEST_F(RawArray, KeepsThePathItWasGivenCopiedOrMovedIn) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(16));
  const std::filesystem::path relative = path.lexically_relative(std::filesystem::current_path());
  for (const std::filesystem::path& given : {path, relative}) {
    std::filesystem::path moved = given;
    const mapped_file copied = map_raw_array(given, access_mode::read_only, spec(4));
    const mapped_file taken = map_raw_array(std::move(moved), access_mode::read_only, spec(4));
    EXPECT_EQ(copied.path(), given);
    EXPECT_EQ(taken.path(), given);
  }
}

TEST_F(RawArray, WithoutShapeStartsAtTheOffset) {
  const auto path = tmp / "data.bin";
  const std::string bytes = pattern(8 + 12);
  write_file(path, bytes);
  mapped_file m = map_raw_array(path, access_mode::read_only, spec(4, 8));
  EXPECT_EQ(m.offset(), 8u);
  EXPECT_EQ(m.size(), 12u);
  EXPECT_EQ(as_text({m.data(), m.size()}), std::string_view(bytes).substr(8));
}

TEST_F(RawArray, SizeNotAMultipleOfTheItemsize) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(13));
  auto e = expect_map_error(path, spec(8), errc::size_not_multiple);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->what()),
            "cannot map '" + path.string() + "': file size 13 is not a multiple of itemsize 8");

  e = expect_map_error(path, spec(4, 3), errc::size_not_multiple);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), path.filename().string()));
  EXPECT_TRUE(contains(e->what(), "10 bytes after offset 3"));
  EXPECT_TRUE(contains(e->what(), "file size 13"));
  EXPECT_TRUE(contains(e->what(), "itemsize 4"));
}

TEST_F(RawArray, ExplicitShapeThatFitsExactly) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(4 + 24));
  mapped_file m = map_raw_array(path, access_mode::read_write, spec(4, 4, shape_t{2, 3}));
  EXPECT_EQ(m.size(), 24u);
  EXPECT_EQ(m.as_span<std::uint32_t>().size(), 6u);

  mapped_file scalar = map_raw_array(path, access_mode::read_only, spec(4, 24, shape_t{}));
  EXPECT_EQ(scalar.size(), 4u);
}

TEST_F(RawArray, ShapeThatDoesNotCoverTheFile) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(24));
  auto e = expect_map_error(path, spec(4, 0, shape_t{2, 2}), errc::shape_mismatch);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->what()), "cannot map '" + path.string() +
                                        "': shape (2, 2) of 4-byte items needs 16 bytes after "
                                        "offset 0, but the file has 24 (file size 24)");

  e = expect_map_error(path, spec(4, 0, shape_t{2, 4}), errc::shape_mismatch);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "shape (2, 4)"));
  EXPECT_TRUE(contains(e->what(), "needs 32 bytes"));
  EXPECT_TRUE(contains(e->what(), "the file has 24"));

  e = expect_map_error(path, spec(8, 0, shape_t{4}), errc::shape_mismatch);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "shape (4,)"));
}

TEST_F(RawArray, OffsetPastTheEnd) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(24));
  auto e = expect_map_error(path, spec(4, 25), errc::offset_past_end);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "offset 25"));
  EXPECT_TRUE(contains(e->what(), "size 24"));
  expect_map_error(path, spec(4, 25, shape_t{}), errc::offset_past_end);
}

TEST_F(RawArray, ZeroItemsizeIsRefusedBeforeAnySyscall) {
  // The path does not exist: a check made after open() would report ENOENT instead.
  const auto path = tmp / "missing.bin";
  {
    counting_seam seam;
    auto e = expect_map_error(path, spec(0), errc::invalid_itemsize);
    ASSERT_TRUE(e);
    EXPECT_TRUE(contains(e->what(), "item size must be at least 1 byte"));
    EXPECT_EQ(seam.counts().open, 0);
  }
  expect_create_error(path, spec(0, 0, shape_t{4}), errc::invalid_itemsize);
}

TEST_F(RawArray, ShapeOverflowIsRefused) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(16));
  auto e = expect_map_error(path, spec(1, 0, shape_t{k2To40, k2To40}), errc::size_overflow);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "(1099511627776, 1099511627776)"));
  // The item count fits in 64 bits, the byte count does not.
  e = expect_map_error(path, spec(8, 0, shape_t{std::uint64_t{1} << 62}), errc::size_overflow);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "8-byte items"));

  std::filesystem::remove(path);
  expect_create_error(path, spec(1, 0, shape_t{k2To40, k2To40}), errc::size_overflow);
  expect_create_error(path, spec(8, 0, shape_t{std::uint64_t{1} << 62}), errc::size_overflow);
  expect_create_error(path, spec(8, ~std::uint64_t{0}, shape_t{1}), errc::size_overflow);
}

TEST(ItemCount, MultipliesTheDimensions) {
  EXPECT_EQ(mmap_array::item_count(shape_t{}, "p"), 1u);
  EXPECT_EQ(mmap_array::item_count(shape_t{7}, "p"), 7u);
  EXPECT_EQ(mmap_array::item_count(shape_t{2, 3, 4}, "p"), 24u);
  EXPECT_EQ(mmap_array::item_count(shape_t{5, 0, 3}, "p"), 0u);
  EXPECT_EQ(mmap_array::item_count(shape_t{std::uint64_t{1} << 32, std::uint64_t{1} << 31}, "p"),
            std::uint64_t{1} << 63);
}

TEST(ItemCount, OverflowIsALayoutError) {
  auto e = thrown<layout_error>([] { mmap_array::item_count(shape_t{k2To40, k2To40}, "p.bin"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::size_overflow);
  EXPECT_EQ(e->path().string(), "p.bin");
  EXPECT_THROW(mmap_array::item_count(shape_t{std::uint64_t{1} << 32, std::uint64_t{1} << 32}, "p"),
               layout_error);
}

TEST_F(RawArray, CreateNeedsAShape) {
  const auto path = tmp / "new.bin";
  auto e = expect_create_error(path, spec(8), errc::missing_shape);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));
}

TEST_F(RawArray, CreateMakesAZeroFilledFileOfOffsetPlusBytes) {
  const auto path = tmp / "new.f64";
  {
    mapped_file m = create_raw_array(path, spec(8, 16, shape_t{2, 3}));
    EXPECT_EQ(m.mode(), access_mode::read_write);
    EXPECT_EQ(m.offset(), 16u);
    EXPECT_EQ(m.size(), 48u);
    EXPECT_EQ(read_file(path), std::string(16 + 48, '\0'));
    std::span<double> values = m.as_span<double>();
    ASSERT_EQ(values.size(), 6u);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) + 0.5;
    m.flush();
  }
  EXPECT_EQ(read_file(path).substr(0, 16), std::string(16, '\0'));
  mapped_file back = map_raw_array(path, access_mode::read_only, spec(8, 16, shape_t{3, 2}));
  const std::span<const double> values = back.as_span<const double>();
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values[0], 0.5);
  EXPECT_EQ(values[5], 5.5);
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"new.f64"});
}

}  // namespace
