// mapped_file: the three access modes, region arithmetic, every refusal (with
// its errno or errc, message and state after), ownership, flush and create().
#include "mmap_array/mapped_file.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::errc;
using mmap_array::file_region;
using mmap_array::layout_error;
using mmap_array::mapped_file;
using mmap_array::os_error;
using mmap_array::state_error;
using namespace mmap_array_test;

constexpr access_mode kAllModes[] = {access_mode::read_only, access_mode::read_write,
                                     access_mode::copy_on_write};

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

std::error_code os_code(int err) { return {err, std::system_category()}; }

std::string_view contents(const mapped_file& m) { return as_text({m.data(), m.size()}); }

class MappedFile : public ::testing::Test {
 protected:
  // Checks both forms of open(): the throwing one throws `E` carrying `expected` and naming
  // `path`; the error_code one reports the same code and returns a closed mapping.
  template <class E>
  std::optional<E> expect_open_error(const std::filesystem::path& path, access_mode mode,
                                     file_region region, std::error_code expected) {
    std::optional<E> e = thrown<E>([&] { mapped_file::open(path, mode, region); });
    if (e) {
      EXPECT_EQ(e->code(), expected) << e->what();
      EXPECT_EQ(e->path().string(), path.string());
      EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));
    }
    std::error_code ec = os_code(EINTR);  // stale value: must be overwritten
    mapped_file m = mapped_file::open(path, mode, region, ec);
    EXPECT_EQ(ec, expected);
    EXPECT_FALSE(m.is_open());
    EXPECT_EQ(m.data(), nullptr);
    EXPECT_EQ(m.size(), 0u);
    return e;
  }

  temp_dir tmp;
};

TEST_F(MappedFile, ReadOnlyShowsTheFile) {
  const auto path = tmp / "data.bin";
  const std::string bytes = pattern(10000);
  write_file(path, bytes);

  mapped_file m = mapped_file::open(path, access_mode::read_only);
  EXPECT_TRUE(m.is_open());
  EXPECT_EQ(m.mode(), access_mode::read_only);
  EXPECT_FALSE(m.writable());
  EXPECT_EQ(m.path().string(), path.string());
  EXPECT_EQ(m.offset(), 0u);
  EXPECT_EQ(m.size(), bytes.size());
  EXPECT_EQ(m.mapped_length(), bytes.size());
  EXPECT_EQ(contents(m), bytes);

  const struct stat st = lstat_of(path);
  EXPECT_EQ(m.identity().device, static_cast<std::uint64_t>(st.st_dev));
  EXPECT_EQ(m.identity().inode, static_cast<std::uint64_t>(st.st_ino));
  EXPECT_EQ(m.identity().size, bytes.size());
  EXPECT_EQ(m.identity().modified_ns,
            std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec);
}

TEST_F(MappedFile, EveryModeShowsTheSameBytes) {
  const auto path = tmp / "data.bin";
  const std::string bytes = pattern(3 * page_size() + 17);
  write_file(path, bytes);
  for (access_mode mode : kAllModes) {
    mapped_file m = mapped_file::open(path, mode);
    EXPECT_EQ(m.mode(), mode);
    EXPECT_EQ(m.writable(), mode != access_mode::read_only);
    EXPECT_EQ(contents(m), bytes);
  }
}

TEST_F(MappedFile, ReadWriteWritesReachTheFileAfterFlush) {
  const auto path = tmp / "data.bin";
  std::string expected = pattern(2 * page_size() + 5);
  write_file(path, expected);

  mapped_file m = mapped_file::open(path, access_mode::read_write);
  m.data()[0] = std::byte{'X'};
  m.data()[m.size() - 1] = std::byte{'Y'};
  expected.front() = 'X';
  expected.back() = 'Y';
  counting_seam seam;
  m.flush();
  // A flush that skipped msync or fsync would still pass the read-back below (the page
  // cache is shared), so the calls themselves are part of the contract.
  EXPECT_EQ(seam.counts().msync, 1);
  EXPECT_EQ(seam.counts().fsync, 1);
  EXPECT_EQ(read_file(path), expected);
  m.close();
  EXPECT_EQ(read_file(path), expected);
}

