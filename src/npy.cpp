// .npy files: map the data of an existing one, create a new one.
#include <algorithm>
#include <string>
#include <vector>

#include "capture_error.hpp"
#include "checked_math.hpp"
#include "file_posix.hpp"
#include "mapping_access.hpp"
#include "mmap_array/npy.hpp"
#include "npy_header.hpp"
#include "npy_read.hpp"
#include "raw_map.hpp"

namespace mmap_array {
namespace detail {

npy_head read_npy_head(int fd, std::uint64_t offset, std::uint64_t available,
                       const std::filesystem::path& path) {
  // One read takes the preamble and, nearly always, the whole header: np.save pads headers to
  // 64 bytes and rarely needs more than a few hundred. Larger ones take a second read.
  constexpr std::uint64_t kFirstRead = 4096;
  npy_head head;
  head.size = static_cast<std::size_t>(std::min(available, kFirstRead));
  // Not zeroed first: the read fills it (zeroing 4 KiB was 3% of an .npy open's instructions).
  head.bytes.reset(new std::byte[head.size]);
  read_exact(fd, offset, {head.bytes.get(), head.size}, path);
  return head;
}

npy_header read_npy_header(int fd, std::uint64_t offset, std::uint64_t available,
                           const std::filesystem::path& path, const npy_limits& limits,
                           std::string_view container) {
  return finish_npy_header(read_npy_head(fd, offset, available, path), fd, offset, available,
                           path, limits, container);
}

npy_header finish_npy_header(const npy_head& head, int fd, std::uint64_t offset,
                             std::uint64_t available, const std::filesystem::path& path,
                             const npy_limits& limits, std::string_view container) {
  // A stream shorter than the preamble is still judged by its magic: a 3-byte text file is
  // not an .npy file, while the first 3 bytes of one are a truncated .npy file.
  const std::size_t present = std::min(head.size, npy_preamble_size);
  const npy_preamble preamble = parse_npy_preamble(head.view().first(present), path, limits);

  // header_length (at most 2**32 - 1 by the format) has passed the cap; with the check
  // against the stream's size, the buffer below is bounded by both.
  const std::uint64_t header_end = preamble.size + preamble.header_length;
  if (header_end > available) {
    throw format_error(format_errc::truncated, "read", path,
                       "the .npy header of " + std::to_string(preamble.header_length) +
                           " bytes ends at byte " + std::to_string(header_end) +
                           ", past the end of the " + std::string(container) + " (size " +
                           std::to_string(available) + ")");
  }
  std::vector<std::byte> longer;  // a header the first read did not hold whole
  std::span<const std::byte> bytes = head.view();
  if (header_end > head.size) {
    longer.resize(static_cast<std::size_t>(header_end));
    std::copy(bytes.begin(), bytes.end(), longer.begin());
    read_exact(fd, offset + head.size, std::span(longer).subspan(head.size), path);
    bytes = longer;
  }
  npy_header header =
      parse_npy_header(bytes.first(static_cast<std::size_t>(header_end)), path, limits);

  // Bytes after the array are allowed, as NumPy allows them; missing ones are not.
  std::uint64_t data_end = 0;
  if (!checked_add(header.data_offset, header.data_size, data_end) || data_end > available) {
    throw format_error(format_errc::out_of_bounds, "map", path,
                       "the array's " + std::to_string(header.data_size) + " bytes at offset " +
                           std::to_string(header.data_offset) + " end past the end of the " +
                           std::string(container) + " (size " + std::to_string(available) + ")");
  }
  return header;
}

}  // namespace detail

mapped_npy map_npy(std::filesystem::path path, access_mode mode, const npy_limits& limits) {
  detail::opened_file file = detail::open_regular_file(path, mode);
  npy_header header =
      detail::read_npy_header(file.fd.get(), 0, file.identity.size, path, limits, "file");
  mapped_file data = detail::mapping_access::map(file.fd.get(), file.identity, std::move(path),
                                                 mode, header.data_offset, header.data_size);
  return {std::move(header), std::move(data)};
}

mapped_npy map_npy(const std::filesystem::path& path, access_mode mode, const npy_limits& limits,
                   std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return map_npy(path, mode, limits); });
}

mapped_npy_or_raw map_npy_or_raw(std::filesystem::path path, access_mode mode,
                                 const raw_array_spec& raw, const npy_limits& limits) {
  detail::check_raw_spec(raw, path);
  const detail::opened_file file = detail::open_regular_file(path, mode);
  const detail::npy_head head = detail::read_npy_head(file.fd.get(), 0, file.identity.size, path);
  mapped_npy_or_raw result;
  if (!detail::has_npy_magic(head.view())) {
    result.data = detail::map_opened_raw_array(file, std::move(path), mode, raw);
    return result;
  }
  result.header = detail::finish_npy_header(head, file.fd.get(), 0,
                                            file.identity.size, path, limits, "file");
  result.data = detail::mapping_access::map(file.fd.get(), file.identity, std::move(path), mode,
                                            result.header->data_offset,
                                            result.header->data_size);
  return result;
}

mapped_npy_or_raw map_npy_or_raw(const std::filesystem::path& path, access_mode mode,
                                 const raw_array_spec& raw, const npy_limits& limits,
                                 std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return map_npy_or_raw(path, mode, raw, limits); });
}

mapped_npy create_npy(const std::filesystem::path& path, const npy_dtype& dtype,
                      std::span<const std::uint64_t> shape, bool fortran_order) {
  detail::npy_layout layout = detail::make_npy_layout(dtype, shape, fortran_order, "create", path);
  std::uint64_t file_size = 0;
  if (!detail::checked_add(layout.header.data_offset, layout.header.data_size, file_size)) {
    throw format_error(format_errc::size_overflow, "create", path,
                       "a header of " + std::to_string(layout.header.data_offset) + " bytes and " +
                           std::to_string(layout.header.data_size) +
                           " bytes of data add up to 2**64 bytes or more");
  }
  mapped_file data = detail::mapping_access::create(
      path, std::as_bytes(std::span(layout.prefix)), file_size, layout.header.data_offset,
      layout.header.data_size);
  return {std::move(layout.header), std::move(data)};
}

mapped_npy create_npy(const std::filesystem::path& path, const npy_dtype& dtype,
                      std::span<const std::uint64_t> shape, bool fortran_order,
                      std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return create_npy(path, dtype, shape, fortran_order); });
}

}  // namespace mmap_array
