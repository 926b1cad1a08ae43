// The access controls of MemoryMappedArray and MappedArrays: advise, prefetch,
// populate, residency, residency_map, take and page_info, over the core's
// access.hpp. Arguments are checked here, with the GIL held; the work runs
// without it, holding a strong reference to the mapping's owner so that a
// close() from another thread cannot unmap the memory underneath.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "access_docstrings.hpp"
#include "arguments.hpp"
#include "array_handle.hpp"
#include "errors.hpp"
#include "mapped_arrays.hpp"
#include "mapping_owner.hpp"
#include "mmap_array/access.hpp"
#include "mmap_array/fault_guard.hpp"
#include "numpy_api.hpp"
#include "stub_types.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

constexpr long long kMaxThreads = 1024;
// A range up to this size is queued inline (MADV_WILLNEED) and prefetch returns; a larger one
// is read by a background thread, whose cost a small range would not repay (over an 80 MB file
// already mapped whole by 2 MiB pages, the thread added 0.2-0.4 ms to a 2.9-3.2 ms pass).
constexpr std::size_t kInlinePrefetch = std::size_t{2} << 20;
// The background thread reads this much per step, and checks between steps whether the
// interpreter is exiting.
constexpr std::size_t kPrefetchStep = std::size_t{32} << 20;

mapped_file& file_of(nb::handle owner) { return owned_file(owner); }

// The absolute name the handle resolved at open, which a later chdir leaves valid (the
// mapping's own path is the one given, perhaps relative): for reopening the file.
std::filesystem::path absolute_path(const array_handle& self) {
  nb::object encoded = nb::steal(PyUnicode_EncodeFSDefault(self.filename.ptr()));
  if (!encoded.is_valid()) throw nb::python_error();
  return std::string_view(PyBytes_AS_STRING(encoded.ptr()),
                          static_cast<std::size_t>(PyBytes_GET_SIZE(encoded.ptr())));
}

// A closed handle is refused, and so is one whose file shrank, as by every other method.
nb::object open_owner(nb::handle owner, nb::handle filename, std::string_view operation) {
  if (!owner.is_valid()) raise_closed(operation, filename);
  if (owner_truncated(owner)) raise_truncated(operation, filename);
  return nb::borrow(owner);
}

// Runs `work` without the GIL. A file_truncated_error met there may also have been recorded by
// the fault guard, whose notifier then has Python raise it again at its next check; taking the
// recorded events makes that check find nothing left to report (see _fault_guard.py).
template <class Work>
auto without_gil(Work&& work) {
  try {
    nb::gil_scoped_release unlocked;
    return work();
  } catch (const file_truncated_error&) {
    take_truncation_events();
    throw;
  }
}

// operator.index(value) for a message-bearing argument; nothing for None.
std::optional<long long> optional_integer(nb::handle value, const char* name,
                                          const error_context& context) {
  if (value.is_none()) return std::nullopt;
  nb::object index = nb::steal(PyNumber_Index(value.ptr()));
  if (!index.is_valid()) {
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) throw nb::python_error();
    PyErr_Clear();
    raise_error(PyExc_TypeError, context,
                std::string(name) + " must be an integer or None, not " + Py_TYPE(value.ptr())->tp_name);
  }
  int overflow = 0;
  const long long result = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0) {
    raise_error(PyExc_ValueError, context,
                std::string(name) + "=" + nb::cast<std::string>(nb::repr(index)) + " is out of range");
  }
  return result;
}

unsigned to_threads(nb::handle threads, const error_context& context) {
  const std::optional<long long> count = optional_integer(threads, "threads", context);
  if (!count) return 0;
  if (*count < 1 || *count > kMaxThreads) {
    raise_error(PyExc_ValueError, context,
                "threads must be between 1 and " + std::to_string(kMaxThreads) + " (or None), not " +
                    std::to_string(*count));
  }
  return static_cast<unsigned>(*count);
}

access_advice to_advice(nb::handle advice, const error_context& context) {
  if (!PyUnicode_Check(advice.ptr())) {
    raise_error(PyExc_TypeError, context,
                std::string("advice must be a str, not ") + Py_TYPE(advice.ptr())->tp_name);
  }
  const auto parsed = parse_access_advice(nb::cast<std::string>(advice));
  if (!parsed) {
    raise_error(PyExc_ValueError, context,
                "unknown advice " + nb::cast<std::string>(nb::repr(advice)) +
                    "; expected one of 'normal', 'sequential', 'random', 'willneed', "
                    "'dontneed', 'hugepage', 'nohugepage'");
  }
  return *parsed;
}

