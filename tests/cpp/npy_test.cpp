// map_npy and create_npy: files NumPy wrote map to the values NumPy put in
// them; broken files fail before anything is mapped, with the file's name and
// the numbers; created files follow the format and replace their target
// atomically, or not at all.
#include <gtest/gtest.h>

#include <cerrno>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::create_npy;
using mmap_array::format_errc;
using mmap_array::format_error;
using mmap_array::layout_error;
using mmap_array::map_npy;
using mmap_array::map_npy_or_raw;
using mmap_array::mapped_npy_or_raw;
using mmap_array::raw_array_spec;
using mmap_array::mapped_npy;
using mmap_array::npy_dtype;
using mmap_array::npy_limits;
using mmap_array::os_error;
using mmap_array::parse_npy_descr;
using namespace mmap_array_test;

using shape_t = std::vector<std::uint64_t>;

const std::filesystem::path kSamples = std::filesystem::path(MMAP_ARRAY_TEST_DATA_DIR) / "npy";

// The sample's data as `T`s, copied out so the view needs no alignment.
template <class T>
std::vector<T> values_of(const mapped_npy& m) {
  EXPECT_EQ(m.data.size() % sizeof(T), 0u);
  std::vector<T> out(m.data.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), m.data.data(), m.data.size());
  return out;
}

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

std::string f8_header(std::string_view shape) {
  return npy_prefix("{'descr': '<f8', 'fortran_order': False, 'shape': " + std::string(shape) +
                    ", }\n");
}

// A header as NumPy writes it, so the data that follows is aligned for typed views.
std::string aligned_f8_header(std::uint64_t n) {
  return mmap_array::format_npy_header(npy_dtype{"<f8", {}, 8}, shape_t{n}, false);
}

class Npy : public ::testing::Test {
 protected:
  // Both forms of map_npy fail on `path` with format error `code`; returns the thrown one.
  std::optional<format_error> expect_map_error(const std::filesystem::path& path, format_errc code,
                                               const npy_limits& limits = {}) {
    auto e = thrown<format_error>([&] { map_npy(path, access_mode::read_only, limits); });
    if (e) {
      EXPECT_EQ(e->code(), code) << e->what();
      EXPECT_EQ(e->path().string(), path.string());
      EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));
    }
    std::error_code ec;
    mapped_npy m = map_npy(path, access_mode::read_only, limits, ec);
    EXPECT_EQ(ec, code);
    EXPECT_FALSE(m.data.is_open());
    return e;
  }

  temp_dir tmp;
};

// ---- files NumPy wrote ----

TEST_F(Npy, ReadsNumpysFloat64Matrix) {
  const mapped_npy m = map_npy(kSamples / "f8_2x3.npy", access_mode::read_only);
  EXPECT_EQ(m.header.major_version, 1);
  EXPECT_EQ(m.header.dtype.typestr, "<f8");
  EXPECT_EQ(m.header.shape, shape_t({2, 3}));
  EXPECT_FALSE(m.header.fortran_order);
  EXPECT_EQ(m.header.data_offset, 128u);
  EXPECT_EQ(m.data.offset(), 128u);
  EXPECT_EQ(m.data.path(), kSamples / "f8_2x3.npy");  // moved in from the temporary
  EXPECT_FALSE(m.data.writable());
  EXPECT_EQ(values_of<double>(m), std::vector<double>({0.0, 0.5, 1.0, 1.5, 2.0, 2.5}));
  // The data is 64-byte aligned in the file, so a typed view works in place.
  EXPECT_EQ(m.data.as_span<const double>().size(), 6u);
}

