// NumPy's .npz format: a zip archive of .npy files, one per array, as written by
// numpy.savez (members stored, not compressed) and numpy.savez_compressed
// (members deflated).
//
// A stored member's bytes sit unchanged inside the archive, so its array maps
// without a copy at its offset in the file. A compressed member cannot be
// mapped; it is listed, and asking for it is an error that says so. Archives
// with members or offsets beyond 4 GiB (ZIP64) are read. Member data is not
// checked against its CRC-32, which would mean reading every byte; and writing
// through a read_write mapping leaves the CRC-32 stale, so Python's zipfile
// (and numpy.load) will then report "Bad CRC-32" for that member.
//
// The archive is checked as a whole when it is opened: a malformed directory,
// two members of one name, members sharing bytes, or an encrypted .npy member
// (which numpy never writes, and numpy.load cannot read) fail the open, with a
// message naming the member. Archives split across disks, and archives with
// bytes prepended (self-extracting ones), are not read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "mmap_array/export.hpp"
#include "mmap_array/mapped_file.hpp"
#include "mmap_array/npy.hpp"

namespace mmap_array {

/// One .npy member of an archive.
struct npz_member {
  std::string name;             ///< the member's file name without ".npy", as numpy.load shows it
  bool compressed = false;      ///< deflated (or otherwise compressed): it cannot be mapped
  npy_header header;            ///< the member's .npy header; empty when compressed
  std::uint64_t data_offset = 0;  ///< offset of the array's data in the archive file
};

/// An .npz archive mapped whole.
struct mapped_npz {
  std::vector<npz_member> members;  ///< the .npy members, in the archive's order
  mapped_file file;                 ///< the whole archive: a stored member's array starts at
                                    ///< file.data() + member.data_offset
};

/// Reads the archive's central directory and the .npy header of every stored member, checks
/// each member lies within the file and its array within the member, and maps the file;
/// throws os_error or format_error. Members whose name does not end in ".npy" are skipped.
MMAP_ARRAY_EXPORT mapped_npz map_npz(const std::filesystem::path& path,
                                     access_mode mode = access_mode::read_only,
                                     const npy_limits& limits = {});
/// As `map_npz`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_npz map_npz(const std::filesystem::path& path, access_mode mode,
                                     const npy_limits& limits, std::error_code& ec) noexcept;

}  // namespace mmap_array
