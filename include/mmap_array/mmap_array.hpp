// mmap_array: memory-mapped files as typed arrays. Include this header for
// the whole public API.
#pragma once

#include "mmap_array/access.hpp"
#include "mmap_array/atomic_file.hpp"
#include "mmap_array/error.hpp"
#include "mmap_array/fault_guard.hpp"
#include "mmap_array/format.hpp"
#include "mmap_array/mapped_file.hpp"
#include "mmap_array/npy.hpp"
#include "mmap_array/npz.hpp"
#include "mmap_array/raw_array.hpp"
#include "mmap_array/resize.hpp"
#include "mmap_array/safetensors.hpp"
#include "mmap_array/version.hpp"