TEST_F(Npy, ReadsNumpysOtherTypes) {
  mapped_npy m = map_npy(kSamples / "i2_big_endian.npy", access_mode::read_only);
  EXPECT_EQ(m.header.dtype.typestr, ">i2");
  EXPECT_EQ(as_text({m.data.data(), m.data.size()}), std::string("\x00\x01\xFF\xFE\x01\x2C", 6));

  m = map_npy(kSamples / "bool.npy", access_mode::read_only);
  EXPECT_EQ(m.header.dtype.typestr, "|b1");
  EXPECT_EQ(values_of<std::uint8_t>(m), std::vector<std::uint8_t>({1, 0, 1}));

  m = map_npy(kSamples / "c16_scalar.npy", access_mode::read_only);
  EXPECT_TRUE(m.header.shape.empty());
  EXPECT_EQ(values_of<std::complex<double>>(m),
            std::vector<std::complex<double>>({{1.5, -2.0}}));

  m = map_npy(kSamples / "U3.npy", access_mode::read_only);
  EXPECT_EQ(m.header.dtype.typestr, "<U3");
  EXPECT_EQ(m.header.dtype.itemsize, 12u);
  EXPECT_EQ(values_of<char32_t>(m), std::vector<char32_t>({U'a', U'b', 0, U'x', U'y', U'z'}));

  m = map_npy(kSamples / "M8_ns.npy", access_mode::read_only);
  EXPECT_EQ(m.header.dtype.typestr, "<M8[ns]");
  EXPECT_EQ(values_of<std::int64_t>(m), std::vector<std::int64_t>({0, 1'000'000'000}));

  m = map_npy(kSamples / "i8_v2.npy", access_mode::read_only);
  EXPECT_EQ(m.header.major_version, 2);
  EXPECT_EQ(values_of<std::int64_t>(m), std::vector<std::int64_t>({7, -8, 9}));
}

TEST_F(Npy, ReadsNumpysFortranArray) {
  const mapped_npy m = map_npy(kSamples / "i4_fortran.npy", access_mode::read_only);
  EXPECT_TRUE(m.header.fortran_order);
  EXPECT_EQ(m.header.shape, shape_t({2, 3}));
  // [[0, 1, 2], [3, 4, 5]] column by column.
  EXPECT_EQ(values_of<std::int32_t>(m), std::vector<std::int32_t>({0, 3, 1, 4, 2, 5}));
}

TEST_F(Npy, ReadsNumpysEmptyArray) {
  const mapped_npy m = map_npy(kSamples / "u1_0x5.npy", access_mode::read_only);
  EXPECT_EQ(m.header.shape, shape_t({0, 5}));
  EXPECT_EQ(m.header.data_size, 0u);
  EXPECT_TRUE(m.data.is_open());
  EXPECT_EQ(m.data.size(), 0u);
}

TEST_F(Npy, ReadsNumpysAlignedRecord) {
  const mapped_npy m = map_npy(kSamples / "record_aligned.npy", access_mode::read_only);
  const npy_dtype& d = m.header.dtype;
  ASSERT_EQ(d.fields.size(), 6u);
  EXPECT_EQ(d.fields[1].name, "");
  EXPECT_EQ(d.fields[1].type.typestr, "|V6");
  EXPECT_EQ(d.fields[3].shape, shape_t({2}));
  EXPECT_EQ(d.itemsize, 24u);
  ASSERT_EQ(m.data.size(), 48u);
  struct record {
    std::uint16_t id;
    double value;
    std::int16_t pair[2];
    char tag[3];
  };
  static_assert(sizeof(record) == 24);
  record r[2];
  std::memcpy(r, m.data.data(), sizeof r);
  EXPECT_EQ(r[1].id, 2);
  EXPECT_EQ(r[1].value, -8.0);
  EXPECT_EQ(r[1].pair[1], -4);
  EXPECT_EQ(std::string(r[1].tag, 3), "xyz");
  EXPECT_EQ(r[0].pair[0], -1);
}

TEST_F(Npy, ReadsNumpysVersion3) {
  const mapped_npy m = map_npy(kSamples / "v3_unicode_name.npy", access_mode::read_only);
  EXPECT_EQ(m.header.major_version, 3);
  EXPECT_EQ(m.header.dtype.fields.at(0).name, "\xCF\x80");
  EXPECT_EQ(values_of<float>(m), std::vector<float>({1.0f}));
}

// ---- broken files ----

TEST_F(Npy, EmptyAndTinyFiles) {
  const auto path = tmp / "x.npy";
  write_file(path, "");
  expect_map_error(path, format_errc::truncated);
  write_file(path, "abc");
  auto e = expect_map_error(path, format_errc::bad_magic);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "starts with 61 62 63"));
  write_file(path, "\x93NUM");
  expect_map_error(path, format_errc::truncated);
  write_file(path, std::string("\x93NUMPY\x01\x00\x00", 9));
  expect_map_error(path, format_errc::truncated);
  write_file(path, std::string("\x93NUMPY\x02\x00\x00\x00\x00", 11));
  expect_map_error(path, format_errc::truncated);
  write_file(path, std::string("\x93NUMPY\x07\x00", 8));
  expect_map_error(path, format_errc::unsupported_version);
}

TEST_F(Npy, HeaderLengthIsCheckedAgainstTheCapThenTheFileBeforeReading) {
  const auto path = tmp / "x.npy";
  // The length says 4 GiB: refused by the cap without allocating or reading it ...
  write_file(path, std::string("\x93NUMPY\x02\x00\xFF\xFF\xFF\xFF", 12) + "{}");
  auto e = expect_map_error(path, format_errc::header_too_large);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "header of 4294967295 bytes exceeds the limit of 10000 bytes"));
  // ... and with no cap to speak of, by the file's size, still without allocating 4 GiB.
  e = expect_map_error(path, format_errc::truncated, npy_limits{.max_header_size = 1ull << 40});
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "ends at byte 4294967307, past the end of the file (size 14)"));
}