// --- MemoryMappedArray -------------------------------------------------------------------

// The bytes of rows [start, stop) along axis 0, as in arr[start:stop] but strict: an index
// outside the rows or a reversed range is an error, not an empty range.
mapping_range row_range(const array_handle& self, nb::handle start, nb::handle stop,
                        const error_context& context) {
  const std::optional<long long> first = optional_integer(start, "start", context);
  const std::optional<long long> last = optional_integer(stop, "stop", context);
  if (!first && !last) return {};
  const auto rows = static_cast<long long>(self.layout.shape.empty() ? 1 : self.layout.shape[0]);
  auto resolve = [&](const std::optional<long long>& value, long long fallback, const char* name) {
    if (!value) return fallback;
    const long long row = *value < 0 ? *value + rows : *value;
    if (row < 0 || row > rows) {
      raise_error(PyExc_ValueError, context,
                  std::string(name) + "=" + std::to_string(*value) + " is outside the array's " +
                      std::to_string(rows) + " rows (axis 0)");
    }
    return row;
  };
  const long long begin = resolve(first, 0, "start");
  const long long end = resolve(last, rows, "stop");
  if (end < begin) {
    raise_error(PyExc_ValueError, context,
                "stop=" + std::to_string(*last) + " comes before start=" + std::to_string(*first));
  }
  if (self.layout.fortran && self.layout.shape.size() > 1 && (begin != 0 || end != rows)) {
    raise_error(PyExc_ValueError, context,
                "the rows of a Fortran-ordered array are not contiguous in the file, so a range of "
                "them has no byte range; leave start and stop out to cover the whole array");
  }
  const std::size_t row_bytes = rows == 0 ? 0 : static_cast<std::size_t>(self.nbytes) /
                                                    static_cast<std::size_t>(rows);
  return {static_cast<std::size_t>(begin) * row_bytes,
          static_cast<std::size_t>(end - begin) * row_bytes};
}

// Converting the arguments (__index__, __array__) runs Python code, which may have resized the
// handle (resize, append) after `file` was taken from it: the handle's data, shape and byte
// count then describe another mapping than `file`, and offsets computed from both are wild.
void require_same_mapping(const array_handle& self, const mapped_file& file,
                          const error_context& context) {
  const auto* data = static_cast<const std::byte*>(self.data);
  const bool moved = self.owner.is_valid() ? &file_of(self.owner) != &file
                                           : data < file.data() ||
                                                 data + self.nbytes > file.data() + file.size();
  if (moved) {
    raise_error(PyExc_RuntimeError, context,
                "the handle was resized (resize or append) while its arguments were converted; "
                "nothing was done, call it again");
  }
}

// The handle's range, shifted to its place in the mapping (which may hold more than the array).
mapping_range in_mapping(const array_handle& self, const mapped_file& file, mapping_range range,
                         const error_context& context) {
  require_same_mapping(self, file, context);
  const auto shift = static_cast<std::size_t>(static_cast<std::byte*>(self.data) - file.data());
  range.offset += shift;
  if (!range.length) range.length = static_cast<std::size_t>(self.nbytes) - (range.offset - shift);
  return range;
}

void handle_advise(const array_handle& self, nb::handle advice, nb::handle start, nb::handle stop) {
  nb::object owner = open_owner(self.owner, self.filename, "advise");
  mapped_file& file = file_of(owner);
  const error_context context = error_context::of("advise", file.path());
  const access_advice how = to_advice(advice, context);
  const mapping_range range = in_mapping(self, file, row_range(self, start, stop, context), context);
  without_gil([&] { mmap_array::advise(file, how, range); });
}