TEST_F(MappedFile, ReadWriteRegionWritesLandAtTheRegionsOffset) {
  const auto path = tmp / "data.bin";
  std::string expected = pattern(page_size() + 100);
  write_file(path, expected);
  const std::uint64_t offset = page_size() + 7;

  mapped_file m = mapped_file::open(path, access_mode::read_write, {offset, 3});
  std::memcpy(m.data(), "abc", 3);
  m.flush();
  expected.replace(offset, 3, "abc");
  EXPECT_EQ(read_file(path), expected);
}

TEST_F(MappedFile, CopyOnWriteWritesNeverReachTheFile) {
  const auto path = tmp / "data.bin";
  const std::string bytes = pattern(page_size() + 1);
  write_file(path, bytes);

  mapped_file cow = mapped_file::open(path, access_mode::copy_on_write);
  mapped_file other = mapped_file::open(path, access_mode::read_only);
  std::memset(cow.data(), 'Z', cow.size());
  EXPECT_EQ(contents(cow), std::string(bytes.size(), 'Z'));
  {
    counting_seam seam;
    cow.flush();
    EXPECT_EQ(seam.counts().msync, 0);
    EXPECT_EQ(seam.counts().fsync, 0);
  }
  EXPECT_EQ(contents(other), bytes);
  cow.close();
  EXPECT_EQ(read_file(path), bytes);
}

TEST_F(MappedFile, ReadOnlyFlushIsANoOp) {
  const auto path = tmp / "data.bin";
  write_file(path, "abc");
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  counting_seam seam;
  m.flush();
  EXPECT_EQ(seam.counts().msync, 0);
  EXPECT_EQ(seam.counts().fsync, 0);
  EXPECT_EQ(seam.counts().open, 0);
}

TEST_F(MappedFile, EmptyFileMapsNothing) {
  // mmap(2) of zero bytes is EINVAL; an empty file must still open, in every mode.
  const auto path = tmp / "empty.bin";
  write_file(path, "");
  for (access_mode mode : kAllModes) {
    counting_seam seam;
    mapped_file m = mapped_file::open(path, mode);
    EXPECT_TRUE(m.is_open());
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.data(), nullptr);
    EXPECT_EQ(m.mapped_length(), 0u);
    EXPECT_TRUE(m.as_span<const double>().empty());
    m.flush();
    m.close();
    EXPECT_EQ(seam.counts().mmap, 0);
    EXPECT_EQ(seam.counts().munmap, 0);
  }
}

TEST_F(MappedFile, EmptyRegionMapsNothing) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  const file_region regions[] = {{100, std::nullopt}, {10, 0}, {0, 0}, {100, 0}};
  for (const file_region& region : regions) {
    counting_seam seam;
    mapped_file m = mapped_file::open(path, access_mode::read_only, region);
    EXPECT_TRUE(m.is_open());
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.data(), nullptr);
    EXPECT_EQ(m.mapped_length(), 0u);
    EXPECT_EQ(m.offset(), region.offset);
    EXPECT_EQ(seam.counts().mmap, 0) << "offset " << region.offset;
  }
}

TEST_F(MappedFile, UnalignedOffsetPointsAtTheRequestedByte) {
  const auto path = tmp / "data.bin";
  const std::string bytes = pattern(3 * page_size() + 100);
  write_file(path, bytes);

  for (std::uint64_t offset : {std::uint64_t{5}, page_size() + 123, 3 * page_size() + 99}) {
    const std::uint64_t lead = offset % page_size();
    const std::uint64_t length = std::min<std::uint64_t>(1000, bytes.size() - offset);
    mapped_file m = mapped_file::open(path, access_mode::read_only, {offset, length});
    EXPECT_EQ(m.offset(), offset);
    EXPECT_EQ(m.size(), length);
    EXPECT_EQ(m.mapped_length(), length + lead);
    EXPECT_EQ((reinterpret_cast<std::uintptr_t>(m.data()) - lead) % page_size(), 0u);
    EXPECT_EQ(contents(m), std::string_view(bytes).substr(offset, length));

    mapped_file rest = mapped_file::open(path, access_mode::read_only, {offset});
    EXPECT_EQ(rest.size(), bytes.size() - offset);
    EXPECT_EQ(rest.mapped_length(), bytes.size() - offset + lead);
    EXPECT_EQ(contents(rest), std::string_view(bytes).substr(offset));
  }
}