TEST_F(Npy, HeaderPastTheEndOfTheFile) {
  const auto path = tmp / "x.npy";
  const std::string full = f8_header("(3,)");
  write_file(path, full.substr(0, full.size() - 5));
  expect_map_error(path, format_errc::truncated);
}

TEST_F(Npy, DataPastTheEndOfTheFile) {
  const auto path = tmp / "x.npy";
  const std::string header = f8_header("(3,)");
  write_file(path, header + std::string(23, 'x'));
  auto e = expect_map_error(path, format_errc::out_of_bounds);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "the array's 24 bytes at offset " +
                                      std::to_string(header.size()) +
                                      " end past the end of the file (size " +
                                      std::to_string(header.size() + 23) + ")"));
}

TEST_F(Npy, TrailingBytesAreAllowedAndNotMapped) {
  const auto path = tmp / "x.npy";
  const std::string header = f8_header("(1,)");
  const double value = 3.25;
  write_file(path, header + std::string(reinterpret_cast<const char*>(&value), 8) + "trailer");
  const mapped_npy m = map_npy(path, access_mode::read_only);
  EXPECT_EQ(m.data.size(), 8u);
  EXPECT_EQ(values_of<double>(m), std::vector<double>({3.25}));
}

TEST_F(Npy, MalformedHeadersInFiles) {
  const auto path = tmp / "x.npy";
  write_file(path, npy_prefix("{'descr': '<f8', 'shape': (3,)}") + std::string(24, 'x'));
  expect_map_error(path, format_errc::bad_keys);
  write_file(path, npy_prefix("{'descr': '|O', 'fortran_order': False, 'shape': (3,)}"));
  expect_map_error(path, format_errc::object_dtype);
  write_file(path, f8_header("(-3,)"));
  expect_map_error(path, format_errc::bad_value);
  write_file(path, f8_header("(4294967296, 4294967296)"));
  expect_map_error(path, format_errc::size_overflow);
  write_file(path, npy_prefix("{'descr': '<f8', 'fortran_order': False, 'shape': (3,"));
  expect_map_error(path, format_errc::bad_syntax);
}

