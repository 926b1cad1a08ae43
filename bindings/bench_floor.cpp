// The benchmark suite's physical floor and page-cache probe, as private functions of
// mmap_array._core, so `mmap-array bench` measures them in its own process, interleaved
// with the other contestants. Every probe releases the GIL: it may wait on the disk.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/tuple.h>

#include <cstdint>
#include <span>
#include <tuple>

#include "arguments.hpp"
#include "floor_probes.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

namespace probes = mmap_array::floor_probes;

using word_array = nb::ndarray<const std::uint64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using read_tuple = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>;

read_tuple as_tuple(const probes::timed_read& r) { return {r.nanoseconds, r.bytes, r.checksum}; }

std::span<const std::uint64_t> words_of(const word_array& words) {
  return {words.data(), words.shape(0)};
}

}  // namespace

void bind_bench_floor(nb::module_& m) {
  m.def(
      "_floor_open_map",
      [](nb::handle filename) {
        path_argument path = to_path(filename);
        nb::gil_scoped_release unlocked;
        return probes::open_map_close_nanoseconds(path.path);
      },
      nb::arg("filename"),
      "Nanoseconds of open + fstat + mmap + close of the whole file (munmap untimed).");
  m.def(
      "_floor_sum",
      [](word_array words) {
        nb::gil_scoped_release unlocked;
        return as_tuple(probes::sum_words(words_of(words)));
      },
      nb::arg("words"),
      "(nanoseconds, bytes, checksum) of one summing pass over an in-memory uint64 array.");
  m.def(
      "_floor_direct_read",
      [](nb::handle filename, unsigned threads, std::size_t block_bytes) {
        path_argument path = to_path(filename);
        nb::gil_scoped_release unlocked;
        return as_tuple(probes::direct_read(path.path, threads, block_bytes));
      },
      nb::arg("filename"), nb::arg("threads"), nb::arg("block_bytes"),
      "(nanoseconds, bytes, checksum) of reading the file with O_DIRECT, `threads` preads of "
      "`block_bytes` in flight.");
  m.def(
      "_floor_direct_gather",
      [](nb::handle filename, word_array offsets, std::size_t row_bytes, unsigned threads) {
        path_argument path = to_path(filename);
        nb::gil_scoped_release unlocked;
        return as_tuple(probes::direct_gather(path.path, words_of(offsets), row_bytes, threads));
      },
      nb::arg("filename"), nb::arg("offsets"), nb::arg("row_bytes"), nb::arg("threads"),
      "(nanoseconds, bytes, checksum) of O_DIRECT preads of `row_bytes` at each offset, "
      "`threads` in flight.");
  m.def(
      "_bench_page_cache_residency",
      [](nb::handle filename) {
        path_argument path = to_path(filename);
        nb::gil_scoped_release unlocked;
        const probes::residency r = probes::page_cache_residency(path.path);
        return std::make_tuple(r.resident_pages, r.total_pages);
      },
      nb::arg("filename"), "(resident pages, total pages) of the file in the page cache (mincore).");
}

}  // namespace mmap_array::python
