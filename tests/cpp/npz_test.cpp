// map_npz: archives NumPy and Python wrote map to their arrays in place;
// every malformed zip structure, and every malformed member, fails the open
// with bad_archive (or the member's own .npy error) naming the member and the
// numbers. Crafted archives come from a small zip writer below.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"
#include "mmap_array/npz.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::format_errc;
using mmap_array::format_error;
using mmap_array::map_npz;
using mmap_array::mapped_npz;
using mmap_array::npy_dtype;
using mmap_array::npy_limits;
using mmap_array::npz_member;
using mmap_array::os_error;
using namespace mmap_array_test;

using shape_t = std::vector<std::uint64_t>;

const std::filesystem::path kSamples = std::filesystem::path(MMAP_ARRAY_TEST_DATA_DIR) / "npz";

// ---- a zip writer for crafted archives ----

void put(std::string& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

void poke(std::string& bytes, std::size_t at, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) {
    bytes[at + static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xFF);
  }
}

struct member_spec {
  member_spec(std::string name_, std::string data_, std::uint16_t method_ = 0,
              std::uint16_t flags_ = 0, std::int64_t uncompressed_ = -1, bool zip64_ = false,
              std::string local_extra_ = {})
      : name(std::move(name_)),
        data(std::move(data_)),
        method(method_),
        flags(flags_),
        uncompressed(uncompressed_),
        zip64(zip64_),
        local_extra(std::move(local_extra_)) {}

  std::string name;
  std::string data;            // the bytes as stored in the archive
  std::uint16_t method;        // 0 stored, 8 deflated (the data is not really deflated)
  std::uint16_t flags;
  std::int64_t uncompressed;   // -1: data.size()
  bool zip64;                  // sizes and offset as 0xFFFFFFFF plus a ZIP64 extra field
  std::string local_extra;     // the local header's extra field
};

std::uint64_t uncompressed_size(const member_spec& m) {
  return m.uncompressed < 0 ? m.data.size() : static_cast<std::uint64_t>(m.uncompressed);
}

struct zip_file {
  std::string bytes;
  std::vector<std::size_t> local;    // offsets of the local headers
  std::vector<std::size_t> central;  // offsets of the central directory entries
  std::size_t directory = 0;         // offset of the central directory
  std::size_t end = 0;               // offset of the end of central directory record
  std::size_t end64 = 0;             // offset of the ZIP64 end record (if written)
};

// An archive of `members`; with `zip64_end`, the end record holds sentinels and the ZIP64 end
// record and locator the real values.
zip_file make_zip(const std::vector<member_spec>& members, bool zip64_end = false,
                  const std::string& comment = {}) {
  zip_file zip;
  std::string& out = zip.bytes;
  for (const member_spec& m : members) {
    zip.local.push_back(out.size());
    const std::uint64_t size = uncompressed_size(m);
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, m.flags, 2);
    put(out, m.method, 2);
    put(out, 0, 4);  // time, date
    put(out, 0, 4);  // CRC-32: not checked
    put(out, m.data.size(), 4);
    put(out, size, 4);
    put(out, m.name.size(), 2);
    put(out, m.local_extra.size(), 2);
    out += m.name + m.local_extra + m.data;
  }
  zip.directory = out.size();
  for (std::size_t i = 0; i < members.size(); ++i) {
    const member_spec& m = members[i];
    zip.central.push_back(out.size());
    const std::uint64_t size = uncompressed_size(m);
    std::string extra;
    if (m.zip64) {
      put(extra, 0x0001, 2);
      put(extra, 24, 2);
      put(extra, size, 8);
      put(extra, m.data.size(), 8);
      put(extra, zip.local[i], 8);
    }
    put(out, 0x02014b50, 4);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, m.flags, 2);
    put(out, m.method, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, m.zip64 ? 0xFFFFFFFF : m.data.size(), 4);
    put(out, m.zip64 ? 0xFFFFFFFF : size, 4);
    put(out, m.name.size(), 2);
    put(out, extra.size(), 2);
    put(out, 0, 2);  // comment
    put(out, 0, 2);  // disk
    put(out, 0, 2);
    put(out, 0, 4);
    put(out, m.zip64 ? 0xFFFFFFFF : zip.local[i], 4);
    out += m.name + extra;
  }
  const std::size_t directory_size = out.size() - zip.directory;
  if (zip64_end) {
    zip.end64 = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, members.size(), 8);
    put(out, members.size(), 8);
    put(out, directory_size, 8);
    put(out, zip.directory, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, zip.end64, 8);
    put(out, 1, 4);
  }
  zip.end = out.size();
  put(out, 0x06054b50, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, zip64_end ? 0xFFFF : members.size(), 2);
  put(out, zip64_end ? 0xFFFF : members.size(), 2);
  put(out, zip64_end ? 0xFFFFFFFF : directory_size, 4);
  put(out, zip64_end ? 0xFFFFFFFF : zip.directory, 4);
  put(out, comment.size(), 2);
  out += comment;
  return zip;
}

