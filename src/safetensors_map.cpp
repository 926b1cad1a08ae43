#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "capture_error.hpp"
#include "file_posix.hpp"
#include "mapping_access.hpp"
#include "mmap_array/safetensors.hpp"
#include "safetensors_header.hpp"

namespace mmap_array {

mapped_safetensors map_safetensors(const std::filesystem::path& path, access_mode mode,
                                   const safetensors_limits& limits) {
  detail::opened_file file = detail::open_regular_file(path, mode);
  const std::uint64_t file_size = file.identity.size;

  std::array<std::byte, 8> length_bytes{};
  const std::span<std::byte> length_span =
      std::span(length_bytes).first(file_size < 8 ? static_cast<std::size_t>(file_size) : 8);
  detail::read_exact(file.fd.get(), 0, length_span, path);
  const std::uint64_t length =
      detail::safetensors_header_length(length_span, file_size, path, limits);

  // The length was just checked against the cap and the file size, so the file's claim
  // cannot make this allocation larger than either.
  std::vector<std::byte> prefix(static_cast<std::size_t>(8 + length));
  std::copy(length_bytes.begin(), length_bytes.end(), prefix.begin());
  detail::read_exact(file.fd.get(), 8, std::span(prefix).subspan(8), path);

  safetensors_header header = parse_safetensors_header(prefix, file_size, path, limits);
  mapped_file data = detail::mapping_access::map(file.fd.get(), file.identity, path, mode,
                                                 header.data_offset, header.data_size);
  return {std::move(header), std::move(data)};
}

mapped_safetensors map_safetensors(const std::filesystem::path& path, access_mode mode,
                                   const safetensors_limits& limits,
                                   std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return map_safetensors(path, mode, limits); });
}

}  // namespace mmap_array
