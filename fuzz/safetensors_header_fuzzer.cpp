// libFuzzer target: the safetensors header parser, with the input as the whole file, and
// the strict JSON reader on its own, walking any JSON value.
//
// A format_error is the parser refusing bad bytes, as it must. Anything else is a finding:
// another exception (the JSON reader's logic_error for misuse, bad_alloc) escapes and
// aborts, and a sanitizer report, a leak or a crash stops the run. A header that parses must
// also survive a round trip through the writer: format_safetensors_header of what was read
// must parse back to the same tensors and metadata.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "json_reader.hpp"
#include "mmap_array/error.hpp"
#include "mmap_array/safetensors.hpp"

namespace {

bool same_tensors(std::span<const mmap_array::safetensors_tensor> a,
                  std::span<const mmap_array::safetensors_tensor> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].dtype != b[i].dtype || a[i].shape != b[i].shape ||
        a[i].begin != b[i].begin || a[i].end != b[i].end) {
      return false;
    }
  }
  return true;
}

void check_round_trip(const mmap_array::safetensors_header& header) {
  const std::string prefix =
      mmap_array::format_safetensors_header(header.tensors, header.metadata);
  const mmap_array::safetensors_header again = mmap_array::parse_safetensors_header(
      std::as_bytes(std::span(prefix.data(), prefix.size())), prefix.size() + header.data_size,
      "round-trip.safetensors");
  if (!same_tensors(header.tensors, again.tensors) || header.metadata != again.metadata ||
      again.data_offset != prefix.size() || again.data_offset % 8 != 0 ||
      again.data_size != header.data_size) {
    std::abort();
  }
}

// Walks one JSON value of any shape, as a header of another format would be read.
void read_any_json(std::string_view text) {
  mmap_array::detail::json_reader reader(text, "fuzz", "fuzz.json");
  reader.skip_value();
  reader.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Only the parsing is inside the try blocks: a format_error from a round trip is a finding.
  std::optional<mmap_array::safetensors_header> header;
  try {
    header = mmap_array::parse_safetensors_header(std::as_bytes(std::span(data, size)), size,
                                                  "fuzz.safetensors");
  } catch (const mmap_array::format_error&) {
  }
  if (header) check_round_trip(*header);

  try {
    read_any_json(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const mmap_array::format_error&) {
  }
  return 0;
}