// A small range: its reads are queued (MADV_WILLNEED) before this returns. A larger one: a
// Python thread, holding `owner`, populates it from start to end with one thread (populate's
// huge-page advice, then MADV_POPULATE_READ per step), and stops between steps once the main
// thread has finished (the interpreter is exiting). A non-daemon thread: a daemon one could be
// killed while it holds no GIL, in C++ frames.
//
// Why populate and not MADV_WILLNEED for large ranges (Linux 6.18, ext4 on virtio, 80 MB):
// WILLNEED reads in 4 KiB folios and maps nothing, so prefetch + a pass over a cold file took
// 1.6-1.7x numpy.memmap's plain pass. Populate reads through the fault path, in large folios
// and large requests, and maps the pages as it goes: a pass right behind it takes no faults for
// them, cold or warm. A file cached by read() in small folios, open + sum against the same
// sum in RAM: 1.5x -> 1.2x in a quiet loop; 1.85-2.03x -> 1.77-1.86x in mmap-array bench,
// whose cache state costs more faults.
// A hint: a step that fails ends the thread quietly; the pass meets the error itself.
void prefetch_range(nb::object owner, mapping_range range) {
  mapped_file& file = file_of(owner);
  const std::size_t length = range.length.value_or(file.size() - std::min(range.offset, file.size()));
  if (length <= kInlinePrefetch) {
    without_gil([&] { mmap_array::prefetch(file, range); });
    return;
  }
  nb::object main_thread = nb::module_::import_("threading").attr("main_thread")();
  nb::object job = nb::cpp_function([owner, main_thread, offset = range.offset, length]() {
    const mapped_file& mapped = file_of(owner);
    for (std::size_t done = 0; done < length; done += kPrefetchStep) {
      if (!nb::cast<bool>(main_thread.attr("is_alive")())) return;
      const mapping_range step{offset + done, std::min(kPrefetchStep, length - done)};
      nb::gil_scoped_release unlocked;
      std::error_code failed;
      mmap_array::populate(mapped, step, populate_options{1, false}, failed);
      if (failed) return;
    }
  });
  nb::module_::import_("threading")
      .attr("Thread")(nb::arg("target") = job, nb::arg("name") = "mmap_array prefetch",
                      nb::arg("daemon") = false)
      .attr("start")();
}

// Write-behind threads alive at once: each holds a descriptor and wakes every 2 ms while its
// producer writes; a program creating many files at once gets it for the first few.
constexpr int kMaxWriteBehinds = 4;
std::atomic<int> g_write_behinds{0};
// The stop flags of write-behinds started, set when the interpreter exits: it waits for every
// non-daemon thread, and one still waiting for its producer's first write would hold it for
// seconds. Touched with the GIL held only.
std::vector<std::weak_ptr<std::atomic<bool>>> g_write_behind_flags;

void stop_every_write_behind() {
  for (const auto& weak : g_write_behind_flags) {
    if (const auto flag = weak.lock()) flag->store(true, std::memory_order_relaxed);
  }
  g_write_behind_flags.clear();
}

// Starts a write-behind for the handle's mapping on a Python thread (so fork and interpreter
// exit treat it as any thread), unless kMaxWriteBehinds are running. The thread holds no
// reference to the mapping: it writes through its own descriptor, and ends when flush() or the
// mapping's end sets the owner's flag, or when the pages stop changing (write_behind::run).
// Non-daemon, as prefetch's (a daemon could be killed in C++ frames); the exit hook below
// stops it before the interpreter joins it.
bool handle_write_behind(const array_handle& self) {
  // A forked child has none of its parent's threads, so none of their places.
  static const int forget_in_child = pthread_atfork(nullptr, nullptr, [] { g_write_behinds = 0; });
  (void)forget_in_child;
  // threading's own exit hook runs before the interpreter joins its threads (atexit, after).
  static const bool hooked = [] {
    nb::module_::import_("threading").attr("_register_atexit")(nb::cpp_function(stop_every_write_behind));
    return true;
  }();
  (void)hooked;
  nb::object owner = open_owner(self.owner, self.filename, "write behind");
  write_behind_options options;
  options.reopen_path = absolute_path(self);
  auto job_state = std::make_shared<const write_behind>(file_of(owner), mapping_range{}, options);
  if (g_write_behinds.fetch_add(1) >= kMaxWriteBehinds) {
    g_write_behinds.fetch_sub(1);
    return false;
  }
  std::shared_ptr<std::atomic<bool>> stop = write_behind_flag(owner);
  std::erase_if(g_write_behind_flags, [](const auto& weak) { return weak.expired(); });
  g_write_behind_flags.push_back(stop);
  nb::object job = nb::cpp_function([job_state, stop]() {
    nb::gil_scoped_release unlocked;
    job_state->run(*stop);
    g_write_behinds.fetch_sub(1);
  });
  try {
    nb::module_::import_("threading")
        .attr("Thread")(nb::arg("target") = job, nb::arg("name") = "mmap_array write-behind",
                        nb::arg("daemon") = false)
        .attr("start")();
  } catch (...) {
    g_write_behinds.fetch_sub(1);
    throw;
  }
  return true;
}

