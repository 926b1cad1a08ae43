// _safetensors_header: the bytes mmap_array.save_safetensors writes before the data.
#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>

#include <string>
#include <utility>
#include <vector>

#include "arguments.hpp"
#include "mapped_arrays.hpp"
#include "mmap_array/safetensors.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// tensors: (name, dtype name, shape, begin, end) tuples; metadata: (key, value) pairs.
nb::bytes safetensors_header_bytes(nb::list tensors, nb::list metadata) {
  std::vector<safetensors_tensor> entries;
  entries.reserve(tensors.size());
  for (nb::handle item : tensors) {
    auto [name, dtype_name, shape, begin, end] =
        nb::cast<std::tuple<std::string, std::string, nb::object, std::uint64_t, std::uint64_t>>(
            item);
    const std::optional<safetensors_dtype> dtype = parse_safetensors_dtype(dtype_name);
    if (!dtype) {
      PyErr_Format(PyExc_ValueError, "safetensors has no dtype named '%s'", dtype_name.c_str());
      throw nb::python_error();
    }
    entries.push_back({std::move(name), *dtype, to_shape(shape).value_or(std::vector<std::uint64_t>{}),
                       begin, end});
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (nb::handle item : metadata) pairs.push_back(nb::cast<std::pair<std::string, std::string>>(item));
  const std::string header = format_safetensors_header(entries, pairs);
  return nb::bytes(header.data(), header.size());
}

}  // namespace

void bind_safetensors_header(nb::module_& m) {
  m.def("_safetensors_header", &safetensors_header_bytes, nb::arg("tensors"), nb::arg("metadata"),
        "The length and JSON header of a safetensors file holding `tensors`.");
}

}  // namespace mmap_array::python
