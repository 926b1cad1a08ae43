// NumPy's .npy format, versions 1.0, 2.0 and 3.0.
//
// A file is: the magic "\x93NUMPY", a major and a minor version byte, the
// header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), and the
// header: a Python dict literal with exactly the keys 'descr' (the element type:
// a type string such as '<f8', or a list of fields), 'fortran_order' (True or
// False) and 'shape' (a tuple of non-negative ints), padded with spaces and a
// final newline so the data starts at a multiple of 64 bytes (16 in old files).
// The data follows: itemsize * product(shape) bytes in C or Fortran order.
// Version 3.0 differs from 2.0 only in that the header is UTF-8, not latin-1.
//
// The parser here is C++ and evaluates nothing: it reads the dict literal with a
// grammar of its own, caps the header size before reading it, requires exactly
// the three keys with the right types, rejects object dtypes, computes every
// size with checked arithmetic, and checks that header + data fit in the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "mmap_array/export.hpp"
#include "mmap_array/mapped_file.hpp"
#include "mmap_array/raw_array.hpp"

namespace mmap_array {

struct npy_field;

/// An element type as .npy headers describe it (NumPy's "descr").
struct npy_dtype {
  /// A plain type: NumPy's type string, byte order first, e.g. "<f8", "|b1", "|S5", "<U3",
  /// "|V4", "<M8[ns]". Empty for a record.
  std::string typestr;
  /// A record: its fields in file order; padding fields have an empty name.
  std::vector<npy_field> fields;
  /// Bytes of one element.
  std::uint64_t itemsize = 0;
};

/// One field of a record.
struct npy_field {
  std::string name;                  ///< UTF-8; empty for padding
  std::string title;                 ///< NumPy's optional (title, name) title; empty if none
  npy_dtype type;                    ///< the field's element type
  std::vector<std::uint64_t> shape;  ///< subarray shape; empty for a scalar field
};

/// A parsed .npy header.
struct npy_header {
  std::uint8_t major_version = 1;    ///< 1, 2 or 3
  std::uint8_t minor_version = 0;    ///< 0
  npy_dtype dtype;                   ///< the element type
  bool fortran_order = false;        ///< data in column-major order
  std::vector<std::uint64_t> shape;  ///< the array's shape; empty for a 0-d array
  std::uint64_t data_offset = 0;     ///< bytes before the data: magic, lengths and header
  std::uint64_t data_size = 0;       ///< itemsize * product(shape)
};

/// Safety caps of the parser.
struct npy_limits {
  /// Largest header accepted, in bytes (NumPy's own default is 10,000).
  std::uint64_t max_header_size = 10'000;
};

/// The shortest prefix that holds the magic, the version and the header length.
inline constexpr std::size_t npy_preamble_size = 12;

/// Parses the header at the start of `bytes` (which may hold more than the header; it must
/// hold all of it) and checks it; `path` only names the file in messages. Throws format_error.
MMAP_ARRAY_EXPORT npy_header parse_npy_header(std::span<const std::byte> bytes,
                                              const std::filesystem::path& path,
                                              const npy_limits& limits = {});

/// Parses NumPy's descr written as a Python literal, e.g. "'<f8'" or
/// "[('x', '<f4'), ('y', '<i2', (3,))]"; throws format_error.
MMAP_ARRAY_EXPORT npy_dtype parse_npy_descr(std::string_view literal,
                                            const std::filesystem::path& path = {});

/// The descr of `dtype` as a Python literal, the inverse of parse_npy_descr.
MMAP_ARRAY_EXPORT std::string format_npy_descr(const npy_dtype& dtype);

/// The bytes before the data of an .npy file holding an array of `dtype`, `shape` and
/// order: the lowest version that can hold the header, plain integers, the data aligned to
/// 64 bytes, and spare room so the growing axis (first, or last in Fortran order) can reach
/// 2**64 - 1 without moving the data. Type strings are written in canonical form, and
/// `dtype.itemsize` is not read (the types say how big an element is). Throws format_error
/// for an invalid dtype (by parse_npy_descr's rules) or a size past 2**64. A record of
/// thousands of fields can make a header longer than npy_limits' default cap, as in NumPy.
MMAP_ARRAY_EXPORT std::string format_npy_header(const npy_dtype& dtype,
                                                std::span<const std::uint64_t> shape,
                                                bool fortran_order);

/// An .npy file whose data is mapped; `data` covers exactly the array's bytes.
struct mapped_npy {
  npy_header header;  ///< the parsed header
  mapped_file data;   ///< the array's bytes
};

/// Reads and checks the header of the .npy file at `path` (header + data must fit in the
/// file) and maps its data; throws os_error or format_error. The mapping keeps `path`: pass
/// an rvalue to move it in.
MMAP_ARRAY_EXPORT mapped_npy map_npy(std::filesystem::path path, access_mode mode,
                                     const npy_limits& limits = {});
/// As `map_npy`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_npy map_npy(const std::filesystem::path& path, access_mode mode,
                                     const npy_limits& limits, std::error_code& ec) noexcept;

/// A file that `map_npy_or_raw` found to be .npy (header set) or raw (header empty).
struct mapped_npy_or_raw {
  std::optional<npy_header> header;  ///< the parsed header of an .npy file; empty for raw
  mapped_file data;                  ///< the .npy file's array bytes, or the raw array's range
};

/// Opens the file at `path` once and tells its format by its first bytes: if it starts with
/// the whole .npy magic ("\x93NUMPY") its header is read, checked and its data mapped as by
/// map_npy; otherwise it is mapped as the raw array `raw` as by map_raw_array. One open and
/// one read, where trying map_npy and then map_raw_array on a raw file takes two opens and a
/// format_error. Throws os_error, format_error (a malformed .npy file) or layout_error (a raw
/// file that does not fit `raw`). The mapping keeps `path`: pass an rvalue to move it in.
MMAP_ARRAY_EXPORT mapped_npy_or_raw map_npy_or_raw(std::filesystem::path path, access_mode mode,
                                                   const raw_array_spec& raw,
                                                   const npy_limits& limits = {});
/// As `map_npy_or_raw`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_npy_or_raw map_npy_or_raw(const std::filesystem::path& path,
                                                   access_mode mode, const raw_array_spec& raw,
                                                   const npy_limits& limits,
                                                   std::error_code& ec) noexcept;

/// Creates a new .npy file for an array of `dtype` and `shape`, zero-filled and
/// preallocated, atomically replacing `path`, and maps its data read-write; throws os_error
/// (ENOSPC on a full disk, the old file untouched) or format_error.
MMAP_ARRAY_EXPORT mapped_npy create_npy(const std::filesystem::path& path, const npy_dtype& dtype,
                                        std::span<const std::uint64_t> shape, bool fortran_order);
/// As `create_npy`, reporting failure through `ec`.
MMAP_ARRAY_EXPORT mapped_npy create_npy(const std::filesystem::path& path, const npy_dtype& dtype,
                                        std::span<const std::uint64_t> shape, bool fortran_order,
                                        std::error_code& ec) noexcept;

}  // namespace mmap_array
