// Dask support. dask.array.from_array(mm, chunks=...) needs only shape, dtype, ndim and
// __getitem__; what is added here is a deterministic token (so equal handles make equal
// graph keys) and mm.to_dask(), which mmap_array._dask builds (Dask is imported only there,
// and only when asked for).
#include <string_view>

#include "sharing.hpp"
#include "sharing_docstrings.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

// The same file in the same state, viewed the same way, holds the same data. A copy-on-write
// handle's data may hold private changes, so it is only ever equal to itself.
nb::tuple tokenize(nb::handle self_object) {
  const array_handle& self = nb::cast<const array_handle&>(self_object);
  nb::object private_to = std::string_view(self.mode) == "c"
                              ? nb::cast(reinterpret_cast<std::uintptr_t>(self_object.ptr()))
                              : nb::none();
  return nb::make_tuple("mmap_array.MemoryMappedArray", self.filename, self.format,
                        self.layout.descr, self.shape_tuple, self.offset,
                        self.layout.fortran ? "F" : "C", self.mode, self.identity.device,
                        self.identity.inode, self.identity.size, self.identity.modified_ns,
                        private_to);
}

nb::object to_dask(nb::handle self, nb::handle chunks, nb::handle name) {
  require_open(nb::cast<const array_handle&>(self), "make a Dask array of");
  return nb::module_::import_("mmap_array._dask").attr("to_dask")(self, chunks, name);
}

}  // namespace

void bind_dask_support(nb::class_<array_handle>& cls) {
  cls.def("__dask_tokenize__", &tokenize, doc::dask_tokenize)
      .def("to_dask", &to_dask, nb::arg("chunks").none() = "auto", nb::kw_only(),
           nb::arg("name").none() = nb::none(),
           nb::sig("def to_dask(self, chunks: typing.Any = 'auto', *, name: str | None = None) "
                   "-> typing.Any"),
           doc::to_dask);
}

}  // namespace mmap_array::python
