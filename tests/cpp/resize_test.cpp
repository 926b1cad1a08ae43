// resize_raw_array, resize_npy and npy_header_fits: files grow and shrink in
// place with their old mappings intact, .npy headers are rewritten in place or,
// without room, through a complete new file; a changed file, a full disk and a
// failed write leave the file as it was.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"
#include "mmap_array/raw_array.hpp"
#include "mmap_array/resize.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::file_changed_error;
using mmap_array::layout_error;
using mmap_array::mapped_file;
using mmap_array::mapped_npy;
using mmap_array::npy_dtype;
using mmap_array::os_error;
using mmap_array::state_error;
using namespace mmap_array_test;

using shape_t = std::vector<std::uint64_t>;

std::vector<double> doubles_of(const mapped_file& file) {
  std::vector<double> out(file.size() / sizeof(double));
  if (!out.empty()) std::memcpy(out.data(), file.data(), file.size());
  return out;
}

std::vector<double> doubles_of(std::string_view bytes) {
  std::vector<double> out(bytes.size() / sizeof(double));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

std::string bytes_of(const std::vector<double>& values) {
  return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double)};
}

npy_dtype f8() { return mmap_array::parse_npy_descr("'<f8'"); }

mapped_npy npy_of(const std::filesystem::path& path, const shape_t& shape, bool fortran = false) {
  mapped_npy npy = mmap_array::create_npy(path, f8(), shape, fortran);
  auto values = npy.data.as_span<double>();
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i + 1);
  return npy;
}

mmap_array::npy_header header_on_disk(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  return mmap_array::parse_npy_header(as_bytes(bytes), path);
}

TEST(ResizeRaw, GrowsWithTheTailAfterTheOldDataAndZerosAfterIt) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1, 2, 3}));
  mapped_file old = mmap_array::map_raw_array(path, access_mode::read_write, {.itemsize = 8});
  const std::string tail = bytes_of({4, 5});
  mapped_file grown = mmap_array::resize_raw_array(old, 6 * 8, as_bytes(tail));
  EXPECT_EQ(doubles_of(grown), (std::vector<double>{1, 2, 3, 4, 5, 0}));
  EXPECT_EQ(doubles_of(read_file(path)), (std::vector<double>{1, 2, 3, 4, 5, 0}));
  EXPECT_EQ(grown.identity().size, 48u);
  EXPECT_EQ(grown.identity().inode, old.identity().inode);
  // The old mapping is untouched and shares the page cache with the new one.
  EXPECT_EQ(doubles_of(old), (std::vector<double>{1, 2, 3}));
  grown.as_span<double>()[0] = 42;
  EXPECT_EQ(old.as_span<const double>()[0], 42);
  EXPECT_EQ(old.size(), 24u);
}

TEST(ResizeRaw, ShrinksAndKeepsTheOffset) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, "HEAD" + bytes_of({1, 2, 3, 4}));
  mapped_file old = mmap_array::map_raw_array(path, access_mode::read_write,
                                              {.itemsize = 8, .offset = 4});
  mapped_file small = mmap_array::resize_raw_array(old, 8);
  old.close();
  EXPECT_EQ(doubles_of(small), (std::vector<double>{1}));
  EXPECT_EQ(read_file(path), "HEAD" + bytes_of({1}));
  EXPECT_EQ(small.offset(), 4u);
  mapped_file empty = mmap_array::resize_raw_array(small, 0);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_TRUE(empty.is_open());
  EXPECT_EQ(read_file(path), "HEAD");
  mapped_file again = mmap_array::resize_raw_array(empty, 16);
  EXPECT_EQ(doubles_of(again), (std::vector<double>{0, 0}));
}

TEST(ResizeRaw, RefusesReadOnlyCopyOnWriteAndClosedMappings) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1, 2}));
  for (access_mode mode : {access_mode::read_only, access_mode::copy_on_write}) {
    mapped_file file = mmap_array::map_raw_array(path, mode, {.itemsize = 8});
    auto e = thrown<layout_error>([&] { (void)mmap_array::resize_raw_array(file, 24); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), mmap_array::errc::not_writable);
  }
  mapped_file file = mmap_array::map_raw_array(path, access_mode::read_write, {.itemsize = 8});
  file.close();
  EXPECT_TRUE(thrown<state_error>([&] { (void)mmap_array::resize_raw_array(file, 24); }));
  EXPECT_EQ(read_file(path), bytes_of({1, 2}));
}