// An .npy file's bytes: NumPy's header for `typestr` and `shape`, then `data`.
std::string npy(std::string_view typestr, const shape_t& shape, std::string_view data) {
  return mmap_array::format_npy_header(npy_dtype{std::string(typestr), {}, 0}, shape, false) +
         std::string(data);
}

std::string i4s(std::initializer_list<std::int32_t> values) {
  std::string out;
  for (std::int32_t v : values) put(out, static_cast<std::uint32_t>(v), 4);
  return out;
}

template <class T>
std::vector<T> values_of(const mapped_npz& archive, const npz_member& member) {
  std::vector<T> out(member.header.data_size / sizeof(T));
  if (!out.empty()) {
    std::memcpy(out.data(), archive.file.data() + member.data_offset, member.header.data_size);
  }
  return out;
}

class Npz : public ::testing::Test {
 protected:
  std::filesystem::path write(const zip_file& zip, std::string_view name = "a.npz") {
    const auto path = tmp / name;
    write_file(path, zip.bytes);
    return path;
  }

  // Both forms of map_npz fail on `path` with `code`; returns the cause.
  std::string open_error(const std::filesystem::path& path, format_errc code,
                         const npy_limits& limits = {}) {
    auto e = thrown<format_error>([&] { map_npz(path, access_mode::read_only, limits); });
    std::error_code ec;
    mapped_npz m = map_npz(path, access_mode::read_only, limits, ec);
    EXPECT_EQ(ec, code);
    EXPECT_FALSE(m.file.is_open());
    if (!e) return "(no error)";
    EXPECT_EQ(e->code(), code) << e->what();
    EXPECT_TRUE(contains(e->what(), "'" + path.string() + "'"));
    return e->cause();
  }

  std::string open_error(const zip_file& zip, format_errc code, const npy_limits& limits = {}) {
    return open_error(write(zip), code, limits);
  }

  temp_dir tmp;
};

// ---- archives NumPy and Python wrote ----

void expect_numpys_arrays(const mapped_npz& m) {
  ASSERT_EQ(m.members.size(), 2u);
  const npz_member& a = m.members[0];
  const npz_member& b = m.members[1];
  EXPECT_EQ(a.name, "a");
  EXPECT_FALSE(a.compressed);
  EXPECT_EQ(a.header.dtype.typestr, "<i4");
  EXPECT_EQ(a.header.shape, shape_t({4}));
  EXPECT_EQ(values_of<std::int32_t>(m, a), std::vector<std::int32_t>({0, 1, 2, 3}));
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.header.dtype.typestr, "<f8");
  EXPECT_EQ(b.header.shape, shape_t({1, 2}));
  EXPECT_EQ(values_of<double>(m, b), std::vector<double>({1.5, 2.5}));
}

TEST_F(Npz, ReadsNumpysSavez) {
  const mapped_npz m = map_npz(kSamples / "savez.npz");
  EXPECT_TRUE(m.file.is_open());
  EXPECT_EQ(m.file.offset(), 0u);
  EXPECT_EQ(m.file.size(), 522u);
  EXPECT_FALSE(m.file.writable());
  expect_numpys_arrays(m);
  // numpy.savez gives the local headers a ZIP64 extra field the central directory lacks:
  // a's local header is 30 + 5 + 20 bytes, then its 128-byte .npy header.
  EXPECT_EQ(m.members[0].data_offset, 30u + 5 + 20 + 128);
}

