// The .npy header: magic, version, length, and the dict literal holding
// 'descr', 'fortran_order' and 'shape'; read strictly, written as NumPy
// writes it (same keys, order, spacing, padding and growth room).
#include "npy_header.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "checked_math.hpp"
#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"
#include "npy_descr.hpp"
#include "py_literal.hpp"
#include "utf8.hpp"

namespace mmap_array {
namespace detail {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// Digits NumPy reserves for the growing axis, so appending rows rewrites the header in place.
constexpr std::size_t kGrowthAxisMaxDigits = 21;
constexpr std::size_t kAlignment = 64;

std::string_view as_text(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string hex_dump(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    char text[4];
    std::snprintf(text, sizeof text, "%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    if (!out.empty()) out += ' ';
    out += text;
  }
  return out;
}

[[noreturn]] void fail(format_errc code, const std::filesystem::path& path,
                       const std::string& message) {
  throw format_error(code, "parse", path, message);
}

std::string dims_text(const npy_header& header) { return py_tuple(header.shape); }

void check_keys(const py_value& dict, const std::filesystem::path& path) {
  static constexpr std::array<std::string_view, 3> kKeys = {"descr", "fortran_order", "shape"};
  std::array<bool, 3> seen{};
  for (std::size_t i = 0; i < dict.items.size(); i += 2) {
    const py_value& key = dict.items[i];
    if (key.type != py_value::kind::str) {
      fail(format_errc::bad_keys, path, "header key " + describe(key) + " is not a str");
    }
    const auto known = std::find(kKeys.begin(), kKeys.end(), key.text);
    if (known == kKeys.end()) {
      fail(format_errc::bad_keys, path,
           "unexpected header key " + quote_py_str(key.text) +
               " (the keys are exactly 'descr', 'fortran_order' and 'shape')");
    }
    const auto index = static_cast<std::size_t>(known - kKeys.begin());
    if (seen[index]) {
      fail(format_errc::bad_keys, path, "header key " + quote_py_str(key.text) + " occurs twice");
    }
    seen[index] = true;
  }
  for (std::size_t i = 0; i < kKeys.size(); ++i) {
    if (!seen[i]) {
      fail(format_errc::bad_keys, path,
           "header has no key " + quote_py_str(kKeys[i]) +
               " (the keys are exactly 'descr', 'fortran_order' and 'shape')");
    }
  }
}

const py_value& value_of(const py_value& dict, std::string_view key) {
  for (std::size_t i = 0; i < dict.items.size(); i += 2) {
    if (dict.items[i].text == key) return dict.items[i + 1];
  }
  return dict;  // unreachable once check_keys has passed
}

std::vector<std::uint64_t> parse_shape(const py_value& value, const std::filesystem::path& path) {
  if (value.type != py_value::kind::tuple) {
    fail(format_errc::bad_value, path, "'shape' is " + describe(value) + ", not a tuple of ints");
  }
  std::vector<std::uint64_t> shape;
  shape.reserve(value.items.size());
  for (const py_value& dim : value.items) {
    std::uint64_t n = 0;
    if (dim.type != py_value::kind::integer) {
      fail(format_errc::bad_value, path, "'shape' holds " + describe(dim) + ", not an int");
    }
    if (!to_uint64(dim, n)) {
      fail(format_errc::bad_value, path,
           "'shape' holds " + describe(dim) +
               (dim.negative ? ", a negative dimension" : ", which does not fit 64 bits"));
    }
    shape.push_back(n);
  }
  return shape;
}

// Bytes of an array of `shape` and `itemsize`; false on overflow. As in NumPy, the nonzero
// dimensions must not overflow even when a zero one makes the array empty, so the answer
// does not depend on the order of the dimensions.
bool array_bytes(std::span<const std::uint64_t> shape, std::uint64_t itemsize,
                 std::uint64_t& out) noexcept {
  std::uint64_t bytes = itemsize;
  bool empty = false;
  for (std::uint64_t dim : shape) {
    if (dim == 0) {
      empty = true;
    } else if (!checked_mul(bytes, dim, bytes)) {
      return false;
    }
  }
  out = empty ? 0 : bytes;
  return true;
}

// Latin-1 bytes of UTF-8 `text`, or false if a character lies beyond U+00FF.
bool to_latin1(std::string_view text, std::string& out) {
  out.clear();
  std::size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    if (!decode_utf8(text, pos, cp) || cp > 0xFF) return false;
    out += static_cast<char>(static_cast<unsigned char>(cp));
  }
  return true;
}

bool has_typestr_and_fields(const npy_dtype& dtype) {
  if (!dtype.typestr.empty() && !dtype.fields.empty()) return true;
  return std::any_of(dtype.fields.begin(), dtype.fields.end(),
                     [](const npy_field& f) { return has_typestr_and_fields(f.type); });
}

// The dict literal of a header, as NumPy writes it (keys sorted, a trailing ", ").
std::string header_dict(const npy_dtype& dtype, std::span<const std::uint64_t> shape,
                        bool fortran_order) {
  return "{'descr': " + format_npy_descr(dtype) +
         ", 'fortran_order': " + (fortran_order ? "True" : "False") +
         ", 'shape': " + py_tuple(shape) + ", }";
}

}  // namespace

std::optional<std::string> format_npy_header_in(const npy_header& header,
                                                std::uint64_t prefix_size) {
  const std::size_t preamble = header.major_version == 1 ? 10 : 12;
  const std::string text = header_dict(header.dtype, header.shape, header.fortran_order);
  std::string encoded;
  if (header.major_version == 3) {
    encoded = text;
  } else if (!to_latin1(text, encoded)) {
    return std::nullopt;
  }
  // The text and its final newline must fit; the spaces between them may be none.
  if (prefix_size < preamble || prefix_size - preamble < encoded.size() + 1) return std::nullopt;
  const std::uint64_t length = prefix_size - preamble;
  if (length > (header.major_version == 1 ? 0xFFFFu : 0xFFFF'FFFFu)) return std::nullopt;
  std::string prefix(kMagic);
  prefix += static_cast<char>(header.major_version);
  prefix += static_cast<char>(header.minor_version);
  for (std::size_t i = 0; i < preamble - 8; ++i) {
    prefix += static_cast<char>((length >> (8 * i)) & 0xFF);  // little-endian
  }
  prefix += encoded;
  prefix.append(static_cast<std::size_t>(length) - encoded.size() - 1, ' ');
  prefix += '\n';
  return prefix;
}

bool has_npy_magic(std::span<const std::byte> bytes) noexcept {
  return as_text(bytes).starts_with(kMagic);
}

npy_preamble parse_npy_preamble(std::span<const std::byte> bytes,
                                const std::filesystem::path& path, const npy_limits& limits) {
  const std::string_view text = as_text(bytes);
  const std::size_t present = std::min(text.size(), kMagic.size());
  if (text.substr(0, present) != kMagic.substr(0, present)) {
    fail(format_errc::bad_magic, path,
         "not an .npy file: it starts with " + hex_dump(text.substr(0, 8)) +
             ", not the magic 93 4e 55 4d 50 59 (\\x93NUMPY)");
  }
  const auto truncated = [&](std::size_t needed) {
    fail(format_errc::truncated, path,
         "only " + std::to_string(text.size()) + " bytes, fewer than the " +
             std::to_string(needed) + " bytes of an .npy preamble");
  };
  if (text.size() < kMagic.size() + 2) truncated(10);

  npy_preamble preamble;
  preamble.major_version = static_cast<std::uint8_t>(text[6]);
  preamble.minor_version = static_cast<std::uint8_t>(text[7]);
  if (preamble.major_version < 1 || preamble.major_version > 3 || preamble.minor_version != 0) {
    fail(format_errc::unsupported_version, path,
         ".npy version " + std::to_string(preamble.major_version) + "." +
             std::to_string(preamble.minor_version) + " (versions 1.0, 2.0 and 3.0 are read)");
  }
  preamble.size = preamble.major_version == 1 ? 10 : 12;
  if (text.size() < preamble.size) truncated(preamble.size);
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(text[i]));
  };
  preamble.header_length = byte(8) | byte(9) << 8;
  if (preamble.major_version > 1) preamble.header_length |= byte(10) << 16 | byte(11) << 24;
  if (preamble.header_length > limits.max_header_size) {
    fail(format_errc::header_too_large, path,
         "header of " + std::to_string(preamble.header_length) + " bytes exceeds the limit of " +
             std::to_string(limits.max_header_size) + " bytes (npy_limits::max_header_size)");
  }
  return preamble;
}

npy_layout make_npy_layout(const npy_dtype& dtype, std::span<const std::uint64_t> shape,
                           bool fortran_order, std::string_view operation,
                           const std::filesystem::path& path) {
  if (has_typestr_and_fields(dtype)) {
    throw format_error(format_errc::bad_dtype, operation, path,
                       "a dtype has a type string or fields, not both");
  }
  npy_layout layout;
  npy_header& header = layout.header;
  // Reading back what will be written validates the dtype by the reader's own rules and
  // puts every type string in canonical form.
  try {
    header.dtype = parse_npy_descr(format_npy_descr(dtype), path);
  } catch (const format_error& e) {
    // A dtype that does not even parse (a name that is not UTF-8, nesting too deep) is
    // still a bad dtype, not bad syntax: the caller wrote no syntax.
    throw format_error(e.code() == format_errc::bad_syntax ? format_errc::bad_dtype : e.code(),
                       operation, path, e.cause());
  }
  header.fortran_order = fortran_order;
  header.shape.assign(shape.begin(), shape.end());
  if (!array_bytes(shape, header.dtype.itemsize, header.data_size)) {
    throw format_error(format_errc::size_overflow, operation, path,
                       "shape " + py_tuple(shape) + " of " +
                           std::to_string(header.dtype.itemsize) +
                           "-byte items is 2**64 bytes or more");
  }

  std::string text = header_dict(header.dtype, shape, fortran_order);
  if (!shape.empty()) {
    const std::uint64_t growing = fortran_order ? shape.back() : shape.front();
    text.append(kGrowthAxisMaxDigits - std::to_string(growing).size(), ' ');
  }
  // Like NumPy: 1.0 if the header is latin-1 and its length fits 16 bits, 2.0 if it is
  // latin-1 but longer, 3.0 (UTF-8) if a name needs characters beyond latin-1.
  std::string encoded;
  header.major_version = to_latin1(text, encoded) ? 1 : 3;
  if (header.major_version == 3) encoded = text;
  const std::size_t text_length = encoded.size() + 1;  // the final newline
  const auto padding = [&](std::size_t preamble) {
    return kAlignment - (preamble + text_length) % kAlignment;
  };
  if (header.major_version == 1 && text_length + padding(10) > 0xFFFF) header.major_version = 2;
  const std::size_t preamble = header.major_version == 1 ? 10 : 12;
  const std::uint64_t length = text_length + padding(preamble);
  if (length > 0xFFFF'FFFF) {
    throw format_error(format_errc::header_too_large, operation, path,
                       "header of " + std::to_string(length) + " bytes exceeds 4 GiB");
  }

  std::string& prefix = layout.prefix;
  prefix.reserve(preamble + length);
  prefix = kMagic;
  prefix += static_cast<char>(header.major_version);
  prefix += '\0';
  for (std::size_t i = 0; i < preamble - 8; ++i) {
    prefix += static_cast<char>((length >> (8 * i)) & 0xFF);  // little-endian
  }
  prefix += encoded;
  prefix.append(padding(preamble), ' ');
  prefix += '\n';
  header.data_offset = prefix.size();
  return layout;
}

}  // namespace detail