TEST(ResizeRaw, RefusesARangeThatDoesNotEndTheFile) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1, 2, 3}));
  mapped_file part = mapped_file::open(path, access_mode::read_write, {0, 8});
  auto e = thrown<layout_error>([&] { (void)mmap_array::resize_raw_array(part, 32); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "only an array that ends the file"));
}

TEST(ResizeRaw, AReplacedOrResizedFileIsFileChangedErrorAndUntouched) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1, 2}));
  mapped_file file = mmap_array::map_raw_array(path, access_mode::read_write, {.itemsize = 8});
  // Another writer appends: the mapping's size is stale.
  write_file(path, bytes_of({1, 2, 3}));
  auto e = thrown<file_changed_error>([&] { (void)mmap_array::resize_raw_array(file, 64); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ESTALE);
  EXPECT_TRUE(contains(e->what(), "size changed from 16 to 24"));
  // Replaced by another file.
  const auto other = dir / "b.bin";
  write_file(other, bytes_of({7, 8}));
  std::filesystem::rename(other, path);
  e = thrown<file_changed_error>([&] { (void)mmap_array::resize_raw_array(file, 64); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "it was replaced"));
  EXPECT_EQ(read_file(path), bytes_of({7, 8}));
  // Deleted.
  std::filesystem::remove(path);
  e = thrown<file_changed_error>([&] { (void)mmap_array::resize_raw_array(file, 64); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "deleted or renamed"));
}

TEST(ResizeRaw, AFullDiskIsEnospcWithTheLengthRestored) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1, 2}));
  mapped_file file = mmap_array::map_raw_array(path, access_mode::read_write, {.itemsize = 8});
  {
    seam_guard seam;
    // Like a filesystem that extends the file part way, then runs out of space.
    seam.table().fallocate = [](int fd, off_t offset, off_t) {
      seam_guard::real().fallocate(fd, offset, 8);
      return ENOSPC;
    };
    auto e = thrown<os_error>([&] { (void)mmap_array::resize_raw_array(file, 1 << 20); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), ENOSPC);
    EXPECT_TRUE(contains(e->what(), "growing the file from 16 to 1048576 bytes"));
  }
  EXPECT_EQ(read_file(path), bytes_of({1, 2}));
  // The mapping is as it was and can still grow.
  mapped_file grown = mmap_array::resize_raw_array(file, 24);
  EXPECT_EQ(doubles_of(grown), (std::vector<double>{1, 2, 0}));
}

TEST(ResizeRaw, AFailedWriteOfTheTailRestoresTheLength) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1, 2}));
  mapped_file file = mmap_array::map_raw_array(path, access_mode::read_write, {.itemsize = 8});
  const std::string tail = bytes_of({3});
  {
    seam_guard seam;
    seam.table().pwrite = [](int, const void*, std::size_t, off_t) -> ssize_t {
      errno = EIO;
      return -1;
    };
    auto e = thrown<os_error>([&] { (void)mmap_array::resize_raw_array(file, 24, as_bytes(tail)); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), EIO);
  }
  EXPECT_EQ(read_file(path), bytes_of({1, 2}));
}

TEST(ResizeRaw, ATailLongerThanTheGrowthIsRefused) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1}));
  mapped_file file = mmap_array::map_raw_array(path, access_mode::read_write, {.itemsize = 8});
  const std::string tail = bytes_of({2, 3});
  EXPECT_TRUE(thrown<layout_error>([&] { (void)mmap_array::resize_raw_array(file, 16, as_bytes(tail)); }));
  EXPECT_EQ(read_file(path), bytes_of({1}));
}

