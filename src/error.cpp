#include "mmap_array/error.hpp"

#include <cerrno>
#include <string>

namespace mmap_array {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mmap_array"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_itemsize: return "item size must be at least 1 byte";
      case errc::offset_past_end: return "offset is past the end of the file";
      case errc::range_past_end: return "range ends past the end of the file";
      case errc::size_not_multiple: return "size is not a multiple of the item size";
      case errc::shape_mismatch: return "shape does not match the file size";
      case errc::missing_shape: return "a shape is required";
      case errc::size_overflow: return "size overflows";
      case errc::misaligned: return "view does not fit the mapping's size or alignment";
      case errc::not_writable: return "mapping is read-only";
      case errc::index_out_of_range: return "index is out of range";
      case errc::bad_argument: return "argument is out of its valid range";
      case errc::closed: return "mapping is closed";
    }
    return "unknown mmap_array error";
  }
};

class format_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mmap_array.format"; }

  std::string message(int value) const override {
    switch (static_cast<format_errc>(value)) {
      case format_errc::bad_magic: return "not a file of the expected format (bad magic)";
      case format_errc::unsupported_version: return "unsupported format version";
      case format_errc::truncated: return "file is truncated";
      case format_errc::header_too_large: return "header is too large";
      case format_errc::bad_syntax: return "header does not parse";
      case format_errc::bad_keys: return "header has missing, extra or duplicate keys";
      case format_errc::bad_value: return "header has a value of the wrong type or range";
      case format_errc::bad_dtype: return "unknown or malformed dtype";
      case format_errc::object_dtype: return "dtype holds Python objects";
      case format_errc::size_overflow: return "sizes in the header overflow";
      case format_errc::out_of_bounds: return "data extends past the end of the file";
      case format_errc::gap: return "bytes between arrays belong to none";
      case format_errc::overlap: return "arrays overlap";
      case format_errc::trailing_bytes: return "bytes after the last array";
      case format_errc::bad_archive: return "malformed zip archive";
      case format_errc::compressed_member: return "compressed archive member";
      case format_errc::encrypted_member: return "encrypted archive member";
    }
    return "unknown format error";
  }
};

}  // namespace

const std::error_category& format_category() noexcept {
  static const format_category_impl instance;
  return instance;
}

std::error_code make_error_code(format_errc e) noexcept {
  return {static_cast<int>(e), format_category()};
}

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

error::error(std::error_code code, std::string_view operation, const std::filesystem::path& path,
             std::string_view detail)
    : std::system_error(code, std::string()),
      operation_(operation),
      path_(path),
      cause_(detail.empty() ? code.message() : std::string(detail)),
      what_("cannot " + operation_ + " '" + path_.string() + "': " + cause_) {}

file_changed_error::file_changed_error(std::string_view operation,
                                       const std::filesystem::path& path, std::string_view detail)
    : os_error(std::error_code(ESTALE, std::system_category()), operation, path, detail) {}

void throw_error(std::error_code code, std::string_view operation,
                 const std::filesystem::path& path, std::string_view detail) {
  if (code.category() == format_category()) throw format_error(code, operation, path, detail);
  if (code.category() != error_category()) throw os_error(code, operation, path, detail);
  if (code == errc::closed) throw state_error(code, operation, path, detail);
  throw layout_error(code, operation, path, detail);
}

}  // namespace mmap_array
