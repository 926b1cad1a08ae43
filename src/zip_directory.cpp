#include "zip_directory.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checked_math.hpp"
#include "file_posix.hpp"
#include "mmap_array/error.hpp"
#include "py_literal.hpp"
#include "utf8.hpp"

namespace mmap_array::detail {
namespace {

constexpr std::uint32_t kLocalSignature = 0x04034b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kEnd64Signature = 0x06064b50;
constexpr std::uint32_t kLocatorSignature = 0x07064b50;
constexpr std::size_t kLocalSize = 30;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kEnd64Size = 56;
constexpr std::size_t kLocatorSize = 20;
constexpr std::uint64_t kMaxComment = 0xFFFF;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint16_t kFlagEncrypted = 0x0001;
constexpr std::uint16_t kFlagUtf8 = 0x0800;

// Code points of bytes 0x80..0xFF in IBM code page 437, the zip format's default encoding.
constexpr std::array<char16_t, 128> kCp437High = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8,
    0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2,
    0x00FB, 0x00F9, 0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1,
    0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD,
    0x00BC, 0x00A1, 0x00AB, 0x00BB, 0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562,
    0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510, 0x2514, 0x2534,
    0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560,
    0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580, 0x03B1, 0x00DF, 0x0393,
    0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6,
    0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248, 0x00B0,
    0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

std::uint64_t le(std::span<const std::byte> bytes, std::size_t at, std::size_t width) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= static_cast<std::uint64_t>(bytes[at + i]) << (8 * i);
  }
  return value;
}
std::uint16_t le16(std::span<const std::byte> b, std::size_t at) noexcept {
  return static_cast<std::uint16_t>(le(b, at, 2));
}
std::uint32_t le32(std::span<const std::byte> b, std::size_t at) noexcept {
  return static_cast<std::uint32_t>(le(b, at, 4));
}
std::uint64_t le64(std::span<const std::byte> b, std::size_t at) noexcept { return le(b, at, 8); }