void handle_prefetch(const array_handle& self, nb::handle start, nb::handle stop) {
  nb::object owner = open_owner(self.owner, self.filename, "prefetch");
  mapped_file& file = file_of(owner);
  const error_context context = error_context::of("prefetch", file.path());
  prefetch_range(owner, in_mapping(self, file, row_range(self, start, stop, context), context));
}

void handle_populate(const array_handle& self, nb::handle start, nb::handle stop,
                     nb::handle threads, bool write) {
  nb::object owner = open_owner(self.owner, self.filename, "populate");
  mapped_file& file = file_of(owner);
  const error_context context = error_context::of("populate", file.path());
  const populate_options options{to_threads(threads, context), write};
  const mapping_range range = in_mapping(self, file, row_range(self, start, stop, context), context);
  without_gil([&] { mmap_array::populate(file, range, options); });
}

double handle_residency(const array_handle& self, nb::handle start, nb::handle stop) {
  nb::object owner = open_owner(self.owner, self.filename, "measure the residency of");
  mapped_file& file = file_of(owner);
  const error_context context = error_context::of("measure the residency of", file.path());
  const mapping_range range = in_mapping(self, file, row_range(self, start, stop, context), context);
  return without_gil([&] { return mmap_array::residency(file, range); });
}

nb::object to_float_array(const std::vector<double>& values) {
  const npy_intp count = static_cast<npy_intp>(values.size());
  nb::object array = nb::steal(PyArray_SimpleNew(1, &count, NPY_FLOAT64));
  if (!array.is_valid()) throw nb::python_error();
  std::memcpy(PyArray_DATA(reinterpret_cast<PyArrayObject*>(array.ptr())), values.data(),
              values.size() * sizeof(double));
  return array;
}

std::size_t to_bins(nb::handle bins, const error_context& context) {
  const std::optional<long long> count = optional_integer(bins, "bins", context);
  if (!count || *count < 1 || static_cast<unsigned long long>(*count) > (1ull << 32)) {
    raise_error(PyExc_ValueError, context,
                "bins must be an integer between 1 and 2**32, not " +
                    nb::cast<std::string>(nb::repr(bins)));
  }
  return static_cast<std::size_t>(*count);
}

nb::object handle_residency_map(const array_handle& self, nb::handle bins, nb::handle start,
                                nb::handle stop) {
  nb::object owner = open_owner(self.owner, self.filename, "measure the residency of");
  mapped_file& file = file_of(owner);
  const error_context context = error_context::of("measure the residency of", file.path());
  const std::size_t count = to_bins(bins, context);
  const mapping_range range = in_mapping(self, file, row_range(self, start, stop, context), context);
  return to_float_array(without_gil([&] { return mmap_array::residency_map(file, count, range); }));
}

nb::dict page_report_dict(const page_report& report) {
  nb::dict result;
  result["page_size"] = report.page_size;
  result["huge_page_size"] = report.huge_page_size;
  result["thp_enabled"] = report.thp_enabled ? nb::object(nb::str(report.thp_enabled->c_str()))
                                             : nb::none();
  result["pmd_aligned"] = report.pmd_aligned;
  result["hugepage_advised"] = report.hugepage_advised;
  result["vmas"] = report.vmas;
  nb::dict smaps;
  for (const auto& [name, bytes] : report.smaps) smaps[nb::str(name.c_str())] = bytes;
  result["smaps"] = smaps;
  return result;
}

nb::dict owner_page_info(nb::handle owner_handle, nb::handle filename) {
  nb::object owner = open_owner(owner_handle, filename, "inspect the pages of");
  mapped_file& file = file_of(owner);
  return page_report_dict(without_gil([&] { return mmap_array::page_info(file); }));
}

// --- take ----------------------------------------------------------------------------------

// np.asarray(indices) as a C-contiguous int64 array (the caller's own when it is one: the core
// checks each index again where it uses it, so another thread changing it cannot send the copy
// outside the array) and its shape.
struct index_list {
  nb::object array;                    // keeps `values` alive
  std::span<const std::int64_t> values;
  std::vector<npy_intp> shape;
};

