// _detect_format: the core's format detection, for the CLI and mmap_array.info.
#include <nanobind/nanobind.h>

#include "arguments.hpp"
#include "mmap_array/format.hpp"

namespace nb = nanobind;

namespace mmap_array::python {

void bind_format_detection(nb::module_& m) {
  m.def(
      "_detect_format",
      [](nb::handle filename) {
        path_argument path = to_path(filename);
        file_format format;
        {
          nb::gil_scoped_release unlocked;
          format = detect_format(path.path);
        }
        const std::string_view name = to_string(format);
        return nb::str(name.data(), name.size());
      },
      nb::arg("filename"), "The format of a file by its first bytes: raw, npy, npz or safetensors.");
}

}  // namespace mmap_array::python