std::string_view as_text(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

[[noreturn]] void bad_archive(const std::filesystem::path& path, const std::string& message) {
  throw format_error(format_errc::bad_archive, "read", path, message);
}

// Reads a byte range of the file through a window of at most 1 MiB beyond the largest
// request, so a directory of any size costs few system calls and no buffer sized by a
// number from the file.
class window_reader {
 public:
  window_reader(int fd, const std::filesystem::path& path, std::uint64_t end) noexcept
      : fd_(fd), path_(path), end_(end) {}

  // `offset + n` must not exceed the end given at construction (the caller checked it).
  std::span<const std::byte> read(std::uint64_t offset, std::size_t n) {
    if (offset < start_ || offset - start_ + n > buffer_.size()) {
      constexpr std::uint64_t kWindow = std::uint64_t{1} << 20;
      const std::uint64_t length = std::min(end_ - offset, std::max<std::uint64_t>(n, kWindow));
      buffer_.resize(static_cast<std::size_t>(length));
      read_exact(fd_, offset, buffer_, path_);
      start_ = offset;
    }
    const auto skip = static_cast<std::size_t>(offset - start_);
    return std::span<const std::byte>(buffer_).subspan(skip, n);
  }

 private:
  int fd_;
  const std::filesystem::path& path_;
  std::uint64_t end_;
  std::uint64_t start_ = 0;
  std::vector<std::byte> buffer_;
};

// Where the central directory is, as the end records say.
struct directory_location {
  std::uint64_t entries = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  std::uint64_t end_records = 0;  // where the (ZIP64) end records start: the directory's limit
};

// Finds the end of central directory record: the last 22 + up to 65535 bytes of comment. The
// signature can occur inside a comment, so a candidate counts only if its comment length
// reaches exactly the end of the file.
std::uint64_t find_end_record(int fd, std::uint64_t file_size, const std::filesystem::path& path,
                              std::vector<std::byte>& tail) {
  if (file_size < kEndSize) {
    throw format_error(format_errc::bad_magic, "read", path,
                       "not a zip archive: " + std::to_string(file_size) +
                           " bytes are fewer than the 22 of an end of central directory record");
  }
  const std::uint64_t tail_size = std::min(file_size, kEndSize + kMaxComment);
  tail.resize(static_cast<std::size_t>(tail_size));
  read_exact(fd, file_size - tail_size, tail, path);
  for (std::size_t pos = tail.size() - kEndSize + 1; pos-- > 0;) {
    if (le32(tail, pos) == kEndSignature && pos + kEndSize + le16(tail, pos + 20) == tail.size()) {
      return file_size - tail_size + pos;
    }
  }
  throw format_error(format_errc::bad_magic, "read", path,
                     "not a zip archive: no end of central directory record in the last " +
                         std::to_string(tail_size) + " bytes");
}

// Reads the ZIP64 end of central directory record the locator before `end_offset` points to.
directory_location read_zip64_end(int fd, std::span<const std::byte> locator,
                                  std::uint64_t locator_offset, const std::filesystem::path& path) {
  const std::uint32_t end64_disk = le32(locator, 4);
  const std::uint64_t end64_offset = le64(locator, 8);
  const std::uint32_t disks = le32(locator, 16);
  if (end64_disk != 0 || disks > 1) {
    bad_archive(path, "the archive spans " + std::to_string(disks) +
                          " disks; only single-file archives are read");
  }
  if (end64_offset > locator_offset || locator_offset - end64_offset < kEnd64Size) {
    bad_archive(path, "the ZIP64 end of central directory record at offset " +
                          std::to_string(end64_offset) + " does not end before its locator at " +
                          std::to_string(locator_offset));
  }
  std::array<std::byte, kEnd64Size> record{};
  read_exact(fd, end64_offset, record, path);
  if (le32(record, 0) != kEnd64Signature) {
    bad_archive(path, "no ZIP64 end of central directory record at offset " +
                          std::to_string(end64_offset) + ", where its locator points");
  }
  const std::uint32_t disk = le32(record, 16);
  const std::uint32_t directory_disk = le32(record, 20);
  const std::uint64_t entries_here = le64(record, 24);
  directory_location location{le64(record, 32), le64(record, 40), le64(record, 48), end64_offset};
  if (disk != 0 || directory_disk != 0 || entries_here != location.entries) {
    bad_archive(path, "the archive spans several disks; only single-file archives are read");
  }
  return location;
}

directory_location locate_directory(int fd, std::uint64_t file_size,
                                    const std::filesystem::path& path) {
  std::vector<std::byte> tail;
  const std::uint64_t end_offset = find_end_record(fd, file_size, path, tail);
  const std::uint64_t tail_start = file_size - tail.size();
  const auto end = std::span<const std::byte>(tail).subspan(
      static_cast<std::size_t>(end_offset - tail_start), kEndSize);

  // A ZIP64 locator sits right before the end record; when present, its record's 64-bit
  // fields replace the 16- and 32-bit ones (Python writes both, the short ones capped).
  if (end_offset >= kLocatorSize) {
    std::array<std::byte, kLocatorSize> locator{};
    const std::uint64_t locator_offset = end_offset - kLocatorSize;
    if (locator_offset >= tail_start) {
      std::copy_n(tail.begin() + static_cast<std::ptrdiff_t>(locator_offset - tail_start),
                  kLocatorSize, locator.begin());
    } else {
      read_exact(fd, locator_offset, locator, path);
    }
    if (le32(locator, 0) == kLocatorSignature) {
      return read_zip64_end(fd, locator, locator_offset, path);
    }
  }
  const std::uint16_t disk = le16(end, 4);
  const std::uint16_t directory_disk = le16(end, 6);
  const std::uint16_t entries_here = le16(end, 8);
  directory_location location{le16(end, 10), le32(end, 12), le32(end, 16), end_offset};
  if (disk != 0 || directory_disk != 0 || entries_here != location.entries) {
    bad_archive(path, "the archive spans several disks (disk " + std::to_string(disk) +
                          ", directory on disk " + std::to_string(directory_disk) +
                          "); only single-file archives are read");
  }
  return location;
}

std::string decode_name(std::span<const std::byte> raw, bool utf8, const std::string& entry,
                        const std::filesystem::path& path) {
  const std::string_view bytes = as_text(raw);
  if (bytes.find('\0') != std::string_view::npos) {
    bad_archive(path, entry + ": the member name holds a NUL byte");
  }
  if (utf8) {
    if (!is_valid_utf8(bytes)) bad_archive(path, entry + ": the member name is not valid UTF-8");
    return std::string(bytes);
  }
  std::string name;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    append_utf8(name, byte < 0x80 ? char32_t{byte} : char32_t{kCp437High[byte - 0x80]});
  }
  return name;
}