npy_header parse_npy_header(std::span<const std::byte> bytes, const std::filesystem::path& path,
                            const npy_limits& limits) {
  using detail::fail;
  using detail::py_value;
  const detail::npy_preamble preamble = detail::parse_npy_preamble(bytes, path, limits);
  const std::uint64_t end = preamble.size + preamble.header_length;
  if (end > bytes.size()) {
    fail(format_errc::truncated, path,
         "the header's " + std::to_string(preamble.header_length) + " bytes end at byte " +
             std::to_string(end) + ", past the end of the " + std::to_string(bytes.size()) +
             " bytes available");
  }
  const std::string_view text = detail::as_text(bytes).substr(
      preamble.size, static_cast<std::size_t>(preamble.header_length));
  // Versions 1.0 and 2.0 may come from Python 2: latin-1, and longs with an L.
  const bool python2_era = preamble.major_version < 3;
  const py_value dict = detail::parse_py_literal(
      text, python2_era ? detail::literal_encoding::latin1 : detail::literal_encoding::utf8,
      path, "header", preamble.size,
      python2_era ? detail::long_suffix::accepted : detail::long_suffix::refused);
  if (dict.type != py_value::kind::dict) {
    fail(format_errc::bad_value, path, "the header is " + detail::describe(dict) + ", not a dict");
  }
  detail::check_keys(dict, path);

  npy_header header;
  header.major_version = preamble.major_version;
  header.minor_version = preamble.minor_version;
  header.dtype = detail::dtype_from_literal(detail::value_of(dict, "descr"), path);
  const py_value& order = detail::value_of(dict, "fortran_order");
  if (order.type != py_value::kind::boolean) {
    fail(format_errc::bad_value, path,
         "'fortran_order' is " + detail::describe(order) + ", not True or False");
  }
  header.fortran_order = order.truth;
  header.shape = detail::parse_shape(detail::value_of(dict, "shape"), path);
  if (!detail::array_bytes(header.shape, header.dtype.itemsize, header.data_size)) {
    fail(format_errc::size_overflow, path,
         "shape " + detail::dims_text(header) + " of " + std::to_string(header.dtype.itemsize) +
             "-byte items is 2**64 bytes or more");
  }
  header.data_offset = end;
  return header;
}

std::string format_npy_header(const npy_dtype& dtype, std::span<const std::uint64_t> shape,
                              bool fortran_order) {
  return detail::make_npy_layout(dtype, shape, fortran_order, "format a header for", {}).prefix;
}

}  // namespace mmap_array
