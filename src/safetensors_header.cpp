#include "safetensors_header.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "checked_math.hpp"
#include "json_reader.hpp"
#include "json_writer.hpp"
#include "utf8.hpp"

namespace mmap_array {

namespace detail {

std::uint64_t safetensors_header_length(std::span<const std::byte> prefix,
                                        std::uint64_t file_size,
                                        const std::filesystem::path& path,
                                        const safetensors_limits& limits) {
  if (file_size < 8) {
    throw format_error(format_errc::truncated, safetensors_read_operation, path,
                       "the file has " + std::to_string(file_size) +
                           " bytes, fewer than the 8 of the header length");
  }
  if (prefix.size() < 8) {
    throw format_error(format_errc::truncated, safetensors_read_operation, path,
                       "only " + std::to_string(prefix.size()) +
                           " bytes of the file were given, fewer than the 8 of the header "
                           "length");
  }
  std::uint64_t length = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    length |= static_cast<std::uint64_t>(prefix[i]) << (8 * i);
  }
  if (length > limits.max_header_size) {
    throw format_error(format_errc::header_too_large, safetensors_read_operation, path,
                       "the header length " + std::to_string(length) + " exceeds the limit of " +
                           std::to_string(limits.max_header_size) + " bytes");
  }
  std::uint64_t end = 0;
  if (!checked_add(8, length, end) || end > file_size) {
    throw format_error(format_errc::truncated, safetensors_read_operation, path,
                       "the header length " + std::to_string(length) + " needs 8 + " +
                           std::to_string(length) + " bytes, but the file has " +
                           std::to_string(file_size));
  }
  return length;
}

}  // namespace detail

namespace {

using detail::json_kind;
using detail::quote;

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr std::string_view kWriteOperation = "write a safetensors header";

// A shape for a message; a hostile one can have millions of dimensions, so only the first
// few are shown.
std::string shape_text(std::span<const std::uint64_t> shape) {
  constexpr std::size_t kShown = 16;
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size() && i < kShown; ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() > kShown) text += ", ... (" + std::to_string(shape.size()) + " dimensions)";
  return text + "]";
}

std::string label(const safetensors_tensor& tensor) { return "tensor " + quote(tensor.name); }

std::string offsets_text(const safetensors_tensor& tensor) {
  return "data_offsets [" + std::to_string(tensor.begin) + ", " + std::to_string(tensor.end) + "]";
}

// Where format_errors of the shared checks go: the operation and path of the caller.
struct error_site {
  std::string_view operation;
  const std::filesystem::path& path;

  [[noreturn]] void fail(format_errc code, const std::string& message) const {
    throw format_error(code, operation, path, message);
  }
};

std::uint64_t byte_size(const safetensors_tensor& tensor, const error_site& site) {
  const unsigned bits = bits_of(tensor.dtype);
  if (bits == 0) {
    site.fail(format_errc::bad_dtype,
              label(tensor) + ": dtype value " +
                  std::to_string(static_cast<int>(tensor.dtype)) + " is not a safetensors dtype");
  }
  // The dimensions other than a zero one still set the strides of the array a reader builds,
  // so their product must not overflow either (NumPy refuses such shapes too).
  std::uint64_t count = 1;
  bool empty = false;
  for (const std::uint64_t dim : tensor.shape) {
    if (dim == 0) {
      empty = true;
    } else if (!detail::checked_mul(count, dim, count)) {
      site.fail(format_errc::size_overflow, label(tensor) + ": shape " +
                                                shape_text(tensor.shape) +
                                                " has 2**64 elements or more");
    }
  }
  std::uint64_t total_bits = 0;
  if (!detail::checked_mul(count, bits, total_bits)) {
    site.fail(format_errc::size_overflow,
              label(tensor) + ": shape " + shape_text(tensor.shape) + " of " +
                  std::string(to_string(tensor.dtype)) + " elements has 2**64 bits or more");
  }
  if (empty) return 0;
  if (total_bits % 8 != 0) {
    site.fail(format_errc::bad_value,
              label(tensor) + ": shape " + shape_text(tensor.shape) + " holds " +
                  std::to_string(count) + " " + std::string(to_string(tensor.dtype)) +
                  " elements of " + std::to_string(bits) +
                  " bits, which is not a whole number of bytes");
  }
  return total_bits / 8;
}

