// From a byte range of a mapping to the whole pages that hold it: the one place
// ranges are checked against the mapping and widened outward for the kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mmap_array/access.hpp"
#include "mmap_array/mapped_file.hpp"

namespace mmap_array::detail {

/// The system's page size, in bytes.
std::size_t system_page_size() noexcept;

/// A checked byte range of a mapping, and the pages that hold it.
struct page_span {
  std::size_t offset = 0;     // of the range's first byte, from data()
  std::size_t length = 0;     // bytes in the range
  std::byte* pages = nullptr; // first byte of the first page holding the range
  std::size_t pages_length = 0;  // bytes from `pages` to the end of the last page; 0 if empty
};

/// Checks that `file` is open (state_error) and `range` lies inside it (layout_error
/// range_past_end), naming `operation` in the message, and widens the range to pages: the
/// page below its first byte to the page boundary above its last. The mapping covers those
/// pages whole, since the kernel maps whole pages.
page_span pages_of(const mapped_file& file, const mapping_range& range,
                   std::string_view operation);

}  // namespace mmap_array::detail
