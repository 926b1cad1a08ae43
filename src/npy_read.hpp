// Reading an .npy header out of an open file, shared by map_npy (the .npy is
// the whole file) and map_npz (it is a stored member of an archive).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "mmap_array/npy.hpp"

namespace mmap_array::detail {

/// Reads and checks the header of the .npy stream of `available` bytes at `offset` of the
/// file open as `fd`: the header length is checked against `limits` and `available` before
/// the header is read, and header + data must fit in `available`. `container` ("file",
/// "member") names the stream in messages. The header's data_offset is relative to
/// `offset`. Throws os_error or format_error.
npy_header read_npy_header(int fd, std::uint64_t offset, std::uint64_t available,
                           const std::filesystem::path& path, const npy_limits& limits,
                           std::string_view container);

/// The first bytes of an .npy stream, read at once.
struct npy_head {
  std::unique_ptr<std::byte[]> bytes;
  std::size_t size = 0;
  std::span<const std::byte> view() const noexcept { return {bytes.get(), size}; }
};

/// The first bytes of the .npy stream of `available` bytes at `offset` of the file open as
/// `fd`, in one read: the preamble and, nearly always, the whole header. Throws os_error.
npy_head read_npy_head(int fd, std::uint64_t offset, std::uint64_t available,
                       const std::filesystem::path& path);

/// read_npy_header from the bytes read_npy_head returned: reads the rest of a long header.
npy_header finish_npy_header(const npy_head& head, int fd, std::uint64_t offset,
                             std::uint64_t available, const std::filesystem::path& path,
                             const npy_limits& limits, std::string_view container);

}  // namespace mmap_array::detail