TEST_F(MappedFile, OffsetPastEndIsALayoutError) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  counting_seam seam;
  auto e = expect_open_error<layout_error>(path, access_mode::read_only, {101},
                                           errc::offset_past_end);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->what()),
            "cannot map '" + path.string() + "': offset 101 is past the end of the file (size 100)");
  EXPECT_EQ(seam.counts().mmap, 0);
  EXPECT_EQ(seam.counts().open, seam.counts().close);
}

TEST_F(MappedFile, RangePastEndIsALayoutError) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  auto e = expect_open_error<layout_error>(path, access_mode::read_only, {40, 61},
                                           errc::range_past_end);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->what()), "cannot map '" + path.string() +
                                        "': 61 bytes at offset 40 end past the end of the file "
                                        "(size 100)");
  // offset + length would wrap around 2**64: the check must not be fooled by it.
  expect_open_error<layout_error>(path, access_mode::read_only,
                                  {1, std::numeric_limits<std::uint64_t>::max()},
                                  errc::range_past_end);
  EXPECT_EQ(mapped_file::open(path, access_mode::read_only, {40, 60}).size(), 60u);
}

TEST_F(MappedFile, MissingFileIsENOENT) {
  const auto path = tmp / "missing.bin";
  for (access_mode mode : kAllModes) {
    auto e = expect_open_error<os_error>(path, mode, {}, os_code(ENOENT));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), ENOENT);
    EXPECT_EQ(e->operation(), "open");
    EXPECT_EQ(std::string(e->what()),
              "cannot open '" + path.string() + "': " + std::system_category().message(ENOENT));
  }
  EXPECT_TRUE(tmp.names().empty());
}

TEST_F(MappedFile, DirectoryIsEISDIR) {
  const auto path = tmp / "subdir";
  std::filesystem::create_directory(path);
  for (access_mode mode : kAllModes) {
    auto e = expect_open_error<os_error>(path, mode, {}, os_code(EISDIR));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), EISDIR);
  }
}

TEST_F(MappedFile, FifoIsENODEVWithoutBlocking) {
  // Opening a FIFO for reading waits for a writer unless O_NONBLOCK. SIGALRM's default
  // action kills the process, so such a hang fails here even outside ctest's timeout.
  const auto path = tmp / "pipe";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
  counting_seam seam;
  struct disarm {  // an early ASSERT return must not leave the alarm to kill a later test
    ~disarm() { ::alarm(0); }
  } disarm_on_exit;
  ::alarm(10);
  for (access_mode mode : kAllModes) {
    auto e = expect_open_error<os_error>(path, mode, {}, os_code(ENODEV));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value(), ENODEV);
    EXPECT_TRUE(contains(e->cause(), "FIFO"));
  }
  EXPECT_EQ(seam.counts().mmap, 0);
  EXPECT_EQ(seam.counts().open, seam.counts().close);
}

TEST_F(MappedFile, SocketIsENODEV) {
  // open(2) itself refuses a socket (ENXIO); error.hpp promises ENODEV for every
  // non-regular file, so callers need one errno to handle, not one per file type.
  const auto path = tmp / "socket";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0) << std::strerror(errno);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(path.string().size(), sizeof address.sun_path);
  std::strcpy(address.sun_path, path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0)
      << std::strerror(errno);
  for (access_mode mode : kAllModes) {
    auto e = expect_open_error<os_error>(path, mode, {}, os_code(ENODEV));
    ASSERT_TRUE(e);
    EXPECT_TRUE(contains(e->cause(), "socket"));
  }
  ::close(listener);
}

TEST_F(MappedFile, UnreadableFileIsEACCES) {
  const auto path = tmp / "secret.bin";
  write_file(path, "secret");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  EXPECT_EQ(run_without_permission_override([&] {
              for (access_mode mode : kAllModes) {
                std::error_code ec;
                mapped_file m = mapped_file::open(path, mode, {}, ec);
                if (ec != os_code(EACCES) || m.is_open()) return false;
              }
              return true;
            }),
            0)
      << "some mode did not fail with EACCES";
  // The throwing form reports the same, with errno, operation and path.
  if (::geteuid() != 0) {
    auto e = expect_open_error<os_error>(path, access_mode::read_only, {}, os_code(EACCES));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->operation(), "open");
  }
}