TEST_F(Npz, ReadsPythonsZip64) {
  const mapped_npz m = map_npz(kSamples / "zip64.npz");
  expect_numpys_arrays(m);
}

TEST_F(Npz, ListsNumpysCompressedMembersWithoutHeaders) {
  const mapped_npz m = map_npz(kSamples / "savez_compressed.npz");
  ASSERT_EQ(m.members.size(), 2u);
  EXPECT_EQ(m.members[0].name, "a");
  EXPECT_TRUE(m.members[0].compressed);
  EXPECT_TRUE(m.members[0].header.shape.empty());
  EXPECT_EQ(m.members[0].header.data_size, 0u);
  EXPECT_EQ(m.members[0].data_offset, 0u);
  EXPECT_TRUE(m.members[1].compressed);
}

TEST_F(Npz, ReadsNumpysEmptyArchive) {
  const mapped_npz m = map_npz(kSamples / "empty.npz");
  EXPECT_TRUE(m.members.empty());
  EXPECT_TRUE(m.file.is_open());
  EXPECT_EQ(m.file.size(), 22u);
}

// ---- crafted archives that are fine ----

TEST_F(Npz, SkipsMembersThatAreNotNpy) {
  const zip_file zip = make_zip({{"readme.txt", "hello"},
                                 {"dir/", ""},
                                 {"x.npy", npy("<i4", {2}, i4s({7, -7}))},
                                 {"x.npy.bak", "junk"}});
  const mapped_npz m = map_npz(write(zip));
  ASSERT_EQ(m.members.size(), 1u);
  EXPECT_EQ(m.members[0].name, "x");
  EXPECT_EQ(values_of<std::int32_t>(m, m.members[0]), std::vector<std::int32_t>({7, -7}));
}

TEST_F(Npz, MemberDataStartsAfterTheLocalExtraField) {
  const zip_file zip = make_zip(
      {{"a.npy", npy("<i4", {1}, i4s({5})), 0, 0, -1, false, std::string(37, 'e')},
       {"b.npy", npy("<i4", {1}, i4s({6}))}});
  const mapped_npz m = map_npz(write(zip));
  EXPECT_EQ(m.members[0].data_offset, 30u + 5 + 37 + 128);
  EXPECT_EQ(values_of<std::int32_t>(m, m.members[0]), std::vector<std::int32_t>({5}));
  EXPECT_EQ(values_of<std::int32_t>(m, m.members[1]), std::vector<std::int32_t>({6}));
}

TEST_F(Npz, Zip64FieldsInTheCentralDirectoryAndEndRecords) {
  const zip_file zip = make_zip({{"a.npy", npy("<i4", {1}, i4s({1})), 0, 0, -1, true},
                                 {"b.npy", npy("<i4", {2}, i4s({2, 3})), 0, 0, -1, true}},
                                true);
  const mapped_npz m = map_npz(write(zip));
  ASSERT_EQ(m.members.size(), 2u);
  EXPECT_EQ(values_of<std::int32_t>(m, m.members[1]), std::vector<std::int32_t>({2, 3}));
}

TEST_F(Npz, Zip64ExtraHoldsOnlyTheSentinelFieldsInOrder) {
  // Only the local header offset is a sentinel: the extra field holds just that value.
  zip_file zip = make_zip({{"pad.bin", "0123456789"}, {"a.npy", npy("<i4", {1}, i4s({9}))}});
  std::string extra;
  put(extra, 0x0001, 2);
  put(extra, 8, 2);
  put(extra, zip.local[1], 8);
  const std::size_t entry = zip.central[1];
  poke(zip.bytes, entry + 42, 0xFFFFFFFF, 4);
  poke(zip.bytes, entry + 30, extra.size(), 2);
  zip.bytes.insert(entry + 46 + 5, extra);
  poke(zip.bytes, zip.end + extra.size() + 12, zip.end - zip.directory + extra.size(), 4);
  const mapped_npz m = map_npz(write(zip));
  EXPECT_EQ(values_of<std::int32_t>(m, m.members.at(0)), std::vector<std::int32_t>({9}));
}