TEST(ResizeRaw, TheErrorCodeFormReportsInsteadOfThrowing) {
  temp_dir dir;
  const auto path = dir / "a.bin";
  write_file(path, bytes_of({1}));
  mapped_file file = mmap_array::map_raw_array(path, access_mode::read_only, {.itemsize = 8});
  std::error_code ec;
  mapped_file result = mmap_array::resize_raw_array(file, 16, {}, ec);
  EXPECT_EQ(ec, mmap_array::errc::not_writable);
  EXPECT_FALSE(result.is_open());
  mapped_file writable = mmap_array::map_raw_array(path, access_mode::read_write, {.itemsize = 8});
  result = mmap_array::resize_raw_array(writable, 16, {}, ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(result.size(), 16u);
}

TEST(ResizeNpy, GrowsInPlaceDataFirstAndKeepsTheDataOffset) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  mapped_npy npy = npy_of(path, {2, 3});
  const std::string tail = bytes_of({7, 8, 9});
  mapped_npy grown = mmap_array::resize_npy(npy.data, npy.header, 4, as_bytes(tail));
  EXPECT_EQ(grown.header.shape, (shape_t{4, 3}));
  EXPECT_EQ(grown.header.data_offset, npy.header.data_offset);
  EXPECT_EQ(grown.data.identity().inode, npy.data.identity().inode);
  EXPECT_EQ(doubles_of(grown.data), (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0}));
  const auto on_disk = header_on_disk(path);
  EXPECT_EQ(on_disk.shape, (shape_t{4, 3}));
  EXPECT_EQ(on_disk.data_offset, npy.header.data_offset);
  EXPECT_EQ(read_file(path).size(), on_disk.data_offset + 12 * 8);
  // The header is NumPy's layout byte for byte: what a fresh file of that shape would hold.
  EXPECT_EQ(read_file(path).substr(0, on_disk.data_offset),
            mmap_array::format_npy_header(f8(), shape_t{4, 3}, false));
  EXPECT_EQ(doubles_of(npy.data), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(ResizeNpy, ShrinksHeaderFirst) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  mapped_npy npy = npy_of(path, {5});
  mapped_npy small = mmap_array::resize_npy(npy.data, npy.header, 2);
  npy.data.close();
  EXPECT_EQ(header_on_disk(path).shape, (shape_t{2}));
  EXPECT_EQ(doubles_of(small.data), (std::vector<double>{1, 2}));
  EXPECT_EQ(read_file(path).size(), small.header.data_offset + 16);
  mapped_npy none = mmap_array::resize_npy(small.data, small.header, 0);
  EXPECT_EQ(header_on_disk(path).shape, (shape_t{0}));
  EXPECT_EQ(read_file(path).size(), none.header.data_offset);
}

