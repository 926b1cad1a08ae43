// The central directory of a zip archive (PKWARE APPNOTE 6.3), read for
// mapping members in place: where each member's bytes start and how many
// there are. Every count, size and offset is checked against the file before
// it is used, ZIP64 fields are honoured, and archives split across disks are
// refused. Nothing is decompressed and no CRC is checked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mmap_array::detail {

/// One member of an archive, as its central directory entry and local header describe it.
struct zip_entry {
  std::string name;                     ///< UTF-8 (CP437 names converted, as Python does)
  bool encrypted = false;               ///< general purpose flag bit 0
  std::uint16_t method = 0;             ///< 0: stored; anything else is compressed
  std::uint64_t compressed_size = 0;    ///< bytes of the member's data in the file
  std::uint64_t uncompressed_size = 0;  ///< bytes once decompressed (equal when stored)
  std::uint64_t header_offset = 0;      ///< the member's local file header
  std::uint64_t data_offset = 0;        ///< the member's first byte of data
};

/// Reads the central directory of the zip archive open as `fd`, of `file_size` bytes, and
/// each member's local header; `path` names the file in messages. Checks that every member
/// lies between the start of the file and the central directory, that no two overlap, that
/// no name occurs twice, and that stored members have equal sizes. Throws os_error, or
/// format_error: bad_magic when there is no end of central directory record (not a zip
/// archive), bad_archive for anything else wrong.
std::vector<zip_entry> read_zip_directory(int fd, std::uint64_t file_size,
                                          const std::filesystem::path& path);

}  // namespace mmap_array::detail