index_list to_indices(nb::handle indices, const error_context& context, std::size_t axis,
                      npy_intp size) {
  nb::object array = nb::steal(PyArray_FromAny(indices.ptr(), nullptr, 0, 0, 0, nullptr));
  if (!array.is_valid()) throw nb::python_error();
  auto* a = reinterpret_cast<PyArrayObject*>(array.ptr());
  index_list result;
  result.shape.assign(PyArray_DIMS(a), PyArray_DIMS(a) + PyArray_NDIM(a));
  const char kind = PyArray_DESCR(a)->kind;
  if (kind == 'b') {
    raise_error(PyExc_TypeError, context,
                "boolean indices are ambiguous: np.take reads them as 0 and 1, arr[mask] as a "
                "mask; pass np.flatnonzero(mask) for the rows where the mask is True");
  }
  const npy_intp count = PyArray_SIZE(a);
  if (count == 0) return result;  // np.asarray([]) is float64; NumPy accepts it as no index
  if (kind != 'i' && kind != 'u') {
    raise_error(PyExc_TypeError, context,
                "indices must be integers, not " +
                    nb::cast<std::string>(nb::str(reinterpret_cast<PyObject*>(PyArray_DESCR(a)))));
  }
  if (kind == 'u' && PyArray_ITEMSIZE(a) == 8) {
    // uint64 values past 2**63 - 1 would turn negative as int64, and count from the end.
    nb::object wide = nb::steal(PyArray_FromAny(array.ptr(), PyArray_DescrFromType(NPY_UINT64), 0,
                                                0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED,
                                                nullptr));
    if (!wide.is_valid()) throw nb::python_error();
    const auto* values =
        static_cast<const std::uint64_t*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(wide.ptr())));
    for (npy_intp i = 0; i < count; ++i) {
      if (values[i] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        raise_error(PyExc_IndexError, context,
                    "index " + std::to_string(values[i]) + " is out of bounds for axis " +
                        std::to_string(axis) + " with size " + std::to_string(size));
      }
    }
  }
  // Every other integer type converts to int64 exactly.
  result.array = nb::steal(PyArray_FromAny(array.ptr(), PyArray_DescrFromType(NPY_INT64), 0, 0,
                                           NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED |
                                               NPY_ARRAY_FORCECAST,
                                           nullptr));
  if (!result.array.is_valid()) throw nb::python_error();
  result.values = {static_cast<const std::int64_t*>(
                       PyArray_DATA(reinterpret_cast<PyArrayObject*>(result.array.ptr()))),
                   static_cast<std::size_t>(count)};
  return result;
}

[[noreturn]] void raise_axis_error(long long axis, std::size_t ndim, const error_context& context) {
  nb::object axis_error = nb::module_::import_("numpy.exceptions").attr("AxisError");
  std::string prefix = context.prefix();
  if (prefix.size() >= 2) prefix.resize(prefix.size() - 2);  // AxisError adds ": "
  nb::object error = axis_error(axis, ndim, nb::str(prefix.c_str()));
  PyErr_SetObject(axis_error.ptr(), error.ptr());
  throw nb::python_error();
}

std::string shape_text(const std::vector<npy_intp>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) text += ",";
    if (i + 1 < shape.size()) text += " ";
  }
  return text + ")";
}

// A new C-ordered array of `shape` with the handle's dtype.
nb::object new_array(const array_handle& self, std::vector<npy_intp>& shape) {
  auto* descr = reinterpret_cast<PyArray_Descr*>(self.layout.descr.ptr());
  Py_INCREF(descr);  // PyArray_NewFromDescr steals it
  nb::object array = nb::steal(PyArray_NewFromDescr(&PyArray_Type, descr,
                                                    static_cast<int>(shape.size()), shape.data(),
                                                    nullptr, nullptr, 0, nullptr));
  if (!array.is_valid()) throw nb::python_error();
  return array;
}

