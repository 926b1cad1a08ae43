// MappedArrays: a read-only mapping container of named arrays sharing one
// mapping (a safetensors file's data section, or a whole .npz archive). It
// behaves like the handle: arrays it hands out keep the mapping alive, close()
// refuses new ones, and the memory goes when the last array does.
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "array_export.hpp"

namespace mmap_array::python {

/// One named array of a container.
struct array_entry {
  nanobind::object name;         // str
  std::uint64_t offset = 0;      // of the array's first byte from the mapping's start
  std::uint64_t file_offset = 0; // of the array's first byte in the file
  std::uint64_t nbytes = 0;
  array_layout layout;
  nanobind::object format_dtype; // the file's own name of the dtype: "BF16", "<f8"...
  std::string unavailable;       // non-empty: why this array cannot be mapped
};

struct mapped_arrays {
  nanobind::object owner;        // the _Mapping; null once closed
  std::byte* base = nullptr;     // the mapping's first byte
  std::vector<array_entry> entries;
  nanobind::dict index;          // name -> position in entries
  nanobind::dict metadata;       // str -> str
  nanobind::object filename;     // str, absolute
  std::filesystem::path path;    // as given, for messages
  const char* format = "";       // "safetensors" or "npz"
  const char* mode = "r";
};

/// Binds MappedArrays, _open_safetensors and _open_npz.
void bind_mapped_arrays(nanobind::module_& m);

/// Adds the access controls (advise, prefetch, populate, residency, residency_map, page_info)
/// to MappedArrays; defined in access_methods.cpp.
void bind_container_access_methods(nanobind::class_<mapped_arrays>& cls);

/// Binds _safetensors_header.
void bind_safetensors_header(nanobind::module_& m);

}  // namespace mmap_array::python
