#include "mapping_owner.hpp"

#include <nanobind/stl/string.h>

#include <string>

namespace nb = nanobind;

namespace mmap_array::python {

void bind_mapping_owner(nb::module_& m) {
  // Weak references let a handle that was resized find the arrays still on its old mappings.
  nb::class_<mapping_owner>(m, "_Mapping", nb::is_weak_referenceable(),
                            "Owner of one memory mapping; the base of every exported array.")
      .def("__repr__", [](const mapping_owner& owner) {
        const mapped_file& f = owner.file;
        return "<mmap_array._Mapping '" + f.path().string() + "' " + std::to_string(f.size()) +
               " bytes at offset " + std::to_string(f.offset()) + ">";
      });
}

nb::object make_owner(mapped_file&& file) {
  return nb::cast(mapping_owner{std::move(file)}, nb::rv_policy::move);
}

bool owner_truncated(nb::handle owner) { return nb::inst_ptr<mapping_owner>(owner)->file.truncated(); }

}  // namespace mmap_array::python
