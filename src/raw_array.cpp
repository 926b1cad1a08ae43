#include "mmap_array/raw_array.hpp"

#include <string>
#include <string_view>

#include "capture_error.hpp"
#include "checked_math.hpp"
#include "file_posix.hpp"
#include "mapping_access.hpp"
#include "raw_map.hpp"

namespace mmap_array {
namespace {

std::string format_shape(std::span<const std::uint64_t> shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

// `operation` ("map" or "create") names the caller's request in the error message.
void check_itemsize(const raw_array_spec& spec, const std::filesystem::path& path,
                    std::string_view operation) {
  if (spec.itemsize == 0) {
    throw layout_error(errc::invalid_itemsize, operation, path, "item size must be at least 1 byte");
  }
}

std::uint64_t count_items(std::span<const std::uint64_t> shape, const std::filesystem::path& path,
                          std::string_view operation) {
  std::uint64_t count = 1;
  for (std::uint64_t dim : shape) {
    if (!detail::checked_mul(count, dim, count)) {
      throw layout_error(errc::size_overflow, operation, path,
                         "shape " + format_shape(shape) + " has 2**64 items or more");
    }
  }
  return count;
}

// Bytes the explicit shape of `spec` occupies; throws on overflow.
std::uint64_t shape_bytes(const raw_array_spec& spec, const std::filesystem::path& path,
                          std::string_view operation) {
  std::uint64_t bytes = 0;
  if (!detail::checked_mul(count_items(*spec.shape, path, operation), spec.itemsize, bytes)) {
    throw layout_error(errc::size_overflow, operation, path,
                       "shape " + format_shape(*spec.shape) + " of " +
                           std::to_string(spec.itemsize) + "-byte items overflows 64 bits");
  }
  return bytes;
}

// Bytes the array of `spec` occupies in a file of `file_size` bytes; throws layout_error
// naming the numbers when the declaration does not fit.
std::uint64_t array_bytes(const raw_array_spec& spec, std::uint64_t file_size,
                          const std::filesystem::path& path) {
  if (spec.offset > file_size) {
    throw layout_error(errc::offset_past_end, "map", path,
                       "offset " + std::to_string(spec.offset) +
                           " is past the end of the file (size " + std::to_string(file_size) +
                           ")");
  }
  const std::uint64_t rest = file_size - spec.offset;
  if (!spec.shape) {
    if (rest % spec.itemsize != 0) {
      throw layout_error(
          errc::size_not_multiple, "map", path,
          (spec.offset == 0 ? "file size " + std::to_string(file_size)
                            : "the " + std::to_string(rest) + " bytes after offset " +
                                  std::to_string(spec.offset) + " (file size " +
                                  std::to_string(file_size) + ")") +
              " is not a multiple of itemsize " + std::to_string(spec.itemsize));
    }
    return rest;
  }
  const std::uint64_t bytes = shape_bytes(spec, path, "map");
  if (bytes != rest) {
    throw layout_error(errc::shape_mismatch, "map", path,
                       "shape " + format_shape(*spec.shape) + " of " +
                           std::to_string(spec.itemsize) + "-byte items needs " +
                           std::to_string(bytes) + " bytes after offset " +
                           std::to_string(spec.offset) + ", but the file has " +
                           std::to_string(rest) + " (file size " + std::to_string(file_size) +
                           ")");
  }
  return bytes;
}

}  // namespace

std::uint64_t item_count(std::span<const std::uint64_t> shape, const std::filesystem::path& path) {
  return count_items(shape, path, "map");
}

namespace detail {

void check_raw_spec(const raw_array_spec& spec, const std::filesystem::path& path) {
  check_itemsize(spec, path, "map");
}

mapped_file map_opened_raw_array(const opened_file& file, std::filesystem::path&& path,
                                 access_mode mode, const raw_array_spec& spec) {
  const std::uint64_t bytes = array_bytes(spec, file.identity.size, path);
  return mapping_access::map(file.fd.get(), file.identity, std::move(path), mode, spec.offset,
                             bytes);
}

}  // namespace detail

mapped_file map_raw_array(std::filesystem::path path, access_mode mode,
                          const raw_array_spec& spec) {
  detail::check_raw_spec(spec, path);
  const detail::opened_file file = detail::open_regular_file(path, mode);
  return detail::map_opened_raw_array(file, std::move(path), mode, spec);
}

mapped_file map_raw_array(const std::filesystem::path& path, access_mode mode,
                          const raw_array_spec& spec, std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return map_raw_array(path, mode, spec); });
}

mapped_file create_raw_array(const std::filesystem::path& path, const raw_array_spec& spec) {
  check_itemsize(spec, path, "create");
  if (!spec.shape) {
    throw layout_error(errc::missing_shape, "create", path, "a shape is required to create a file");
  }
  const std::uint64_t bytes = shape_bytes(spec, path, "create");
  std::uint64_t file_size = 0;
  if (!detail::checked_add(spec.offset, bytes, file_size)) {
    throw layout_error(errc::size_overflow, "create", path,
                       "offset " + std::to_string(spec.offset) + " plus " + std::to_string(bytes) +
                           " bytes overflows 64 bits");
  }
  return mapped_file::create(path, file_size, {spec.offset, bytes});
}

mapped_file create_raw_array(const std::filesystem::path& path, const raw_array_spec& spec,
                             std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return create_raw_array(path, spec); });
}

}  // namespace mmap_array
