// libFuzzer target: the .npy header parser, and the descr parser, on arbitrary bytes.
//
// A format_error is the parser refusing bad bytes, as it must. Anything else is a finding:
// another exception escapes and aborts, and a sanitizer report, a leak or a crash stops the
// run. A header that parses must also survive a round trip through the writer: what
// format_npy_header makes of it must parse back to the same header, so the writer never
// produces a file its own reader refuses or reads differently.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"

namespace {

using mmap_array::npy_dtype;
using mmap_array::npy_field;

bool same_dtype(const npy_dtype& a, const npy_dtype& b);

bool same_field(const npy_field& a, const npy_field& b) {
  return a.name == b.name && a.title == b.title && a.shape == b.shape && same_dtype(a.type, b.type);
}

bool same_dtype(const npy_dtype& a, const npy_dtype& b) {
  if (a.typestr != b.typestr || a.itemsize != b.itemsize || a.fields.size() != b.fields.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    if (!same_field(a.fields[i], b.fields[i])) return false;
  }
  return true;
}

void check_header_round_trip(const mmap_array::npy_header& header) {
  const std::string prefix =
      mmap_array::format_npy_header(header.dtype, header.shape, header.fortran_order);
  // The writer caps nothing (a record of many long names can exceed the reader's default).
  const mmap_array::npy_limits no_cap{std::numeric_limits<std::uint32_t>::max()};
  const mmap_array::npy_header again = mmap_array::parse_npy_header(
      std::as_bytes(std::span(prefix.data(), prefix.size())), "round-trip.npy", no_cap);
  if (!same_dtype(header.dtype, again.dtype) || header.shape != again.shape ||
      header.fortran_order != again.fortran_order || header.data_size != again.data_size ||
      again.data_offset != prefix.size() || again.data_offset % 64 != 0) {
    std::abort();
  }
}

void check_descr_round_trip(const npy_dtype& dtype) {
  const npy_dtype again = mmap_array::parse_npy_descr(mmap_array::format_npy_descr(dtype));
  if (!same_dtype(dtype, again)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Only the parsing is inside the try blocks: a format_error from a round trip is a finding.
  std::optional<mmap_array::npy_header> header;
  try {
    header = mmap_array::parse_npy_header(std::as_bytes(std::span(data, size)), "fuzz.npy");
  } catch (const mmap_array::format_error&) {
  }
  if (header) check_header_round_trip(*header);

  std::optional<npy_dtype> dtype;
  try {
    dtype = mmap_array::parse_npy_descr(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz descr");
  } catch (const mmap_array::format_error&) {
  }
  if (dtype) check_descr_round_trip(*dtype);
  return 0;
}