// Checks a caller's `out` against the result: an ndarray, writeable, same shape and dtype.
void check_out(nb::handle out, const array_handle& self, const std::vector<npy_intp>& shape,
               const error_context& context) {
  if (!PyArray_Check(out.ptr())) {
    raise_error(PyExc_TypeError, context,
                std::string("out must be a numpy.ndarray, not ") + Py_TYPE(out.ptr())->tp_name);
  }
  auto* o = reinterpret_cast<PyArrayObject*>(out.ptr());
  const std::vector<npy_intp> out_shape(PyArray_DIMS(o), PyArray_DIMS(o) + PyArray_NDIM(o));
  if (out_shape != shape) {
    raise_error(PyExc_ValueError, context,
                "out has shape " + shape_text(out_shape) + "; the result has shape " +
                    shape_text(shape));
  }
  if (!PyArray_EquivTypes(PyArray_DESCR(o), reinterpret_cast<PyArray_Descr*>(self.layout.descr.ptr()))) {
    raise_error(PyExc_ValueError, context,
                "out has dtype " + nb::cast<std::string>(nb::str(reinterpret_cast<PyObject*>(PyArray_DESCR(o)))) +
                    "; the array's is " + nb::cast<std::string>(nb::str(self.layout.descr)));
  }
  if (!PyArray_ISWRITEABLE(o)) raise_error(PyExc_ValueError, context, "out is read-only");
}

// True if any byte of `array` lies in [begin, end).
bool overlaps(PyArrayObject* array, const std::byte* begin, const std::byte* end) {
  if (PyArray_SIZE(array) == 0) return false;
  const auto* data = static_cast<const std::byte*>(PyArray_DATA(array));
  std::ptrdiff_t low = 0;
  std::ptrdiff_t high = PyArray_ITEMSIZE(array);
  for (int d = 0; d < PyArray_NDIM(array); ++d) {
    const std::ptrdiff_t span = (PyArray_DIMS(array)[d] - 1) * PyArray_STRIDES(array)[d];
    (span < 0 ? low : high) += span;
  }
  return data + low < end && begin < data + high;
}

nb::object handle_take(const array_handle& self, nb::handle indices, nb::handle axis_arg,
                       nb::handle out, nb::handle threads_arg) {
  nb::object owner = open_owner(self.owner, self.filename, "take rows of");
  mapped_file& file = file_of(owner);
  const error_context context = error_context::of("take rows of", file.path());

  // NumPy takes from a 0-d array as from its 1-element 1-D form.
  const npy_intp element_bytes =
      PyDataType_ELSIZE(reinterpret_cast<PyArray_Descr*>(self.layout.descr.ptr()));
  std::vector<npy_intp> shape = self.layout.shape;
  std::vector<npy_intp> strides = self.layout.strides;
  if (shape.empty()) {
    shape = {1};
    strides = {element_bytes};
  }
  if (axis_arg.is_none()) {
    raise_error(PyExc_TypeError, context,
                "axis must be an integer; take() does not flatten (np.take(mm.get_array(), "
                "indices) does)");
  }
  const long long given_axis = *optional_integer(axis_arg, "axis", context);
  const auto ndim = static_cast<long long>(shape.size());
  if (given_axis < -ndim || given_axis >= ndim) raise_axis_error(given_axis, shape.size(), context);
  const auto axis = static_cast<std::size_t>(given_axis < 0 ? given_axis + ndim : given_axis);
  const unsigned threads = to_threads(threads_arg, context);
  index_list index = to_indices(indices, context, axis, shape[axis]);
  require_same_mapping(self, file, context);

  row_layout layout;
  layout.offset = static_cast<std::size_t>(static_cast<std::byte*>(self.data) - file.data());
  layout.element_bytes = static_cast<std::size_t>(element_bytes);
  layout.axis_number = axis;
  auto dim = [&](std::size_t d) {
    return strided_dim{static_cast<std::size_t>(shape[d]), static_cast<std::size_t>(strides[d])};
  };
  for (std::size_t d = 0; d < axis; ++d) layout.outer.push_back(dim(d));
  layout.axis = dim(axis);
  for (std::size_t d = axis + 1; d < shape.size(); ++d) layout.inner.push_back(dim(d));

  std::vector<npy_intp> result_shape(shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(axis));
  result_shape.insert(result_shape.end(), index.shape.begin(), index.shape.end());
  result_shape.insert(result_shape.end(), shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1,
                      shape.end());
  if (result_shape.size() > static_cast<std::size_t>(NPY_MAXDIMS)) {
    raise_error(PyExc_ValueError, context,
                "the result would have " + std::to_string(result_shape.size()) +
                    " dimensions; NumPy allows " + std::to_string(NPY_MAXDIMS));
  }

  // The gather writes a C-ordered block that does not overlap the mapped array: `out` itself
  // when it is one, a new array copied into it otherwise.
  nb::object target;
  if (!out.is_none()) {
    check_out(out, self, result_shape, context);
    auto* o = reinterpret_cast<PyArrayObject*>(out.ptr());
    const auto* begin = file.data();
    if (PyArray_IS_C_CONTIGUOUS(o) && !overlaps(o, begin, begin + file.size())) {
      target = nb::borrow(out);
    }
  }
  if (!target.is_valid()) target = new_array(self, result_shape);
  auto* t = reinterpret_cast<PyArrayObject*>(target.ptr());
  const std::span<std::byte> destination(static_cast<std::byte*>(PyArray_DATA(t)),
                                         static_cast<std::size_t>(PyArray_NBYTES(t)));
  const take_options options{threads, absolute_path(self)};  // warm rows are read through it
  without_gil([&] { take_rows(file, layout, index.values, destination, options); });
  if (!out.is_none()) {
    if (!target.is(out) &&
        PyArray_CopyInto(reinterpret_cast<PyArrayObject*>(out.ptr()), t) != 0) {
      throw nb::python_error();
    }
    return nb::borrow(out);
  }
  // As np.take: a scalar index into a 1-D array gives a NumPy scalar, not a 0-d array.
  return nb::steal(PyArray_Return(reinterpret_cast<PyArrayObject*>(target.release().ptr())));
}