// Checks one tensor's offsets against its dtype and shape.
void check_extent(const safetensors_tensor& tensor, const error_site& site) {
  if (tensor.begin > tensor.end) {
    site.fail(format_errc::bad_value,
              label(tensor) + ": " + offsets_text(tensor) + " begin after they end");
  }
  const std::uint64_t size = byte_size(tensor, site);
  if (tensor.end - tensor.begin != size) {
    site.fail(format_errc::bad_value,
              label(tensor) + ": dtype " + std::string(to_string(tensor.dtype)) + " and shape " +
                  shape_text(tensor.shape) + " need " + std::to_string(size) + " bytes, but " +
                  offsets_text(tensor) + " span " + std::to_string(tensor.end - tensor.begin));
  }
}

bool offset_order(const safetensors_tensor& a, const safetensors_tensor& b) {
  return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
}

// Checks that `sorted` (in offset_order) covers [0, data_size) exactly: no gap, no overlap,
// nothing past the end, nothing left over. `where` describes the data section in messages.
void check_tiling(std::span<const safetensors_tensor* const> sorted, std::uint64_t data_size,
                  const std::string& where, const error_site& site) {
  std::uint64_t cursor = 0;
  const safetensors_tensor* previous = nullptr;
  for (const safetensors_tensor* tensor : sorted) {
    if (tensor->begin < cursor) {
      site.fail(format_errc::overlap, label(*tensor) + " (" + offsets_text(*tensor) +
                                          ") overlaps " + label(*previous) + " (" +
                                          offsets_text(*previous) + ")");
    }
    if (tensor->begin > cursor) {
      const std::string bytes = "bytes " + std::to_string(cursor) + " to " +
                                std::to_string(tensor->begin) + " of the data belong to no tensor";
      site.fail(format_errc::gap,
                previous == nullptr
                    ? bytes + ": the first tensor, " + quote(tensor->name) + ", begins at " +
                          std::to_string(tensor->begin)
                    : bytes + ": " + label(*previous) + " ends at " + std::to_string(cursor) +
                          " and " + label(*tensor) + " begins at " +
                          std::to_string(tensor->begin));
    }
    if (tensor->end > data_size) {
      site.fail(format_errc::out_of_bounds,
                label(*tensor) + " (" + offsets_text(*tensor) + ") ends past the " +
                    std::to_string(data_size) + " bytes of the data section" + where);
    }
    cursor = tensor->end;
    previous = tensor;
  }
  if (cursor < data_size) {
    site.fail(format_errc::trailing_bytes,
              previous == nullptr
                  ? "no tensors are declared, but the data section has " +
                        std::to_string(data_size) + " bytes" + where
                  : "bytes " + std::to_string(cursor) + " to " + std::to_string(data_size) +
                        " of the data belong to no tensor: the last, " + quote(previous->name) +
                        ", ends at " + std::to_string(cursor) + where);
  }
}

void read_metadata(detail::json_reader& reader,
                   std::vector<std::pair<std::string, std::string>>& metadata) {
  reader.expect(json_kind::object, "\"__metadata__\"");
  reader.begin_object();
  std::string key;
  while (reader.next_member(key)) {
    reader.expect(json_kind::string, "\"__metadata__\" entry " + quote(key));
    std::string value = reader.read_string();
    metadata.emplace_back(std::move(key), std::move(value));
  }
}

