// detect_format: the first bytes decide, nothing else is read or trusted.
#include "mmap_array/format.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "mmap_array/error.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::detect_format;
using mmap_array::file_format;
using namespace mmap_array_test;

class FormatDetection : public ::testing::Test {
 protected:
  temp_dir tmp;

  file_format detect(const std::string& bytes) {
    const auto path = tmp / "file";
    write_file(path, bytes);
    return detect_format(path);
  }
};

std::string le64(std::uint64_t n) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return bytes;
}

TEST_F(FormatDetection, NpyByItsMagic) {
  EXPECT_EQ(detect(std::string("\x93NUMPY\x01\x00", 8)), file_format::npy);
  EXPECT_EQ(detect(std::string("\x93NUMPY", 6)), file_format::npy);
  EXPECT_EQ(detect(std::string("\x93NUMP", 5)), file_format::raw);
}

TEST_F(FormatDetection, ZipLocalHeaderOrEmptyArchiveIsNpz) {
  EXPECT_EQ(detect("PK\x03\x04rest"), file_format::npz);
  EXPECT_EQ(detect(std::string("PK\x05\x06", 4) + std::string(18, '\0')), file_format::npz);
  EXPECT_EQ(detect("PK\x01\x02"), file_format::raw);
}

TEST_F(FormatDetection, SafetensorsNeedsAPlausibleLengthThenABrace) {
  EXPECT_EQ(detect(le64(2) + "{}"), file_format::safetensors);
  EXPECT_EQ(detect(le64(8) + "{}      "), file_format::safetensors);
  EXPECT_EQ(detect(le64(9) + "{}      "), file_format::raw);          // past the end of the file
  EXPECT_EQ(detect(le64(100'000'001) + "{}"), file_format::raw);      // above the format's cap
  EXPECT_EQ(detect(le64(2) + "[]"), file_format::raw);
  EXPECT_EQ(detect(le64(~std::uint64_t{0}) + "{}"), file_format::raw);
}

TEST_F(FormatDetection, ShortAndEmptyFilesAreRaw) {
  EXPECT_EQ(detect(""), file_format::raw);
  EXPECT_EQ(detect("x"), file_format::raw);
  EXPECT_EQ(detect(std::string(8, '\0')), file_format::raw);
}

TEST_F(FormatDetection, OsErrorsPropagate) {
  EXPECT_THROW(detect_format(tmp / "missing"), mmap_array::os_error);
  EXPECT_THROW(detect_format(tmp.dir()), mmap_array::os_error);
}

TEST_F(FormatDetection, NamesAreTheFormatsOwn) {
  EXPECT_EQ(mmap_array::to_string(file_format::raw), "raw");
  EXPECT_EQ(mmap_array::to_string(file_format::npy), "npy");
  EXPECT_EQ(mmap_array::to_string(file_format::npz), "npz");
  EXPECT_EQ(mmap_array::to_string(file_format::safetensors), "safetensors");
}

}  // namespace
