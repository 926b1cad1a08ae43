// identify_file: agrees with the identity a mapping records, tells a replaced or resized
// file apart, follows symlinks, and reports failures in both forms.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "mmap_array/mapped_file.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::file_identity;
using mmap_array::identify_file;
using mmap_array::mapped_file;
using mmap_array::os_error;
using namespace mmap_array_test;

TEST(IdentifyFile, EqualsTheIdentityOfAMappingOfTheSameFile) {
  temp_dir dir;
  write_file(dir / "a.bin", pattern(100));
  const mapped_file m = mapped_file::open(dir / "a.bin", access_mode::read_only);
  const file_identity now = identify_file(dir / "a.bin");
  EXPECT_EQ(now, m.identity());
  EXPECT_EQ(now.size, 100u);
  EXPECT_EQ(now.inode, static_cast<std::uint64_t>(lstat_of(dir / "a.bin").st_ino));
}

TEST(IdentifyFile, TellsAReplacedFileApartEvenWithTheSameSize) {
  temp_dir dir;
  write_file(dir / "a.bin", pattern(100));
  const file_identity before = identify_file(dir / "a.bin");
  write_file(dir / "b.bin", pattern(100));
  std::filesystem::rename(dir / "b.bin", dir / "a.bin");
  const file_identity after = identify_file(dir / "a.bin");
  EXPECT_NE(after.inode, before.inode);
  EXPECT_EQ(after.size, before.size);
  EXPECT_NE(after, before);
}

TEST(IdentifyFile, SeesASizeChangeInPlace) {
  temp_dir dir;
  write_file(dir / "a.bin", pattern(100));
  const file_identity before = identify_file(dir / "a.bin");
  ASSERT_EQ(::truncate((dir / "a.bin").c_str(), 50), 0);
  const file_identity after = identify_file(dir / "a.bin");
  EXPECT_EQ(after.inode, before.inode);
  EXPECT_EQ(after.size, 50u);
}

TEST(IdentifyFile, FollowsSymlinks) {
  temp_dir dir;
  write_file(dir / "a.bin", pattern(10));
  std::filesystem::create_symlink(dir / "a.bin", dir / "link");
  EXPECT_EQ(identify_file(dir / "link"), identify_file(dir / "a.bin"));
}

TEST(IdentifyFile, MissingFileIsEnoentInBothForms) {
  temp_dir dir;
  const std::optional<os_error> e = thrown<os_error>([&] { identify_file(dir / "missing"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), std::error_code(ENOENT, std::system_category()));
  EXPECT_TRUE(contains(e->what(), "cannot stat '" + (dir / "missing").string() + "'"));

  std::error_code ec(EINTR, std::system_category());  // stale value: must be overwritten
  const file_identity none = identify_file(dir / "missing", ec);
  EXPECT_EQ(ec, std::error_code(ENOENT, std::system_category()));
  EXPECT_EQ(none, file_identity{});
}

TEST(IdentifyFile, ReportsAFailingStat) {
  temp_dir dir;
  write_file(dir / "a.bin", pattern(10));
  seam_guard seam;
  seam.table().stat = [](const char*, struct stat*) {
    errno = EIO;
    return -1;
  };
  std::error_code ec;
  identify_file(dir / "a.bin", ec);
  EXPECT_EQ(ec, std::error_code(EIO, std::system_category()));
}

}  // namespace