// Replaces the fields that hold ZIP64 sentinels by the values of the 0x0001 extra field,
// which lists, in this order, only those that are sentinels.
void apply_zip64_extra(std::span<const std::byte> extra, zip_entry& entry, std::uint32_t& disk,
                       const std::string& where, const std::filesystem::path& path) {
  const bool need_size = entry.uncompressed_size == 0xFFFF'FFFF;
  const bool need_compressed = entry.compressed_size == 0xFFFF'FFFF;
  const bool need_offset = entry.header_offset == 0xFFFF'FFFF;
  const bool need_disk = disk == 0xFFFF;
  if (!need_size && !need_compressed && !need_offset && !need_disk) return;
  std::size_t at = 0;
  while (at + 4 <= extra.size()) {
    const std::uint16_t id = le16(extra, at);
    const std::size_t size = le16(extra, at + 2);
    if (size > extra.size() - at - 4) {
      bad_archive(path, where + ": extra field " + std::to_string(id) + " of " +
                            std::to_string(size) + " bytes runs past the end of the extra data");
    }
    if (id == kZip64ExtraId) {
      const auto field = extra.subspan(at + 4, size);
      std::size_t used = 0;
      const auto take = [&](std::size_t width) {
        if (used + width > field.size()) {
          bad_archive(path, where + ": the ZIP64 extra field of " + std::to_string(size) +
                                " bytes lacks a value its sentinels call for");
        }
        const std::uint64_t value = le(field, used, width);
        used += width;
        return value;
      };
      if (need_size) entry.uncompressed_size = take(8);
      if (need_compressed) entry.compressed_size = take(8);
      if (need_offset) entry.header_offset = take(8);
      if (need_disk) disk = static_cast<std::uint32_t>(take(4));
      return;
    }
    at += 4 + size;
  }
  bad_archive(path, where + ": sizes or offsets are 0xFFFFFFFF but there is no ZIP64 extra field");
}

std::vector<zip_entry> read_central_directory(int fd, const directory_location& location,
                                              const std::filesystem::path& path) {
  std::uint64_t directory_end = 0;
  if (!checked_add(location.offset, location.size, directory_end) ||
      directory_end > location.end_records) {
    bad_archive(path, "the central directory (" + std::to_string(location.size) +
                          " bytes at offset " + std::to_string(location.offset) +
                          ") runs past its end record at offset " +
                          std::to_string(location.end_records));
  }
  // Each entry takes at least 46 bytes: a count the directory cannot hold is a lie.
  if (location.entries > location.size / kCentralSize) {
    bad_archive(path, "the central directory claims " + std::to_string(location.entries) +
                          " entries but has room for " +
                          std::to_string(location.size / kCentralSize));
  }

  std::vector<zip_entry> entries;
  window_reader reader(fd, path, directory_end);
  std::uint64_t at = location.offset;
  for (std::uint64_t i = 0; i < location.entries; ++i) {
    const std::string where = "central directory entry " + std::to_string(i) + " at offset " +
                              std::to_string(at);
    if (directory_end - at < kCentralSize) {
      bad_archive(path, where + " runs past the end of the central directory");
    }
    const auto fixed = reader.read(at, kCentralSize);
    if (le32(fixed, 0) != kCentralSignature) bad_archive(path, where + " has no signature");
    const std::uint16_t flags = le16(fixed, 8);
    zip_entry entry;
    entry.encrypted = (flags & kFlagEncrypted) != 0;
    entry.method = le16(fixed, 10);
    entry.compressed_size = le32(fixed, 20);
    entry.uncompressed_size = le32(fixed, 24);
    const std::size_t name_length = le16(fixed, 28);
    const std::size_t extra_length = le16(fixed, 30);
    const std::size_t comment_length = le16(fixed, 32);
    std::uint32_t disk = le16(fixed, 34);
    entry.header_offset = le32(fixed, 42);
    const std::size_t variable = name_length + extra_length + comment_length;
    if (directory_end - at - kCentralSize < variable) {
      bad_archive(path, where + ": its name, extra field and comment run past the end of the "
                                "central directory");
    }
    const auto names_and_extra = reader.read(at + kCentralSize, name_length + extra_length);
    entry.name = decode_name(names_and_extra.first(name_length), (flags & kFlagUtf8) != 0, where,
                             path);
    const std::string member = "member " + quote_py_str(entry.name);
    apply_zip64_extra(names_and_extra.subspan(name_length), entry, disk, member, path);
    if (disk != 0) {
      bad_archive(path, member + " starts on disk " + std::to_string(disk) +
                            "; only single-file archives are read");
    }
    entries.push_back(std::move(entry));
    at += kCentralSize + variable;
  }
  if (at != directory_end) {
    bad_archive(path, "the central directory has " + std::to_string(directory_end - at) +
                          " bytes after its " + std::to_string(location.entries) + " entries");
  }
  return entries;
}

