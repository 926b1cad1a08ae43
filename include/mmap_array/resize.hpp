// Growing and shrinking mapped files in place: raw arrays and .npy files.
//
// A resize never touches the mapping it starts from: it returns a new mapping
// of the new extent, and the old one stays valid for as long as its owner
// keeps it (both are MAP_SHARED views of the same page cache, so they agree on
// every byte they share). Shrinking cuts bytes off the file, so a caller that
// still hands out memory of the old mapping's tail must not shrink; the Python
// binding refuses with BufferError then.
//
// Crash safety of .npy files: growing allocates and fills the new data first
// and rewrites the header last, shrinking rewrites the header first and cuts
// the data after, so at every instant the header describes bytes the file
// holds; what a crash can leave is bytes after the array, which this library
// and NumPy both accept. A header without room for the new shape is never
// rewritten in place: the whole file is written to a temporary beside it and
// renamed over it. Nothing here calls fsync; `mapped_file::flush()` does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "mmap_array/export.hpp"
#include "mmap_array/mapped_file.hpp"
#include "mmap_array/npy.hpp"

namespace mmap_array {

/// Sets the length of the raw array file that `current` maps read-write to `current.offset()
/// + new_size` bytes and maps those `new_size` bytes read-write. The file must still be the
/// one `current` was made from, with the same size (else file_changed_error). Growing
/// preallocates the new bytes, so a full disk is os_error(ENOSPC) with the file's length
/// restored, then writes `tail` (which must fit in the growth) right after the old data; the
/// rest of the growth reads as zeros. Shrinking cuts the file. `current` is left untouched.
/// Throws os_error, file_changed_error, layout_error (not read-write, tail too long) or
/// state_error (closed).
MMAP_ARRAY_EXPORT mapped_file resize_raw_array(const mapped_file& current, std::uint64_t new_size,
                                               std::span<const std::byte> tail = {});
/// As `resize_raw_array`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_file resize_raw_array(const mapped_file& current, std::uint64_t new_size,
                                               std::span<const std::byte> tail,
                                               std::error_code& ec) noexcept;

/// True if the header of an .npy file mapped with `header` can describe its array with
/// `new_length` entries along the growing axis (the first, or the last in Fortran order) in
/// the bytes it occupies now, so `resize_npy` rewrites it in place rather than rewriting the
/// whole file. Throws layout_error for a 0-d array (it has no axis to grow).
MMAP_ARRAY_EXPORT bool npy_header_fits(const npy_header& header, std::uint64_t new_length);

/// Resizes the array of the .npy file whose data `current` maps read-write (`header` is the
/// header it was mapped with) to `new_length` entries along the growing axis (the first, or
/// the last in Fortran order), and maps the new data read-write. The file must still be that
/// file with that size and header (else file_changed_error). Growing preallocates (ENOSPC is
/// os_error, the file as it was), writes `tail` right after the old data (zeros after it),
/// then rewrites the header; shrinking rewrites the header, then cuts the file. The file
/// ends where the array does afterwards. A header without room for the new shape (see
/// `npy_header_fits`) makes a complete new file in a temporary renamed over the old one: a
/// new inode, so `current` and other mappings of the old file no longer see the file.
/// Throws os_error, format_error, file_changed_error, layout_error or state_error.
MMAP_ARRAY_EXPORT mapped_npy resize_npy(const mapped_file& current, const npy_header& header,
                                        std::uint64_t new_length,
                                        std::span<const std::byte> tail = {});
/// As `resize_npy`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_npy resize_npy(const mapped_file& current, const npy_header& header,
                                        std::uint64_t new_length, std::span<const std::byte> tail,
                                        std::error_code& ec) noexcept;

}  // namespace mmap_array