TEST(ResizeNpy, FortranOrderGrowsTheLastAxis) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  mapped_npy npy = npy_of(path, {2, 2}, true);
  const std::string tail = bytes_of({5, 6});
  mapped_npy grown = mmap_array::resize_npy(npy.data, npy.header, 3, as_bytes(tail));
  EXPECT_EQ(grown.header.shape, (shape_t{2, 3}));
  EXPECT_TRUE(header_on_disk(path).fortran_order);
  EXPECT_EQ(doubles_of(grown.data), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(ResizeNpy, AHeaderWithoutRoomIsRewrittenAsANewFile) {
  temp_dir dir;
  const auto path = dir / "tight.npy";
  // 10 + 54 = 64 bytes: the text and its newline fill the header exactly.
  const std::string text = "{'descr':'<f8', 'fortran_order':False, 'shape': (9,)}\n";
  ASSERT_EQ(text.size(), 54u);
  std::string prefix = "\x93NUMPY";
  prefix += '\x01';
  prefix += '\0';
  prefix += static_cast<char>(text.size());
  prefix += '\0';
  write_file(path, prefix + text + bytes_of({1, 2, 3, 4, 5, 6, 7, 8, 9}));
  mapped_npy npy = mmap_array::map_npy(path, access_mode::read_write);
  // The header is written in NumPy's spelling, longer than this one's.
  EXPECT_FALSE(mmap_array::npy_header_fits(npy.header, 9));
  EXPECT_FALSE(mmap_array::npy_header_fits(npy.header, 10));
  const std::string tail = bytes_of({10});
  mapped_npy grown = mmap_array::resize_npy(npy.data, npy.header, 10, as_bytes(tail));
  EXPECT_NE(grown.data.identity().inode, npy.data.identity().inode);
  EXPECT_EQ(grown.header.data_offset, 128u);
  EXPECT_EQ(header_on_disk(path).shape, (shape_t{10}));
  EXPECT_EQ(doubles_of(grown.data), (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(dir.names(), (std::vector<std::string>{"tight.npy"}));
  // The new header has NumPy's growth room: the next growth is in place.
  mapped_npy again = mmap_array::resize_npy(grown.data, grown.header, 1000);
  EXPECT_EQ(again.data.identity().inode, grown.data.identity().inode);
  // The old mapping still holds the old file's bytes.
  EXPECT_EQ(doubles_of(npy.data).size(), 9u);
}

TEST(ResizeNpy, AHeaderFitsExactlyUpToItsLastByte) {
  temp_dir dir;
  const auto path = dir / "exact.npy";
  // NumPy's spelling with no padding at all: 10 + 62 = 72 bytes, 8-aligned data.
  const std::string text = "{'descr': '|u1', 'fortran_order': False, 'shape': (99999,), }\n";
  ASSERT_EQ(text.size(), 62u);
  std::string prefix = "\x93NUMPY";
  prefix += '\x01';
  prefix += '\0';
  prefix += static_cast<char>(text.size());
  prefix += '\0';
  write_file(path, prefix + text + std::string(99999, '\x05'));
  mapped_npy npy = mmap_array::map_npy(path, access_mode::read_write);
  EXPECT_TRUE(mmap_array::npy_header_fits(npy.header, 10));
  EXPECT_TRUE(mmap_array::npy_header_fits(npy.header, 99999));
  EXPECT_FALSE(mmap_array::npy_header_fits(npy.header, 100000));
  mapped_npy fits = mmap_array::resize_npy(npy.data, npy.header, 12345);
  EXPECT_EQ(fits.data.identity().inode, npy.data.identity().inode);
  EXPECT_EQ(fits.header.data_offset, 72u);
  EXPECT_EQ(read_file(path).substr(10, 62),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (12345,), }\n");
  EXPECT_EQ(read_file(path).size(), 72u + 12345u);
}

TEST(ResizeNpy, AHeaderChangedByAnotherWriterIsFileChangedError) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  mapped_npy npy = npy_of(path, {4});
  // Same size, other shape: the header was rewritten in place.
  std::string bytes = read_file(path);
  const auto at = bytes.find("(4,)");
  bytes.replace(at, 4, "(2,)");
  write_file(path, bytes);
  auto e = thrown<file_changed_error>([&] { (void)mmap_array::resize_npy(npy.data, npy.header, 8); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "header changed since it was mapped (shape (4,) -> (2,))"));
  EXPECT_EQ(read_file(path), bytes);
}

TEST(ResizeNpy, AFailedHeaderWriteRestoresTheLength) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  mapped_npy npy = npy_of(path, {3});
  const std::string before = read_file(path);
  {
    seam_guard seam;
    seam.table().pwrite = [](int fd, const void* buffer, std::size_t count, off_t offset) -> ssize_t {
      if (offset == 0) {
        errno = EIO;
        return -1;
      }
      return seam_guard::real().pwrite(fd, buffer, count, offset);
    };
    const std::string tail = bytes_of({4});
    auto e = thrown<os_error>([&] { (void)mmap_array::resize_npy(npy.data, npy.header, 5, as_bytes(tail)); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), EIO);
  }
  EXPECT_EQ(read_file(path), before);
}

TEST(ResizeNpy, AFailedCutRestoresTheOldHeader) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  mapped_npy npy = npy_of(path, {3});
  const std::string before = read_file(path);
  {
    seam_guard seam;
    seam.table().ftruncate = [](int, off_t) {
      errno = EPERM;
      return -1;
    };
    auto e = thrown<os_error>([&] { (void)mmap_array::resize_npy(npy.data, npy.header, 1); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), EPERM);
  }
  EXPECT_EQ(read_file(path), before);
}

TEST(ResizeNpy, AZeroDimensionalArrayHasNoAxisToGrow) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  mapped_npy npy = npy_of(path, {});
  EXPECT_TRUE(thrown<layout_error>([&] { (void)mmap_array::resize_npy(npy.data, npy.header, 2); }));
  EXPECT_TRUE(thrown<layout_error>([&] { (void)mmap_array::npy_header_fits(npy.header, 2); }));
}

TEST(ResizeNpy, StaleBytesAfterTheArrayBecomeZeros) {
  temp_dir dir;
  const auto path = dir / "a.npy";
  {
    mapped_npy npy = npy_of(path, {2});
  }
  const std::string junk(24, 'x');
  std::string bytes = read_file(path) + junk;
  write_file(path, bytes);
  mapped_npy npy = mmap_array::map_npy(path, access_mode::read_write);
  mapped_npy grown = mmap_array::resize_npy(npy.data, npy.header, 3);
  EXPECT_EQ(doubles_of(grown.data), (std::vector<double>{1, 2, 0}));
  EXPECT_EQ(read_file(path).size(), grown.header.data_offset + 24);
}

}  // namespace