// Finds where `entry`'s data starts from its local header, whose extra field may differ in
// length from the central one (Python writes a ZIP64 extra field only locally).
void locate_data(int fd, zip_entry& entry, std::uint64_t directory_offset,
                 const std::filesystem::path& path) {
  const std::string member = "member " + quote_py_str(entry.name);
  if (entry.method == 0 && entry.compressed_size != entry.uncompressed_size) {
    bad_archive(path, member + " is stored, yet its sizes differ (" +
                          std::to_string(entry.compressed_size) + " bytes in the archive, " +
                          std::to_string(entry.uncompressed_size) + " uncompressed)");
  }
  if (entry.header_offset > directory_offset ||
      directory_offset - entry.header_offset < kLocalSize) {
    bad_archive(path, member + ": its local header at offset " +
                          std::to_string(entry.header_offset) +
                          " does not end before the central directory at offset " +
                          std::to_string(directory_offset));
  }
  std::array<std::byte, kLocalSize> local{};
  read_exact(fd, entry.header_offset, local, path);
  if (le32(local, 0) != kLocalSignature) {
    bad_archive(path, member + ": no local file header at offset " +
                          std::to_string(entry.header_offset));
  }
  const std::uint64_t name_length = le16(local, 26);
  const std::uint64_t extra_length = le16(local, 28);
  entry.data_offset = entry.header_offset + kLocalSize + name_length + extra_length;
  std::uint64_t data_end = 0;
  if (!checked_add(entry.data_offset, entry.compressed_size, data_end) ||
      data_end > directory_offset) {
    bad_archive(path, member + ": its " + std::to_string(entry.compressed_size) +
                          " bytes at offset " + std::to_string(entry.data_offset) +
                          " run past the start of the central directory at offset " +
                          std::to_string(directory_offset));
  }
}

void check_distinct(std::vector<zip_entry>& entries, const std::filesystem::path& path) {
  std::vector<const zip_entry*> order;
  order.reserve(entries.size());
  for (const zip_entry& e : entries) order.push_back(&e);

  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (order[i]->name == order[i - 1]->name) {
      bad_archive(path, "member name " + quote_py_str(order[i]->name) + " occurs more than once");
    }
  }
  // Members sharing bytes (a zip bomb's trick) would make writing one array change another.
  std::sort(order.begin(), order.end(),
            [](auto* a, auto* b) { return a->header_offset < b->header_offset; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const zip_entry& before = *order[i - 1];
    if (order[i]->header_offset < before.data_offset + before.compressed_size) {
      bad_archive(path, "members " + quote_py_str(before.name) + " and " +
                            quote_py_str(order[i]->name) + " overlap");
    }
  }
}

}  // namespace

std::vector<zip_entry> read_zip_directory(int fd, std::uint64_t file_size,
                                          const std::filesystem::path& path) {
  const directory_location location = locate_directory(fd, file_size, path);
  std::vector<zip_entry> entries = read_central_directory(fd, location, path);
  for (zip_entry& entry : entries) locate_data(fd, entry, location.offset, path);
  check_distinct(entries, path);
  return entries;
}

}  // namespace mmap_array::detail