TEST_F(Npz, CommentsMayHoldAFakeEndRecord) {
  std::string fake;
  put(fake, 0x06054b50, 4);
  fake += std::string(18, '\0');
  const zip_file zip =
      make_zip({{"a.npy", npy("<i4", {1}, i4s({4}))}}, false, fake + "trailing comment");
  const mapped_npz m = map_npz(write(zip));
  EXPECT_EQ(m.members.size(), 1u);
  // And the longest comment there is still leaves the end record within reach.
  const zip_file longest =
      make_zip({{"a.npy", npy("<i4", {1}, i4s({4}))}}, false, std::string(65535, 'c'));
  EXPECT_EQ(map_npz(write(longest, "long.npz")).members.size(), 1u);
}

TEST_F(Npz, LargeDirectoriesAreReadInWindows) {
  // A directory of about 1.5 MiB is read through more than one window of the reader.
  std::vector<member_spec> members;
  for (int i = 0; i < 5000; ++i) {
    members.emplace_back(std::to_string(i) + std::string(250, '_') + ".txt", "");
  }
  members.emplace_back("last.npy", npy("<i4", {1}, i4s({77})));
  const zip_file zip = make_zip(members);
  ASSERT_GT(zip.end - zip.directory, 1u << 20);
  const mapped_npz m = map_npz(write(zip));
  ASSERT_EQ(m.members.size(), 1u);
  EXPECT_EQ(m.members[0].name, "last");
  EXPECT_EQ(values_of<std::int32_t>(m, m.members[0]), std::vector<std::int32_t>({77}));
}

TEST_F(Npz, NamesAreUtf8OrCp437) {
  const zip_file zip = make_zip({{"caf\x82.npy", npy("|u1", {1}, "x")},
                                 {"\xCF\x80.npy", npy("|u1", {1}, "y"), 0, 0x0800}});
  const mapped_npz m = map_npz(write(zip));
  EXPECT_EQ(m.members.at(0).name, "caf\xC3\xA9");  // CP437 0x82 is U+00E9
  EXPECT_EQ(m.members.at(1).name, "\xCF\x80");
}

TEST_F(Npz, ReadWriteMappingWritesTheMember) {
  const zip_file zip = make_zip({{"a.npy", npy("<i4", {2}, i4s({1, 2}))}});
  const auto path = write(zip);
  {
    mapped_npz m = map_npz(path, access_mode::read_write);
    const std::int32_t value = -100;
    std::memcpy(m.file.data() + m.members[0].data_offset + 4, &value, 4);
    m.file.flush();
  }
  const mapped_npz m = map_npz(path);
  EXPECT_EQ(values_of<std::int32_t>(m, m.members[0]), std::vector<std::int32_t>({1, -100}));
}

// ---- not an archive ----

TEST_F(Npz, NotAZipArchive) {
  const auto path = tmp / "x.npz";
  write_file(path, "");
  EXPECT_TRUE(contains(open_error(path, format_errc::bad_magic), "0 bytes are fewer than the 22"));
  write_file(path, std::string(100, 'z'));
  EXPECT_TRUE(contains(open_error(path, format_errc::bad_magic),
                       "no end of central directory record in the last 100 bytes"));
  write_file(path, read_file(std::filesystem::path(MMAP_ARRAY_TEST_DATA_DIR) / "npy/f8_2x3.npy"));
  open_error(path, format_errc::bad_magic);
  // An end record whose comment length does not reach the end of the file is no end record.
  zip_file zip = make_zip({});
  zip.bytes += "x";
  open_error(zip, format_errc::bad_magic);
}

