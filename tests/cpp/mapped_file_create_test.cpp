// mapped_file::create: a new zero-filled file that atomically replaces the
// target, or (on any failure) no change at all and no temporary left behind.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "mmap_array/mapped_file.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::errc;
using mmap_array::layout_error;
using mmap_array::mapped_file;
using mmap_array::os_error;
using namespace mmap_array_test;

std::string_view contents(const mapped_file& m) { return as_text({m.data(), m.size()}); }

class MappedFileCreate : public ::testing::Test {
 protected:
  temp_dir tmp;
};

TEST_F(MappedFileCreate, MakesAZeroFilledFileOfTheSize) {
  const auto path = tmp / "new.bin";
  const std::uint64_t size = 2 * 4096 + 10;
  mapped_file m = mapped_file::create(path, size);
  EXPECT_TRUE(m.is_open());
  EXPECT_EQ(m.mode(), access_mode::read_write);
  EXPECT_EQ(m.path().string(), path.string());
  EXPECT_EQ(m.size(), size);
  EXPECT_EQ(contents(m), std::string(size, '\0'));
  EXPECT_EQ(read_file(path), std::string(size, '\0'));
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"new.bin"});

  const std::string bytes = pattern(size);
  std::memcpy(m.data(), bytes.data(), bytes.size());
  m.flush();
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(m.identity().inode, static_cast<std::uint64_t>(lstat_of(path).st_ino));
}

TEST_F(MappedFileCreate, ReplacesAnExistingFileAtomically) {
  const auto path = tmp / "data.bin";
  const std::string old_bytes = pattern(5000);
  write_file(path, old_bytes);
  mapped_file old = mapped_file::open(path, access_mode::read_only);

  mapped_file fresh = mapped_file::create(path, 3000);
  std::memset(fresh.data(), 'n', fresh.size());
  fresh.flush();

  // The old mapping keeps the old inode: its reader never sees a mix.
  EXPECT_EQ(contents(old), old_bytes);
  EXPECT_NE(fresh.identity().inode, old.identity().inode);
  EXPECT_EQ(read_file(path), std::string(3000, 'n'));
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.bin"});
}

TEST_F(MappedFileCreate, MapsTheRequestedRegion) {
  const auto path = tmp / "data.bin";
  mapped_file m = mapped_file::create(path, 100, {10, 20});
  EXPECT_EQ(m.offset(), 10u);
  EXPECT_EQ(m.size(), 20u);
  std::memset(m.data(), 'x', m.size());
  m.flush();
  EXPECT_EQ(read_file(path), std::string(10, '\0') + std::string(20, 'x') + std::string(70, '\0'));
}

TEST_F(MappedFileCreate, EmptyFileIsCreatedWithoutMmap) {
  const auto path = tmp / "empty.bin";
  counting_seam seam;
  mapped_file m = mapped_file::create(path, 0);
  EXPECT_TRUE(m.is_open());
  EXPECT_EQ(m.data(), nullptr);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(seam.counts().mmap, 0);
  EXPECT_EQ(read_file(path), "");
}

TEST_F(MappedFileCreate, RegionPastTheNewSizeFailsBeforeTouchingTheDisk) {
  const auto path = tmp / "data.bin";
  counting_seam seam;
  auto e = thrown<layout_error>([&] { mapped_file::create(path, 100, {101}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::offset_past_end);
  e = thrown<layout_error>([&] { mapped_file::create(path, 100, {50, 51}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::range_past_end);
  EXPECT_EQ(seam.counts().open, 0);
  EXPECT_TRUE(tmp.names().empty());
}

int fallocate_enospc(int, off_t, off_t) { return ENOSPC; }  // posix_fallocate: no errno

TEST_F(MappedFileCreate, FullDiskLeavesTheOldFileAndNoTemporary) {
  const auto path = tmp / "data.bin";
  const std::string old_bytes = pattern(4000);
  write_file(path, old_bytes);
  const ino_t old_inode = lstat_of(path).st_ino;
  seam_guard guard;
  guard.table().fallocate = fallocate_enospc;

  auto e = thrown<os_error>([&] { mapped_file::create(path, 1 << 20); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOSPC);
  EXPECT_EQ(e->path().string(), path.string());
  EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));

  std::error_code ec;
  mapped_file m = mapped_file::create(path, 1 << 20, {}, ec);
  EXPECT_EQ(ec, std::error_code(ENOSPC, std::system_category()));
  EXPECT_FALSE(m.is_open());

  EXPECT_EQ(read_file(path), old_bytes);
  EXPECT_EQ(lstat_of(path).st_ino, old_inode);
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.bin"});
}

TEST_F(MappedFileCreate, MissingDirectoryIsENOENT) {
  const auto path = tmp / "no" / "such" / "dir.bin";
  auto e = thrown<os_error>([&] { mapped_file::create(path, 10); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOENT);
  EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));
}

// Counts fsync calls by the kind of file synced, to tell the file from its directory.
int g_file_syncs = 0;
int g_directory_syncs = 0;

int classifying_fsync(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ++g_directory_syncs;
  } else {
    ++g_file_syncs;
  }
  return mmap_array::detail::real_syscalls().fsync(fd);
}

TEST_F(MappedFileCreate, FirstFlushAlsoSyncsTheDirectory) {
  // The rename that published the file is only durable once its directory is synced.
  const auto path = tmp / "data.bin";
  mapped_file m = mapped_file::create(path, 64);
  seam_guard guard;
  g_file_syncs = g_directory_syncs = 0;
  guard.table().fsync = classifying_fsync;

  m.flush();
  EXPECT_EQ(g_file_syncs, 1);
  EXPECT_EQ(g_directory_syncs, 1);
  m.flush();
  EXPECT_EQ(g_file_syncs, 2);
  EXPECT_EQ(g_directory_syncs, 1);

  // A plain open never created a directory entry, so it never syncs one.
  mapped_file opened = mapped_file::open(path, access_mode::read_write);
  opened.flush();
  EXPECT_EQ(g_file_syncs, 3);
  EXPECT_EQ(g_directory_syncs, 1);
}

}  // namespace

namespace {

TEST(MappedFileCreateFlush, FlushAfterTheDirectoryIsGoneSucceeds) {
  mmap_array_test::temp_dir tmp;
  std::filesystem::create_directory(tmp / "d");
  const auto path = tmp / "d" / "new.bin";
  mmap_array::mapped_file m = mmap_array::mapped_file::create(path, 16);
  m.as_span<char>()[0] = 'x';
  std::filesystem::remove_all(tmp / "d");
  EXPECT_NO_THROW(m.flush());  // the file and its directory are gone: nothing left to sync
}

}  // namespace
