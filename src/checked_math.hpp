// Checked arithmetic for sizes that come from callers or from files: every
// multiply and add that could wrap reports overflow instead.
#pragma once

#include <cstdint>

namespace mmap_array::detail {

/// Sets `out = a * b`; returns false on overflow.
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
  return !__builtin_mul_overflow(a, b, &out);
}

/// Sets `out = a + b`; returns false on overflow.
inline bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
  return !__builtin_add_overflow(a, b, &out);
}

}  // namespace mmap_array::detail
