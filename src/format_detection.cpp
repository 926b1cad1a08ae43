#include <algorithm>
#include <array>
#include <cstring>

#include "file_posix.hpp"
#include "npy_header.hpp"
#include "mmap_array/format.hpp"

namespace mmap_array {
namespace {

constexpr std::uint64_t kSafetensorsHeaderCap = 100'000'000;

bool starts_with(std::span<const std::byte> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() && std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

std::string_view to_string(file_format format) noexcept {
  switch (format) {
    case file_format::raw: return "raw";
    case file_format::npy: return "npy";
    case file_format::npz: return "npz";
    case file_format::safetensors: return "safetensors";
  }
  return "raw";
}

file_format detect_format(const std::filesystem::path& path) {
  detail::opened_file file = detail::open_regular_file(path, access_mode::read_only);
  std::array<std::byte, 9> head{};
  const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(head.size(), file.identity.size));
  const std::span<std::byte> bytes(head.data(), length);
  detail::read_exact(file.fd.get(), 0, bytes, path);

  if (detail::has_npy_magic(bytes)) return file_format::npy;
  if (starts_with(bytes, "PK\x03\x04") || starts_with(bytes, "PK\x05\x06")) return file_format::npz;
  if (length == head.size() && head[8] == std::byte{'{'}) {
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | std::to_integer<std::uint64_t>(head[static_cast<std::size_t>(i)]);
    if (n >= 2 && n <= kSafetensorsHeaderCap && n <= file.identity.size - 8) return file_format::safetensors;
  }
  return file_format::raw;
}

}  // namespace mmap_array