TEST_F(MappedFile, ErrorCodeFormClearsAStaleCodeOnSuccess) {
  const auto path = tmp / "data.bin";
  write_file(path, "abc");
  std::error_code ec = os_code(EIO);
  mapped_file m = mapped_file::open(path, access_mode::read_only, {}, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(contents(m), "abc");
}

TEST_F(MappedFile, DescriptorIsClosedOnceMapped) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(5000));
  const std::size_t before = open_descriptor_count();
  counting_seam seam;
  std::vector<mapped_file> mappings;
  for (access_mode mode : kAllModes) mappings.push_back(mapped_file::open(path, mode, {10}));
  EXPECT_EQ(open_descriptor_count(), before);
  EXPECT_EQ(seam.counts().open, 3);
  EXPECT_EQ(seam.counts().close, 3);
  EXPECT_EQ(seam.counts().mmap, 3);
  for (const mapped_file& m : mappings) EXPECT_EQ(m.size(), 4990u);
}

void* failing_mmap(void*, std::size_t, int, int, int, off_t) {
  errno = ENOMEM;
  return MAP_FAILED;
}

TEST_F(MappedFile, DescriptorIsClosedWhenMmapFails) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  seam_guard guard;
  guard.table().mmap = failing_mmap;
  const std::size_t before = open_descriptor_count();
  counting_seam seam;
  auto e = expect_open_error<os_error>(path, access_mode::read_only, {}, os_code(ENOMEM));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->operation(), "map");
  EXPECT_EQ(seam.counts().open, 2);
  EXPECT_EQ(seam.counts().close, 2);
  EXPECT_EQ(open_descriptor_count(), before);
}

TEST_F(MappedFile, MoveConstructionTransfersOwnership) {
  const auto path = tmp / "data.bin";
  const std::string bytes = pattern(5000);
  write_file(path, bytes);
  counting_seam seam;
  {
    mapped_file first = mapped_file::open(path, access_mode::read_only, {3});
    const std::byte* data = first.data();
    mapped_file second(std::move(first));
    EXPECT_FALSE(first.is_open());  // NOLINT(bugprone-use-after-move): the moved-from state
    EXPECT_EQ(first.data(), nullptr);
    EXPECT_EQ(first.size(), 0u);
    EXPECT_EQ(first.mapped_length(), 0u);
    EXPECT_TRUE(second.is_open());
    EXPECT_EQ(second.data(), data);
    EXPECT_EQ(second.offset(), 3u);
    EXPECT_EQ(second.path().string(), path.string());
    EXPECT_EQ(contents(second), std::string_view(bytes).substr(3));
    EXPECT_THROW(first.as_span<const std::byte>(), state_error);
  }
  EXPECT_EQ(seam.counts().mmap, 1);
  EXPECT_EQ(seam.counts().munmap, 1);
}

TEST_F(MappedFile, MoveAssignmentUnmapsTheOldMappingOnce) {
  const auto path_a = tmp / "a.bin";
  const auto path_b = tmp / "b.bin";
  write_file(path_a, pattern(4000, 1));
  write_file(path_b, pattern(3000, 2));
  counting_seam seam;
  {
    mapped_file a = mapped_file::open(path_a, access_mode::read_only);
    mapped_file b = mapped_file::open(path_b, access_mode::read_write);
    a = std::move(b);
    EXPECT_EQ(seam.counts().munmap, 1);
    EXPECT_FALSE(b.is_open());  // NOLINT(bugprone-use-after-move): the moved-from state
    EXPECT_EQ(b.data(), nullptr);
    EXPECT_EQ(a.path().string(), path_b.string());
    EXPECT_EQ(a.mode(), access_mode::read_write);
    EXPECT_EQ(contents(a), pattern(3000, 2));

    mapped_file empty;
    empty = std::move(a);
    EXPECT_EQ(seam.counts().munmap, 1);
    EXPECT_EQ(contents(empty), pattern(3000, 2));
  }
  EXPECT_EQ(seam.counts().mmap, 2);
  EXPECT_EQ(seam.counts().munmap, 2);
}