// --- MappedArrays --------------------------------------------------------------------------

// The container's whole mapping, or the bytes of the array called `name`.
mapping_range entry_range(const mapped_arrays& self, nb::handle name) {
  if (name.is_none()) return {};
  PyObject* position = PyDict_GetItemWithError(self.index.ptr(), name.ptr());  // borrowed
  if (position == nullptr) {
    if (PyErr_Occurred()) throw nb::python_error();
    PyErr_SetObject(PyExc_KeyError, name.ptr());
    throw nb::python_error();
  }
  const array_entry& entry = self.entries[PyLong_AsSize_t(position)];
  if (!entry.unavailable.empty()) {
    throw format_error(format_errc::compressed_member, "map", self.path, entry.unavailable);
  }
  return {static_cast<std::size_t>(entry.offset), static_cast<std::size_t>(entry.nbytes)};
}

void container_advise(const mapped_arrays& self, nb::handle advice, nb::handle name) {
  nb::object owner = open_owner(self.owner, self.filename, "advise");
  mapped_file& file = file_of(owner);
  const access_advice how = to_advice(advice, error_context::of("advise", file.path()));
  const mapping_range range = entry_range(self, name);
  without_gil([&] { mmap_array::advise(file, how, range); });
}

void container_prefetch(const mapped_arrays& self, nb::handle name) {
  nb::object owner = open_owner(self.owner, self.filename, "prefetch");
  prefetch_range(owner, entry_range(self, name));
}

void container_populate(const mapped_arrays& self, nb::handle name, nb::handle threads) {
  nb::object owner = open_owner(self.owner, self.filename, "populate");
  mapped_file& file = file_of(owner);
  const populate_options options{to_threads(threads, error_context::of("populate", file.path())),
                                 false};
  const mapping_range range = entry_range(self, name);
  without_gil([&] { mmap_array::populate(file, range, options); });
}

double container_residency(const mapped_arrays& self, nb::handle name) {
  nb::object owner = open_owner(self.owner, self.filename, "measure the residency of");
  mapped_file& file = file_of(owner);
  const mapping_range range = entry_range(self, name);
  return without_gil([&] { return mmap_array::residency(file, range); });
}

nb::object container_residency_map(const mapped_arrays& self, nb::handle bins, nb::handle name) {
  nb::object owner = open_owner(self.owner, self.filename, "measure the residency of");
  mapped_file& file = file_of(owner);
  const std::size_t count = to_bins(bins, error_context::of("measure the residency of", file.path()));
  const mapping_range range = entry_range(self, name);
  return to_float_array(without_gil([&] { return mmap_array::residency_map(file, count, range); }));
}

}  // namespace