std::uint64_t read_data_offsets(detail::json_reader& reader, const std::string& name,
                                std::uint64_t& begin) {
  const std::string what = name + " data_offsets";
  reader.expect(json_kind::array, what);
  const std::uint64_t at = reader.offset();
  reader.begin_array();
  std::uint64_t values[2] = {0, 0};
  std::size_t count = 0;
  while (reader.next_element()) {
    if (count == 2) {
      reader.fail(format_errc::bad_value, what + ": expected 2 integers, found more", at);
    }
    values[count++] = reader.read_uint64(what);
  }
  if (count != 2) {
    reader.fail(format_errc::bad_value,
                what + ": expected 2 integers, found " + std::to_string(count), at);
  }
  begin = values[0];
  return values[1];
}

safetensors_tensor read_tensor(detail::json_reader& reader, std::string name) {
  safetensors_tensor tensor;
  tensor.name = std::move(name);
  const std::string what = label(tensor);
  reader.expect(json_kind::object, what);
  const std::uint64_t at = reader.offset();
  reader.begin_object();
  bool have_dtype = false;
  bool have_shape = false;
  bool have_offsets = false;
  std::string key;
  while (reader.next_member(key)) {
    if (key == "dtype") {
      reader.expect(json_kind::string, what + " dtype");
      const std::uint64_t dtype_at = reader.offset();
      const std::string dtype = reader.read_string();
      const std::optional<safetensors_dtype> parsed = parse_safetensors_dtype(dtype);
      if (!parsed) {
        reader.fail(format_errc::bad_dtype,
                    what + ": expected a safetensors dtype such as \"F32\" or \"BF16\", found " +
                        quote(dtype),
                    dtype_at);
      }
      tensor.dtype = *parsed;
      have_dtype = true;
    } else if (key == "shape") {
      const std::string shape_what = what + " shape";
      reader.expect(json_kind::array, shape_what);
      reader.begin_array();
      while (reader.next_element()) tensor.shape.push_back(reader.read_uint64(shape_what));
      have_shape = true;
    } else if (key == "data_offsets") {
      tensor.end = read_data_offsets(reader, what, tensor.begin);
      have_offsets = true;
    } else {
      reader.fail(format_errc::bad_keys,
                  what + ": expected only the keys \"dtype\", \"shape\" and \"data_offsets\", "
                         "found " + quote(key),
                  reader.key_offset());
    }
  }
  for (const auto& [present, name_of_key] : {std::pair{have_dtype, "dtype"},
                                             std::pair{have_shape, "shape"},
                                             std::pair{have_offsets, "data_offsets"}}) {
    if (!present) {
      reader.fail(format_errc::bad_keys,
                  what + ": expected the keys \"dtype\", \"shape\" and \"data_offsets\", found "
                         "no \"" + std::string(name_of_key) + "\"",
                  at);
    }
  }
  return tensor;
}

void require_utf8(std::string_view text, const std::string& what, const error_site& site) {
  if (const std::optional<detail::utf8_error> bad = detail::find_invalid_utf8(text)) {
    site.fail(format_errc::bad_value, what + " " + quote(text) + " is not UTF-8: " +
                                          std::string(bad->reason) + " at byte " +
                                          std::to_string(bad->offset));
  }
}

void append_number(std::string& out, std::uint64_t value) { out += std::to_string(value); }

}  // namespace