TEST_F(Npz, OsErrorsNameTheFile) {
  const auto path = tmp / "missing.npz";
  auto e = thrown<os_error>([&] { map_npz(path); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errno_value(), ENOENT);
  EXPECT_TRUE(contains(e->what(), path.string()));
}

// ---- malformed zip structures ----

TEST_F(Npz, MultiDiskArchives) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.end + 4, 1, 2);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive), "spans several disks"));

  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.end + 8, 0, 2);  // entries on this disk differ from the total
  open_error(zip, format_errc::bad_archive);

  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}}, true);
  poke(zip.bytes, zip.end - 4, 2, 4);  // the locator's disk count
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive), "spans 2 disks"));

  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}}, true);
  poke(zip.bytes, zip.end64 + 16, 3, 4);
  open_error(zip, format_errc::bad_archive);

  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.central[0] + 34, 1, 2);  // the member's starting disk
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "member 'a.npy' starts on disk 1"));
}

TEST_F(Npz, DirectoryPastItsEndRecord) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.end + 16, 0xFFFFFF00, 4);  // directory offset
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "runs past its end record at offset " + std::to_string(zip.end)));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.end + 12, zip.end - zip.directory + 1, 4);  // directory size
  open_error(zip, format_errc::bad_archive);
}

TEST_F(Npz, Zip64EndRecordsThatLie) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}}, true);
  poke(zip.bytes, zip.end - 12, 0xFFFFFFFFFFFFFF00ull, 8);  // where the locator points
  EXPECT_TRUE(
      contains(open_error(zip, format_errc::bad_archive), "does not end before its locator"));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}}, true);
  poke(zip.bytes, zip.end - 12, 0, 8);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "no ZIP64 end of central directory record at offset 0"));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}}, true);
  poke(zip.bytes, zip.end64 + 48, 0x1'0000'0000ull, 8);  // directory offset beyond 4 GiB
  open_error(zip, format_errc::bad_archive);
}

TEST_F(Npz, EntryCountsThatLie) {
  // 65535 entries cannot fit in a directory of 51 bytes: refused before reading any.
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.end + 8, 0xFFFF, 2);
  poke(zip.bytes, zip.end + 10, 0xFFFF, 2);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "claims 65535 entries but has room for 1"));
  // Fewer entries than the directory holds leaves bytes unaccounted for.
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}, {"b.npy", npy("|u1", {1}, "y")}});
  poke(zip.bytes, zip.end + 8, 1, 2);
  poke(zip.bytes, zip.end + 10, 1, 2);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive), "bytes after its 1 entries"));
}

TEST_F(Npz, CentralEntriesThatLie) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.central[0], 0x12345678, 4);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "central directory entry 0 at offset " + std::to_string(zip.directory) +
                           " has no signature"));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.central[0] + 28, 0xFFFF, 2);  // name length
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "run past the end of the central directory"));
  zip = make_zip({{"a\xFF.npy", npy("|u1", {1}, "x"), 0, 0x0800}});
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive), "not valid UTF-8"));
  zip = make_zip({{std::string("a\0b.npy", 7), npy("|u1", {1}, "x")}});
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive), "NUL byte"));
}

TEST_F(Npz, Zip64SentinelsWithoutTheirValues) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.central[0] + 24, 0xFFFFFFFF, 4);  // uncompressed size, no extra field
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "member 'a.npy': sizes or offsets are 0xFFFFFFFF but there is no ZIP64"));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x"), 0, 0, -1, true}});
  poke(zip.bytes, zip.central[0] + 34, 0xFFFF, 2);  // the disk too: 4 more bytes needed
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive), "lacks a value"));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x"), 0, 0, -1, true}});
  poke(zip.bytes, zip.central[0] + 46 + 5 + 2, 200, 2);  // the extra field's own length
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "runs past the end of the extra data"));
}

TEST_F(Npz, LocalHeadersThatLie) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.local[0], 0, 4);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "member 'a.npy': no local file header at offset 0"));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.central[0] + 42, zip.directory - 10, 4);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "does not end before the central directory"));
  zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.local[0] + 28, 0xFFFF, 2);  // a local extra field past the directory
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "run past the start of the central directory"));
}

