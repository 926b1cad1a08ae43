// Errors of mmap_array: one error category for the library's own conditions,
// and one exception class per kind of failure, so callers (and the Python
// binding) can tell "the OS said no" from "the file's bytes are wrong" from
// "the request does not fit the file" from "the object is in the wrong state".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "mmap_array/export.hpp"

namespace mmap_array {

/// The library's own failure conditions (everything that is not an errno).
enum class errc {
  // The requested layout does not fit the file, or is itself invalid.
  invalid_itemsize = 1,  ///< an item size of zero
  offset_past_end,       ///< the byte offset lies beyond the end of the file
  range_past_end,        ///< offset + length lies beyond the end of the file
  size_not_multiple,     ///< the bytes after the offset are not a whole number of items
  shape_mismatch,        ///< an explicit shape does not cover the file exactly
  missing_shape,         ///< creating a file needs a shape
  size_overflow,         ///< a size computation overflowed 64 bits or the address space
  misaligned,            ///< a typed view's type does not fit the mapping's size or alignment
  not_writable,          ///< a writable view of a read-only mapping was asked for
  index_out_of_range,    ///< an index (of a row, element or byte) lies outside the array
  bad_argument,          ///< an argument outside its valid range (zero bins, a reversed range)
  // The object is in the wrong state.
  closed,                ///< the mapping was closed
};

/// What is wrong inside a file: one code per kind of malformation, so tests and callers can
/// tell them apart. Every one means the file's bytes are wrong, never the caller.
enum class format_errc {
  bad_magic = 1,        ///< the file does not start with the format's signature
  unsupported_version,  ///< a format version this library does not read
  truncated,            ///< the file ends before a length its header declares
  header_too_large,     ///< a header length above the safety cap
  bad_syntax,           ///< the header text does not parse (Python literal, JSON, UTF-8)
  bad_keys,             ///< missing, extra or duplicate keys in a header
  bad_value,            ///< a header value of the wrong type or range
  bad_dtype,            ///< an unknown or malformed element type
  object_dtype,         ///< an element type holding Python objects
  size_overflow,        ///< sizes in the header overflow 64 bits
  out_of_bounds,        ///< data declared beyond the end of the file
  gap,                  ///< bytes between arrays that belong to none
  overlap,              ///< two arrays claiming the same bytes
  trailing_bytes,       ///< bytes after the last array
  bad_archive,          ///< a malformed zip structure
  compressed_member,    ///< a compressed zip member, which cannot be mapped
  encrypted_member,     ///< an encrypted zip member
};

/// The error category of `format_errc`; its name is "mmap_array.format".
MMAP_ARRAY_EXPORT const std::error_category& format_category() noexcept;

/// Makes `std::error_code` from `format_errc` (found by argument-dependent lookup).
MMAP_ARRAY_EXPORT std::error_code make_error_code(format_errc e) noexcept;

/// The error category of `errc`; its name is "mmap_array".
MMAP_ARRAY_EXPORT const std::error_category& error_category() noexcept;

/// Makes `std::error_code` from `errc` (found by argument-dependent lookup).
MMAP_ARRAY_EXPORT std::error_code make_error_code(errc e) noexcept;

/// Base of every exception the library throws (besides std::bad_alloc).
///
/// `what()` reads "cannot <operation> '<path>': <cause>".
class MMAP_ARRAY_EXPORT error : public std::system_error {
 public:
  /// Builds the error; `detail` replaces the code's own message when not empty.
  error(std::error_code code, std::string_view operation, const std::filesystem::path& path,
        std::string_view detail = {});

  /// The operation that failed, e.g. "open" or "map".
  const std::string& operation() const noexcept { return operation_; }
  /// The path the operation was about, as the caller spelled it.
  const std::filesystem::path& path() const noexcept { return path_; }
  /// The cause alone, without operation and path.
  const std::string& cause() const noexcept { return cause_; }
  /// "cannot <operation> '<path>': <cause>".
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string operation_;
  std::filesystem::path path_;
  std::string cause_;
  std::string what_;
};

/// The operating system refused: `code()` holds the errno (system category).
/// A path that is not a regular file (FIFO, socket, device) is reported as
/// ENODEV, the errno mmap(2) itself gives for such files.
class MMAP_ARRAY_EXPORT os_error : public error {
 public:
  using error::error;
  /// The errno value.
  int errno_value() const noexcept { return code().value(); }
};

/// The requested layout (item size, offset, shape) does not fit the file.
class MMAP_ARRAY_EXPORT layout_error : public error {
 public:
  using error::error;
};

/// The file's bytes are wrong (bad signature, header, sizes): `code()` holds a format_errc.
class MMAP_ARRAY_EXPORT format_error : public error {
 public:
  using error::error;
};

/// The object is in a state that forbids the call (for example, closed).
class MMAP_ARRAY_EXPORT state_error : public error {
 public:
  using error::error;
};

/// The file behind a mapping is not the one that was mapped, or no longer as it was (another
/// device or inode at the path, another size, another .npy header): errno is ESTALE.
class MMAP_ARRAY_EXPORT file_changed_error : public os_error {
 public:
  /// `detail` says what changed; `path` names the file.
  file_changed_error(std::string_view operation, const std::filesystem::path& path,
                     std::string_view detail);
};

/// Throws the exception class that matches `code`: os_error for errno values, format_error
/// for `format_errc` values, state_error for `errc::closed`, layout_error for the other
/// `errc` values.
[[noreturn]] MMAP_ARRAY_EXPORT void throw_error(std::error_code code, std::string_view operation,
                              const std::filesystem::path& path, std::string_view detail = {});

}  // namespace mmap_array

template <>
struct std::is_error_code_enum<mmap_array::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<mmap_array::format_errc> : std::true_type {};
