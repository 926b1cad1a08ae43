// NumPy's C API, shared by every file of the module. Arrays are created with
// it rather than with nb::ndarray because nb::ndarray cannot express the dtypes
// a file can hold (structured records, fixed-width strings, either byte order).
#pragma once

#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#define NPY_TARGET_VERSION NPY_2_0_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL mmap_array_ARRAY_API
#ifndef MMAP_ARRAY_IMPORTS_NUMPY
#define NO_IMPORT_ARRAY
#endif

#include <Python.h>
#include <numpy/arrayobject.h>
#include <numpy/npy_2_compat.h>