safetensors_header parse_safetensors_header(std::span<const std::byte> file_prefix,
                                            std::uint64_t file_size,
                                            const std::filesystem::path& path,
                                            const safetensors_limits& limits) {
  const std::uint64_t length =
      detail::safetensors_header_length(file_prefix, file_size, path, limits);
  if (file_prefix.size() - 8 < length) {
    throw format_error(format_errc::truncated, detail::safetensors_read_operation, path,
                       "only " + std::to_string(file_prefix.size()) +
                           " bytes of the file were given, fewer than the 8 + " +
                           std::to_string(length) + " of the length and header");
  }
  const std::string_view json(reinterpret_cast<const char*>(file_prefix.data()) + 8,
                              static_cast<std::size_t>(length));

  safetensors_header header;
  header.data_offset = 8 + length;
  header.data_size = file_size - header.data_offset;

  detail::json_reader reader(json, detail::safetensors_read_operation, path, 8);
  reader.expect(json_kind::object, "the header");
  if (json.front() != '{') {
    reader.fail(format_errc::bad_syntax,
                "expected the header to begin with '{', found whitespace before it", 8);
  }
  reader.begin_object();
  std::string key;
  while (reader.next_member(key)) {
    if (key == kMetadataKey) {
      read_metadata(reader, header.metadata);
    } else {
      header.tensors.push_back(read_tensor(reader, std::move(key)));
      check_extent(header.tensors.back(), {detail::safetensors_read_operation, path});
    }
  }
  reader.finish();

  std::sort(header.tensors.begin(), header.tensors.end(), offset_order);
  std::vector<const safetensors_tensor*> sorted;
  sorted.reserve(header.tensors.size());
  for (const safetensors_tensor& tensor : header.tensors) sorted.push_back(&tensor);
  check_tiling(sorted, header.data_size,
               " (file size " + std::to_string(file_size) + ", data from byte " +
                   std::to_string(header.data_offset) + ")",
               {detail::safetensors_read_operation, path});
  return header;
}

std::string format_safetensors_header(
    std::span<const safetensors_tensor> tensors,
    std::span<const std::pair<std::string, std::string>> metadata) {
  const std::filesystem::path no_path;
  const error_site site{kWriteOperation, no_path};

  std::set<std::string_view> names;
  for (const safetensors_tensor& tensor : tensors) {
    require_utf8(tensor.name, "tensor name", site);
    if (tensor.name == kMetadataKey) {
      site.fail(format_errc::bad_keys,
                "a tensor cannot be named \"__metadata__\", the key of the metadata");
    }
    if (!names.insert(tensor.name).second) {
      site.fail(format_errc::bad_keys, label(tensor) + " is named twice");
    }
    check_extent(tensor, site);
  }
  std::set<std::string_view> keys;
  for (const auto& [key, value] : metadata) {
    require_utf8(key, "metadata key", site);
    require_utf8(value, "metadata value", site);
    if (!keys.insert(key).second) {
      site.fail(format_errc::bad_keys, "metadata key " + quote(key) + " is given twice");
    }
  }

  std::vector<const safetensors_tensor*> sorted;
  sorted.reserve(tensors.size());
  std::uint64_t data_size = 0;
  for (const safetensors_tensor& tensor : tensors) {
    sorted.push_back(&tensor);
    data_size = std::max(data_size, tensor.end);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const safetensors_tensor* a, const safetensors_tensor* b) {
              return offset_order(*a, *b);
            });
  check_tiling(sorted, data_size, "", site);

  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    for (std::size_t i = 0; i < metadata.size(); ++i) {
      if (i > 0) json += ',';
      detail::append_json_string(json, metadata[i].first);
      json += ':';
      detail::append_json_string(json, metadata[i].second);
    }
    json += '}';
  }
  for (const safetensors_tensor& tensor : tensors) {
    if (json.size() > 1) json += ',';
    detail::append_json_string(json, tensor.name);
    json += ":{\"dtype\":\"";
    json += to_string(tensor.dtype);
    json += "\",\"shape\":[";
    for (std::size_t i = 0; i < tensor.shape.size(); ++i) {
      if (i > 0) json += ',';
      append_number(json, tensor.shape[i]);
    }
    json += "],\"data_offsets\":[";
    append_number(json, tensor.begin);
    json += ',';
    append_number(json, tensor.end);
    json += "]}";
  }
  json += '}';
  // Spaces, as the format allows, so the data that follows starts 8-byte aligned.
  json.append((8 - json.size() % 8) % 8, ' ');

  const std::uint64_t cap = safetensors_limits{}.max_header_size;
  if (json.size() > cap) {
    site.fail(format_errc::header_too_large,
              "the header would be " + std::to_string(json.size()) +
                  " bytes, more than the limit of " + std::to_string(cap) +
                  " that readers apply");
  }
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>((json.size() >> (8 * i)) & 0xFF);
  }
  bytes += json;
  return bytes;
}

}  // namespace mmap_array