TEST_F(Npy, OsErrorsNameTheFile) {
  const auto path = tmp / "missing.npy";
  auto e = thrown<os_error>([&] { map_npy(path, access_mode::read_only); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOENT);
  EXPECT_TRUE(contains(e->what(), path.string()));
  std::error_code ec;
  map_npy(tmp.dir(), access_mode::read_only, {}, ec);
  EXPECT_EQ(ec, std::error_code(EISDIR, std::system_category()));
}

// ---- access modes ----

TEST_F(Npy, ReadWriteMappingWritesTheFile) {
  const auto path = tmp / "x.npy";
  write_file(path, aligned_f8_header(2) + std::string(16, '\0'));
  {
    mapped_npy m = map_npy(path, access_mode::read_write);
    std::span<double> view = m.data.as_span<double>();
    view[1] = 42.0;
    m.data.flush();
  }
  const mapped_npy again = map_npy(path, access_mode::read_only);
  EXPECT_EQ(values_of<double>(again), std::vector<double>({0.0, 42.0}));
}

TEST_F(Npy, CopyOnWriteLeavesTheFileAlone) {
  const auto path = tmp / "x.npy";
  const std::string bytes = aligned_f8_header(2) + std::string(16, '\0');
  write_file(path, bytes);
  mapped_npy m = map_npy(path, access_mode::copy_on_write);
  m.data.as_span<double>()[0] = 1.0;
  EXPECT_EQ(values_of<double>(m), std::vector<double>({1.0, 0.0}));
  EXPECT_EQ(read_file(path), bytes);
}

// ---- create_npy ----

// Checks the file at `path` by the format's rules, independently of the parser: magic,
// version, a length that puts the data at a multiple of 64, a header ending in '\n', and
// exactly header + data bytes.
void expect_well_formed(const std::filesystem::path& path, std::uint64_t data_size) {
  const std::string bytes = read_file(path);
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[7], '\0');
  std::size_t offset = 0;
  if (bytes[6] == 1) {
    offset = 10 + (std::size_t{static_cast<unsigned char>(bytes[8])} |
                   std::size_t{static_cast<unsigned char>(bytes[9])} << 8);
  } else {
    ASSERT_TRUE(bytes[6] == 2 || bytes[6] == 3);
    std::uint32_t length = 0;
    std::memcpy(&length, bytes.data() + 8, 4);  // little-endian hosts only, like the tests
    offset = 12 + length;
  }
  EXPECT_EQ(offset % 64, 0u);
  ASSERT_LE(offset, bytes.size());
  EXPECT_EQ(bytes[offset - 1], '\n');
  EXPECT_EQ(bytes.size(), offset + data_size);
}

// NumPy itself loads the file at `path` and prints `expression` of it (the array is `a`).
std::string numpy_says(const std::filesystem::path& path, const std::string& expression) {
  const std::filesystem::path out = path.string() + ".out";
  const std::string command = "python3 -c \"import sys, numpy as np; a = np.load(sys.argv[1]); "
                              "print(" + expression + ", end='')\" '" + path.string() +
                              "' > '" + out.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::string text = std::filesystem::exists(out) ? read_file(out) : std::string();
  std::filesystem::remove(out);
  return status == 0 ? text : "(failed: " + text + ")";
}

bool have_numpy() { return std::system("python3 -c 'import numpy' > /dev/null 2>&1") == 0; }

TEST_F(Npy, CreateThenMapRoundTrips) {
  const auto path = tmp / "new.npy";
  const shape_t shape = {3, 4};
  {
    mapped_npy m = create_npy(path, npy_dtype{"<i4", {}, 4}, shape, false);
    EXPECT_EQ(m.header.dtype.itemsize, 4u);
    EXPECT_EQ(m.header.data_offset, 128u);
    EXPECT_EQ(m.header.data_size, 48u);
    EXPECT_EQ(m.data.offset(), 128u);
    EXPECT_EQ(m.data.mode(), access_mode::read_write);
    std::span<std::int32_t> view = m.data.as_span<std::int32_t>();
    for (std::size_t i = 0; i < view.size(); ++i) {
      EXPECT_EQ(view[i], 0);  // zero-filled
      view[i] = static_cast<std::int32_t>(i * i) - 5;
    }
    m.data.flush();
  }
  expect_well_formed(path, 48);
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"new.npy"});
  const mapped_npy back = map_npy(path, access_mode::read_only);
  EXPECT_EQ(back.header.shape, shape);
  EXPECT_EQ(back.header.dtype.typestr, "<i4");
  const std::vector<std::int32_t> values = values_of<std::int32_t>(back);
  ASSERT_EQ(values.size(), 12u);
  EXPECT_EQ(values[11], 116);

  if (!have_numpy()) GTEST_SKIP() << "python3 with numpy is not available";
  EXPECT_EQ(numpy_says(path, "a.dtype.str, a.shape, int(a[2, 3]), a.flags.f_contiguous"),
            "<i4 (3, 4) 116 False");
}

