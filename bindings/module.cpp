// The extension module mmap_array._core: argument conversion, array export and
// error translation around the C++ core. The Python package re-exports it.
#define MMAP_ARRAY_IMPORTS_NUMPY
#include "numpy_api.hpp"

#include <nanobind/nanobind.h>

#include "array_handle.hpp"
#include "atomic_writer.hpp"
#include "errors.hpp"
#include "file_identity.hpp"
#include "mapped_arrays.hpp"
#include "mapping_owner.hpp"
#include "npy_functions.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
void bind_format_detection(nb::module_& m);
void bind_fault_guard(nb::module_& m);
void bind_bench_floor(nb::module_& m);
}

NB_MODULE(_core, m) {
  if (PyArray_ImportNumPyAPI() < 0) throw nb::python_error();
  m.doc() = "Zero-copy memory-mapped arrays (the C++ core of mmap_array).";
  mmap_array::python::register_errors(m);
  mmap_array::python::bind_file_identity(m);
  mmap_array::python::bind_mapping_owner(m);
  mmap_array::python::bind_array_handle(m);
  mmap_array::python::bind_atomic_writer(m);
  mmap_array::python::bind_npy_functions(m);
  mmap_array::python::bind_mapped_arrays(m);
  mmap_array::python::bind_safetensors_header(m);
  mmap_array::python::bind_format_detection(m);
  mmap_array::python::bind_fault_guard(m);
  mmap_array::python::bind_bench_floor(m);
}