TEST_F(MappedFile, CloseIsIdempotent) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  counting_seam seam;
  {
    mapped_file m = mapped_file::open(path, access_mode::read_write);
    m.close();
    m.close();
    EXPECT_FALSE(m.is_open());
    EXPECT_EQ(m.data(), nullptr);
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.mapped_length(), 0u);
  }
  EXPECT_EQ(seam.counts().munmap, 1);
}

TEST_F(MappedFile, AsSpanCoversTheWholeRange) {
  const auto path = tmp / "doubles.bin";
  const double values[] = {1.5, -2.25, 1e300};
  write_file(path, std::string_view(reinterpret_cast<const char*>(values), sizeof values));

  mapped_file m = mapped_file::open(path, access_mode::read_only);
  std::span<const double> doubles = m.as_span<const double>();
  ASSERT_EQ(doubles.size(), 3u);
  EXPECT_EQ(static_cast<const void*>(doubles.data()), static_cast<const void*>(m.data()));
  EXPECT_EQ(doubles[0], 1.5);
  EXPECT_EQ(doubles[1], -2.25);
  EXPECT_EQ(doubles[2], 1e300);
  EXPECT_EQ(m.as_span<const std::uint32_t>().size(), 6u);
  EXPECT_EQ(m.as_span<const std::byte>().size(), 24u);
}

TEST_F(MappedFile, ReadOnlyViewsMustBeConst) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(16));
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  auto e = thrown<layout_error>([&] { m.as_span<std::uint64_t>(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::not_writable);
  EXPECT_EQ(std::string(e->what()), "cannot view '" + path.string() + "': mapping is read-only");

  std::error_code ec;
  EXPECT_TRUE(m.as_span<std::uint64_t>(ec).empty());
  EXPECT_EQ(ec, errc::not_writable);
  EXPECT_EQ(m.as_span<const std::uint64_t>(ec).size(), 2u);
  EXPECT_FALSE(ec);
}

TEST_F(MappedFile, WritableModesGiveMutableViews) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(16));
  for (access_mode mode : {access_mode::read_write, access_mode::copy_on_write}) {
    mapped_file m = mapped_file::open(path, mode);
    std::span<std::uint64_t> view = m.as_span<std::uint64_t>();
    ASSERT_EQ(view.size(), 2u);
    view[1] = 42;
    EXPECT_EQ(m.as_span<const std::uint64_t>()[1], 42u);
  }
}

TEST_F(MappedFile, AsSpanRefusesASizeThatIsNotAMultiple) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(25));
  mapped_file m = mapped_file::open(path, access_mode::read_only);
  auto e = thrown<layout_error>([&] { m.as_span<const double>(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::misaligned);
  std::error_code ec;
  EXPECT_TRUE(m.as_span<const double>(ec).empty());
  EXPECT_EQ(ec, errc::misaligned);
  EXPECT_EQ(m.as_span<const std::byte>().size(), 25u);
}

TEST_F(MappedFile, AsSpanRefusesAMisalignedAddress) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(17));
  mapped_file m = mapped_file::open(path, access_mode::read_only, {1, 16});
  ASSERT_EQ(m.size() % sizeof(double), 0u);  // only the alignment is wrong
  auto e = thrown<layout_error>([&] { m.as_span<const double>(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::misaligned);
  std::error_code ec;
  EXPECT_TRUE(m.as_span<const double>(ec).empty());
  EXPECT_EQ(ec, errc::misaligned);
  EXPECT_EQ(m.as_span<const char>().size(), 16u);
}

TEST_F(MappedFile, ClosedMappingRefusesViewsAndFlush) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(16));
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  m.close();

  auto view_error = thrown<state_error>([&] { m.as_span<const std::byte>(); });
  ASSERT_TRUE(view_error);
  EXPECT_EQ(view_error->code(), errc::closed);
  EXPECT_EQ(std::string(view_error->what()),
            "cannot view '" + path.string() + "': mapping is closed");
  std::error_code ec;
  EXPECT_TRUE(m.as_span<const std::byte>(ec).empty());
  EXPECT_EQ(ec, errc::closed);

  auto flush_error = thrown<state_error>([&] { m.flush(); });
  ASSERT_TRUE(flush_error);
  EXPECT_EQ(flush_error->code(), errc::closed);
  EXPECT_EQ(flush_error->operation(), "flush");
  m.flush(ec);
  EXPECT_EQ(ec, errc::closed);

  mapped_file never_opened;
  EXPECT_THROW(never_opened.flush(), state_error);
}