TEST_F(Npy, CreateRecordsFortranAndUnicodeForNumpy) {
  const auto path = tmp / "rec.npy";
  const npy_dtype dtype =
      parse_npy_descr("[('\xCF\x80', '<f8'), ('', '|V8'), ('pair', '<i2', (2,))]");
  {
    mapped_npy m = create_npy(path, dtype, shape_t{2, 3}, true);
    EXPECT_EQ(m.header.major_version, 3);
    EXPECT_EQ(m.header.dtype.itemsize, 20u);
    const double pi = 3.5;
    std::memcpy(m.data.data() + 20, &pi, 8);  // element [1, 0] in Fortran order
    m.data.flush();
  }
  expect_well_formed(path, 120);
  const mapped_npy back = map_npy(path, access_mode::read_only);
  EXPECT_TRUE(back.header.fortran_order);
  EXPECT_EQ(back.header.dtype.fields[0].name, "\xCF\x80");

  if (!have_numpy()) GTEST_SKIP() << "python3 with numpy is not available";
  EXPECT_EQ(numpy_says(path, "a.dtype.names, a.shape, a.flags.f_contiguous, float(a[1, 0][0])"),
            "('\xCF\x80', 'pair') (2, 3) True 3.5");
}

TEST_F(Npy, CreateZeroDimensionalAndEmptyArrays) {
  const auto scalar = tmp / "scalar.npy";
  mapped_npy m = create_npy(scalar, npy_dtype{"<c8", {}, 8}, shape_t{}, false);
  EXPECT_EQ(m.data.size(), 8u);
  expect_well_formed(scalar, 8);

  const auto empty = tmp / "empty.npy";
  m = create_npy(empty, npy_dtype{"<f8", {}, 8}, shape_t{0, 4}, false);
  EXPECT_TRUE(m.data.is_open());
  EXPECT_EQ(m.data.size(), 0u);
  expect_well_formed(empty, 0);
  EXPECT_EQ(map_npy(empty, access_mode::read_only).header.shape, shape_t({0, 4}));
}

TEST_F(Npy, CreateReplacesAnExistingFileAtomically) {
  const auto path = tmp / "data.npy";
  write_file(path, f8_header("(1,)") + std::string(8, 'o'));
  const mapped_npy old_mapping = map_npy(path, access_mode::read_only);
  mapped_npy m = create_npy(path, npy_dtype{"|u1", {}, 1}, shape_t{5}, false);
  std::memset(m.data.data(), 'n', 5);
  m.data.flush();
  EXPECT_EQ(read_file(path).substr(128), "nnnnn");
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.npy"});
  // The old mapping keeps the old inode: its reader never sees a mix.
  EXPECT_EQ(as_text({old_mapping.data.data(), old_mapping.data.size()}), std::string(8, 'o'));
}

TEST_F(Npy, InvalidDtypeFailsBeforeTouchingTheDisk) {
  const auto path = tmp / "bad.npy";
  counting_seam seam;
  auto e = thrown<format_error>(
      [&] { create_npy(path, npy_dtype{"|O", {}, 8}, shape_t{3}, false); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::object_dtype);
  EXPECT_EQ(e->operation(), "create");
  EXPECT_TRUE(contains(e->what(), "cannot create '" + path.string() + "'"));
  std::error_code ec;
  create_npy(path, npy_dtype{"<f8", {}, 8}, shape_t{1ull << 62, 8}, false, ec);
  EXPECT_EQ(ec, format_errc::size_overflow);
  EXPECT_EQ(seam.counts().open, 0);
  EXPECT_TRUE(tmp.names().empty());
}

int fallocate_enospc(int, off_t, off_t) { return ENOSPC; }  // posix_fallocate: no errno

TEST_F(Npy, FullDiskLeavesTheOldFileAndNoTemporary) {
  const auto path = tmp / "data.npy";
  const std::string old_bytes = pattern(4000);
  write_file(path, old_bytes);
  const ino_t old_inode = lstat_of(path).st_ino;
  seam_guard guard;
  guard.table().fallocate = fallocate_enospc;

  auto e = thrown<os_error>(
      [&] { create_npy(path, npy_dtype{"<f8", {}, 8}, shape_t{1000, 1000}, false); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOSPC);
  EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));

  std::error_code ec;
  mapped_npy m = create_npy(path, npy_dtype{"<f8", {}, 8}, shape_t{1000}, false, ec);
  EXPECT_EQ(ec, std::error_code(ENOSPC, std::system_category()));
  EXPECT_FALSE(m.data.is_open());

  EXPECT_EQ(read_file(path), old_bytes);
  EXPECT_EQ(lstat_of(path).st_ino, old_inode);
  EXPECT_EQ(tmp.names(), std::vector<std::string>{"data.npy"});
}

}  // namespace

