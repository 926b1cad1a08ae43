#include <array>

#include "mmap_array/safetensors.hpp"

namespace mmap_array {
namespace {

struct dtype_info {
  safetensors_dtype dtype;
  std::string_view name;
  unsigned bits;
};

// In the enum's order, so the table can be indexed by the enum's value.
constexpr std::array<dtype_info, 22> kDtypes{{
    {safetensors_dtype::BOOL, "BOOL", 8},
    {safetensors_dtype::U8, "U8", 8},
    {safetensors_dtype::I8, "I8", 8},
    {safetensors_dtype::I16, "I16", 16},
    {safetensors_dtype::U16, "U16", 16},
    {safetensors_dtype::I32, "I32", 32},
    {safetensors_dtype::U32, "U32", 32},
    {safetensors_dtype::I64, "I64", 64},
    {safetensors_dtype::U64, "U64", 64},
    {safetensors_dtype::F16, "F16", 16},
    {safetensors_dtype::BF16, "BF16", 16},
    {safetensors_dtype::F32, "F32", 32},
    {safetensors_dtype::F64, "F64", 64},
    {safetensors_dtype::C64, "C64", 64},  // two float32
    {safetensors_dtype::F8_E5M2, "F8_E5M2", 8},
    {safetensors_dtype::F8_E4M3, "F8_E4M3", 8},
    {safetensors_dtype::F8_E8M0, "F8_E8M0", 8},
    {safetensors_dtype::F8_E4M3FNUZ, "F8_E4M3FNUZ", 8},
    {safetensors_dtype::F8_E5M2FNUZ, "F8_E5M2FNUZ", 8},
    {safetensors_dtype::F4, "F4", 4},
    {safetensors_dtype::F6_E2M3, "F6_E2M3", 6},
    {safetensors_dtype::F6_E3M2, "F6_E3M2", 6},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kDtypes.size(); ++i) {
    if (static_cast<std::size_t>(kDtypes[i].dtype) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order());

const dtype_info* info_of(safetensors_dtype dtype) noexcept {
  const auto index = static_cast<std::size_t>(dtype);
  return index < kDtypes.size() ? &kDtypes[index] : nullptr;
}

}  // namespace

std::string_view to_string(safetensors_dtype dtype) noexcept {
  const dtype_info* info = info_of(dtype);
  return info != nullptr ? info->name : std::string_view("?");
}

std::optional<safetensors_dtype> parse_safetensors_dtype(std::string_view name) noexcept {
  for (const dtype_info& info : kDtypes) {
    if (info.name == name) return info.dtype;
  }
  return std::nullopt;
}

unsigned bits_of(safetensors_dtype dtype) noexcept {
  const dtype_info* info = info_of(dtype);
  return info != nullptr ? info->bits : 0;
}

}  // namespace mmap_array