int g_injected_errno = 0;

int failing_msync(void*, std::size_t, int) {
  errno = g_injected_errno;
  return -1;
}

int failing_fsync(int) {
  errno = g_injected_errno;
  return -1;
}

TEST_F(MappedFile, FlushReportsMsyncFailure) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  seam_guard guard;
  g_injected_errno = EIO;
  guard.table().msync = failing_msync;

  auto e = thrown<os_error>([&] { m.flush(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EIO);
  EXPECT_EQ(e->operation(), "flush");
  EXPECT_EQ(e->path().string(), path.string());
  std::error_code ec;
  m.flush(ec);
  EXPECT_EQ(ec, os_code(EIO));
  EXPECT_TRUE(m.is_open());  // a failed flush may be retried
}

TEST_F(MappedFile, FlushReportsFsyncFailure) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  seam_guard guard;
  g_injected_errno = EIO;
  guard.table().fsync = failing_fsync;

  auto e = thrown<os_error>([&] { m.flush(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EIO);
  EXPECT_EQ(e->operation(), "sync");
  std::error_code ec;
  m.flush(ec);
  EXPECT_EQ(ec, os_code(EIO));
}

int failing_open(const char*, int, mode_t) {
  errno = g_injected_errno;
  return -1;
}

TEST_F(MappedFile, FlushReportsAFailedReopenInsteadOfSkippingTheFsync) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  seam_guard guard;
  g_injected_errno = EMFILE;
  guard.table().open = failing_open;

  auto e = thrown<os_error>([&] { m.flush(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), EMFILE);
  EXPECT_EQ(e->operation(), "sync");
}

TEST_F(MappedFile, FlushOfADeletedFileSyncsTheMappingAndSucceeds) {
  const auto path = tmp / "data.bin";
  write_file(path, pattern(100));
  mapped_file m = mapped_file::open(path, access_mode::read_write);
  m.as_span<char>()[0] = 'Z';
  ASSERT_EQ(::unlink(path.c_str()), 0);
  counting_seam seam;
  m.flush();
  EXPECT_EQ(seam.counts().msync, 1);
  EXPECT_EQ(seam.counts().fsync, 0);  // nothing at the path to fsync; msync wrote the pages
}

TEST_F(MappedFile, ConstMappingGivesConstViews) {
  const auto path = tmp / "data.bin";
  write_file(path, "abcdefgh");
  const mapped_file m = mapped_file::open(path, access_mode::read_write);
  std::span<const char> view = m.as_span<const char>();
  EXPECT_EQ(std::string(view.begin(), view.end()), "abcdefgh");
  std::error_code ec;
  EXPECT_TRUE(m.as_span<const std::uint64_t>(ec).size() == 1 && !ec);
  using triple = std::array<char, 3>;
  EXPECT_TRUE(m.as_span<const triple>(ec).empty());
  EXPECT_EQ(ec, errc::misaligned);
}

TEST_F(MappedFile, OffsetsBeyondFourGiBWork) {
  // Sparse: five GiB of address space in the file, a few blocks on disk.
  const auto path = tmp / "big.bin";
  const std::uint64_t size = 5ull << 30;
  const std::uint64_t offset = (4ull << 30) + 12345;
  write_file(path, "");
  {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0) << std::strerror(errno);
    ASSERT_EQ(::pwrite(fd, "far away", 8, static_cast<off_t>(offset)), 8);
    ::close(fd);
  }

  mapped_file m = mapped_file::open(path, access_mode::read_only, {offset, 8});
  EXPECT_EQ(m.identity().size, size);
  EXPECT_EQ(m.offset(), offset);
  EXPECT_EQ(contents(m), "far away");

  mapped_file w = mapped_file::open(path, access_mode::read_write, {offset + 4, 4});
  std::memcpy(w.data(), "near", 4);
  w.flush();
  char back[8] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::pread(fd, back, 8, static_cast<off_t>(offset)), 8);
  ::close(fd);
  EXPECT_EQ(std::string_view(back, 8), "far near");

  auto e = expect_open_error<layout_error>(path, access_mode::read_only, {size + 1},
                                           errc::offset_past_end);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "offset 5368709121 is past the end of the file (size 5368709120)"));
}

}  // namespace