void bind_access_methods(nb::class_<array_handle>& cls) {
  cls.def("advise", &handle_advise, nb::arg("advice"), nb::arg("start").none() = nb::none(),
          nb::arg("stop").none() = nb::none(),
          nb::sig("def advise(self, advice: str, start: " MMAP_ARRAY_INDEX_T
                  " = None, stop: " MMAP_ARRAY_INDEX_T " = None) -> None"),
          doc::advise)
      .def("_write_behind", &handle_write_behind,
           "Start writing the mapping's dirty pages back while it is filled; False if too many run.")
      .def("prefetch", &handle_prefetch, nb::arg("start").none() = nb::none(),
           nb::arg("stop").none() = nb::none(),
           nb::sig("def prefetch(self, start: " MMAP_ARRAY_INDEX_T " = None, stop: "
                   MMAP_ARRAY_INDEX_T " = None) -> None"),
           doc::prefetch)
      .def("populate", &handle_populate, nb::arg("start").none() = nb::none(),
           nb::arg("stop").none() = nb::none(), nb::arg("threads").none() = nb::none(),
           nb::kw_only(), nb::arg("write") = false,
           nb::sig("def populate(self, start: " MMAP_ARRAY_INDEX_T " = None, stop: "
                   MMAP_ARRAY_INDEX_T " = None, threads: " MMAP_ARRAY_INDEX_T
                   " = None, *, write: bool = False) -> None"),
           doc::populate)
      .def("residency", &handle_residency, nb::arg("start").none() = nb::none(),
           nb::arg("stop").none() = nb::none(),
           nb::sig("def residency(self, start: " MMAP_ARRAY_INDEX_T " = None, stop: "
                   MMAP_ARRAY_INDEX_T " = None) -> float"),
           doc::residency)
      .def("residency_map", &handle_residency_map, nb::arg("bins").none() = 64,
           nb::arg("start").none() = nb::none(), nb::arg("stop").none() = nb::none(),
           nb::sig("def residency_map(self, bins: typing.SupportsIndex = 64, start: "
                   MMAP_ARRAY_INDEX_T " = None, stop: " MMAP_ARRAY_INDEX_T
                   " = None) -> numpy.typing.NDArray[numpy.float64]"),
           doc::residency_map)
      .def("take", &handle_take, nb::arg("indices"), nb::arg("axis").none() = 0,
           nb::arg("out").none() = nb::none(), nb::arg("threads").none() = nb::none(),
           nb::sig("def take(self, indices: numpy.typing.ArrayLike, axis: " MMAP_ARRAY_INDEX_T
                   " = 0, out: " MMAP_ARRAY_ARRAY_T " | None = None, threads: "
                   MMAP_ARRAY_INDEX_T " = None) -> " MMAP_ARRAY_ARRAY_T),
           doc::take)
      .def(
          "page_info",
          [](const array_handle& self) { return owner_page_info(self.owner, self.filename); },
          nb::sig("def page_info(self) -> dict[str, typing.Any]"), doc::page_info);
}

void bind_container_access_methods(nb::class_<mapped_arrays>& cls) {
  cls.def("advise", &container_advise, nb::arg("advice"), nb::arg("name").none() = nb::none(),
          nb::sig("def advise(self, advice: str, name: str | None = None) -> None"),
          doc::container_advise)
      .def("prefetch", &container_prefetch, nb::arg("name").none() = nb::none(),
           nb::sig("def prefetch(self, name: str | None = None) -> None"), doc::container_prefetch)
      .def("populate", &container_populate, nb::arg("name").none() = nb::none(),
           nb::arg("threads").none() = nb::none(),
           nb::sig("def populate(self, name: str | None = None, threads: " MMAP_ARRAY_INDEX_T
                   " = None) -> None"),
           doc::container_populate)
      .def("residency", &container_residency, nb::arg("name").none() = nb::none(),
           nb::sig("def residency(self, name: str | None = None) -> float"),
           doc::container_residency)
      .def("residency_map", &container_residency_map, nb::arg("bins").none() = 64,
           nb::arg("name").none() = nb::none(),
           nb::sig("def residency_map(self, bins: typing.SupportsIndex = 64, name: str | None = "
                   "None) -> numpy.typing.NDArray[numpy.float64]"),
           doc::container_residency_map)
      .def(
          "page_info",
          [](const mapped_arrays& self) { return owner_page_info(self.owner, self.filename); },
          nb::sig("def page_info(self) -> dict[str, typing.Any]"), doc::container_page_info);
}

}  // namespace mmap_array::python