// ---- map_npy_or_raw: one open tells .npy from raw ----

TEST_F(Npy, NpyOrRawMapsAnNpyFileAsMapNpyDoesWithOneOpenAndOneRead) {
  const std::filesystem::path path = tmp / "a.npy";
  write_file(path, aligned_f8_header(3) + std::string(24, '\x01'));
  const raw_array_spec ignored{8, 0, shape_t{5}};  // would not fit: an .npy file ignores it
  counting_seam seam;
  const mapped_npy_or_raw m = map_npy_or_raw(path, access_mode::read_only, ignored);
  EXPECT_EQ(seam.counts().open, 1);
  EXPECT_EQ(seam.counts().pread, 1);
  ASSERT_TRUE(m.header.has_value());
  EXPECT_EQ(m.header->shape, shape_t{3});
  EXPECT_EQ(m.data.offset(), m.header->data_offset);
  EXPECT_EQ(m.data.size(), 24u);
  EXPECT_EQ(m.data.path(), path);
}

TEST_F(Npy, NpyOrRawMapsAnyOtherFileAsTheRawArrayWithOneOpen) {
  const std::filesystem::path path = tmp / "a.bin";
  write_file(path, std::string(4, 'h') + std::string(16, '\x02'));
  counting_seam seam;
  const mapped_npy_or_raw m =
      map_npy_or_raw(path, access_mode::read_only, raw_array_spec{8, 4, shape_t{2}});
  EXPECT_EQ(seam.counts().open, 1);
  EXPECT_EQ(seam.counts().pread, 1);
  EXPECT_FALSE(m.header.has_value());
  EXPECT_EQ(m.data.offset(), 4u);
  EXPECT_EQ(m.data.size(), 16u);
  EXPECT_EQ(as_text({m.data.data(), m.data.size()}), std::string(16, '\x02'));
}

TEST_F(Npy, NpyOrRawNeedsTheWholeMagicToCallAFileNpy) {
  // As detect_format: the first bytes of the magic alone are a raw file, the empty file too;
  // the whole magic with a broken preamble is a broken .npy file.
  for (const std::string& bytes : {std::string("\x93NU"), std::string()}) {
    const std::filesystem::path path = tmp / "short.bin";
    write_file(path, bytes);
    const mapped_npy_or_raw m = map_npy_or_raw(path, access_mode::read_only, raw_array_spec{});
    EXPECT_FALSE(m.header.has_value());
    EXPECT_EQ(m.data.size(), bytes.size());
  }
  const std::filesystem::path path = tmp / "broken.npy";
  write_file(path, std::string("\x93NUMPY\x01", 7));
  const auto e = thrown<format_error>(
      [&] { map_npy_or_raw(path, access_mode::read_only, raw_array_spec{}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), format_errc::truncated);
  EXPECT_TRUE(contains(e->what(), path.string()));
}

TEST_F(Npy, NpyOrRawReportsARawFileThatDoesNotFitAndABadSpecBeforeOpening) {
  const std::filesystem::path path = tmp / "a.bin";
  write_file(path, std::string(10, 'x'));
  const auto misfit = thrown<layout_error>(
      [&] { map_npy_or_raw(path, access_mode::read_only, raw_array_spec{4, 0, {}}); });
  ASSERT_TRUE(misfit);
  EXPECT_EQ(misfit->code(), mmap_array::errc::size_not_multiple);

  counting_seam seam;
  std::error_code ec;
  const mapped_npy_or_raw m =
      map_npy_or_raw(path, access_mode::read_only, raw_array_spec{0, 0, {}}, {}, ec);
  EXPECT_EQ(ec, mmap_array::errc::invalid_itemsize);
  EXPECT_FALSE(m.data.is_open());
  EXPECT_EQ(seam.counts().open, 0);
}