TEST_F(Npz, MemberDataPastTheDirectory) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}});
  poke(zip.bytes, zip.central[0] + 20, 5000, 4);
  poke(zip.bytes, zip.central[0] + 24, 5000, 4);
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "member 'a.npy': its 5000 bytes at offset 35"));
  // Data running into the directory is caught even when compressed (no header is read).
  zip = make_zip({{"a.npy", "deflated?", 8, 0, 100}});
  poke(zip.bytes, zip.central[0] + 20, 1000, 4);
  open_error(zip, format_errc::bad_archive);
}

TEST_F(Npz, StoredMembersWithDifferentSizes) {
  const zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x"), 0, 0, 500}});
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "member 'a.npy' is stored, yet its sizes differ (129 bytes in the "
                       "archive, 500 uncompressed)"));
}

TEST_F(Npz, DuplicateMemberNames) {
  const zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}, {"a.npy", npy("|u1", {1}, "y")}});
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive),
                       "member name 'a.npy' occurs more than once"));
}

TEST_F(Npz, OverlappingMembers) {
  zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x")}, {"b.npy", npy("|u1", {1}, "y")}});
  poke(zip.bytes, zip.central[1] + 42, zip.local[0], 4);  // b's entry points at a's header
  EXPECT_TRUE(contains(open_error(zip, format_errc::bad_archive), "overlap"));
}

TEST_F(Npz, EncryptedNpyMembersFailTheOpen) {
  const zip_file zip = make_zip({{"a.npy", npy("|u1", {1}, "x"), 0, 0x0001}});
  EXPECT_TRUE(contains(open_error(zip, format_errc::encrypted_member),
                       "member 'a.npy' is encrypted"));
  // Other members are skipped whatever they are.
  const zip_file other = make_zip({{"notes.txt", "secret", 0, 0x0001},
                                   {"a.npy", npy("|u1", {1}, "x")}});
  EXPECT_EQ(map_npz(write(other, "other.npz")).members.size(), 1u);
}

// ---- malformed members ----

TEST_F(Npz, MemberThatIsNotNpy) {
  const zip_file zip = make_zip({{"a.npy", "not an npy file at all"}});
  EXPECT_TRUE(
      contains(open_error(zip, format_errc::bad_magic), "member 'a.npy': not an .npy file"));
  const zip_file tiny = make_zip({{"a.npy", "\x93NUM"}});
  open_error(tiny, format_errc::truncated);
  const zip_file empty = make_zip({{"a.npy", ""}});
  open_error(empty, format_errc::truncated);
}

TEST_F(Npz, MemberHeaderPastTheMember) {
  const std::string full = npy("<i4", {2}, i4s({1, 2}));
  // The header is cut short inside the member, though the file goes on (into b.npy).
  const zip_file zip = make_zip({{"a.npy", full.substr(0, 60)}, {"b.npy", full}});
  const std::string cause = open_error(zip, format_errc::truncated);
  EXPECT_TRUE(contains(cause, "member 'a.npy': the .npy header of 118 bytes ends at byte 128, "
                              "past the end of the member (size 60)"))
      << cause;
}

TEST_F(Npz, MemberDataPastTheMember) {
  const zip_file zip = make_zip({{"a.npy", npy("<i4", {3}, i4s({1, 2}))},
                                 {"b.npy", npy("<i4", {1}, i4s({3}))}});
  const std::string cause = open_error(zip, format_errc::out_of_bounds);
  EXPECT_TRUE(contains(cause, "member 'a.npy': the array's 12 bytes at offset 128 end past the "
                              "end of the member (size 136)"))
      << cause;
}

TEST_F(Npz, MemberHeaderOverTheCap) {
  const zip_file zip = make_zip({{"a.npy", npy("<i4", {1}, i4s({1}))}});
  const std::string cause =
      open_error(zip, format_errc::header_too_large, npy_limits{.max_header_size = 100});
  EXPECT_TRUE(contains(cause, "member 'a.npy': header of 118 bytes exceeds the limit of 100"))
      << cause;
}

TEST_F(Npz, MemberWithABadHeader) {
  const std::string header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n";
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  put(bytes, header.size(), 2);
  const zip_file zip = make_zip({{"obj.npy", bytes + header + "12345678"}});
  EXPECT_TRUE(contains(open_error(zip, format_errc::object_dtype), "member 'obj.npy': descr"));
}

}  // namespace
