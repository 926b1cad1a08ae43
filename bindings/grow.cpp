// MemoryMappedArray.resize and .append: growing and shrinking the file of an "r+" handle.
//
// A resize gives the handle a new mapping (a new owner) of the new extent and keeps nothing
// of the old one but a weak reference: arrays exported before keep the old owner, and with
// it a valid mapping of the same file. Before anything is cut off the file (a shrink), or the
// file is replaced by a rewritten one (an .npy header without room), every array that would
// lose its pages or its file is counted through its owner's reference count, and the call
// is refused with BufferError if there are any. Those two cases hold the GIL throughout, so
// no array can be exported between the count and the change; growing in place, which
// invalidates nothing, releases it.
#include <nanobind/stl/string.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arguments.hpp"
#include "array_handle.hpp"
#include "errors.hpp"
#include "grow_docstrings.hpp"
#include "mapping_owner.hpp"
#include "mmap_array/resize.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

std::size_t outer_ndim(const array_handle& self) {
  return self.layout.shape.size() - self.subarray_ndim;
}

// The axis that grows: its entries are contiguous at the end of the data.
std::size_t growth_axis(const array_handle& self) {
  return self.layout.fortran ? outer_ndim(self) - 1 : 0;
}

void require_growable(const array_handle& self, const char* operation) {
  require_open(self, operation);
  const std::string_view mode = self.mode;
  if (mode == "r") {
    PyErr_Format(PyExc_ValueError,
                 "cannot %s %R: it is mapped read-only (mode 'r'); open it with mode 'r+' to "
                 "change the file",
                 operation, self.filename.ptr());
    throw nb::python_error();
  }
  if (mode == "c") {
    PyErr_Format(PyExc_ValueError,
                 "cannot %s %R: it is mapped copy-on-write (mode 'c'), whose changes stay in "
                 "memory, and resizing changes the file; open it with mode 'r+'",
                 operation, self.filename.ptr());
    throw nb::python_error();
  }
  if (outer_ndim(self) == 0) {
    PyErr_Format(PyExc_ValueError,
                 "cannot %s %R: its array is 0-d (shape %R) and has no axis to grow",
                 operation, self.filename.ptr(), self.shape_tuple.ptr());
    throw nb::python_error();
  }
}

const mapped_file& mapping_of(nb::handle owner) { return owned_file(owner); }

// Arrays, views, memoryviews and tensors alive on mappings of this handle that reach past
// byte `end` of the file (or on any of its mappings, with `all`). Each holds a reference to
// its mapping's owner: NumPy's views hold the array they view, whose base is the owner.
Py_ssize_t arrays_past(array_handle& self, std::uint64_t end, bool all) {
  Py_ssize_t count = 0;
  const auto reaches_past = [&](nb::handle owner) {
    const mapped_file& file = mapping_of(owner);
    return all || file.offset() + file.size() > end;
  };
  if (reaches_past(self.owner)) count += Py_REFCNT(self.owner.ptr()) - 1;  // less the handle's
  std::vector<nb::weakref> alive;
  for (nb::weakref& reference : self.previous_owners) {
    nb::object owner = reference();
    if (owner.is_none()) continue;
    if (reaches_past(owner)) count += Py_REFCNT(owner.ptr()) - 1;  // less `owner` here
    alive.push_back(std::move(reference));
  }
  self.previous_owners = std::move(alive);
  return count;
}

[[noreturn]] void refuse_live_arrays(const array_handle& self, const char* operation,
                                     std::uint64_t new_length, Py_ssize_t alive,
                                     bool rewrite) {
  const std::string why =
      rewrite ? "its .npy header has no room for the new shape, so the file must be rewritten "
                "as a new file, which the arrays would silently stop viewing"
              : "the pages they view would be cut off the file";
  PyErr_Format(PyExc_BufferError,
               "cannot %s %R to length %llu: %zd array(s) exported from it (by get_array(), "
               "np.asarray(), indexing, memoryview or DLPack), or views of them, are alive "
               "and %s; nothing was changed. Delete them, or copy what you need, first",
               operation, self.filename.ptr(), static_cast<unsigned long long>(new_length), alive,
               why.c_str());
  throw nb::python_error();
}

// Clears `resizing` however the resize ends.
struct resize_scope {
  array_handle& self;
  resize_scope(array_handle& handle, const char* operation) : self(handle) {
    if (self.resizing) {
      PyErr_Format(PyExc_RuntimeError, "cannot %s %R: another thread is resizing it",
                   operation, self.filename.ptr());
      throw nb::python_error();
    }
    self.resizing = true;
  }
  resize_scope(const resize_scope&) = delete;
  resize_scope& operator=(const resize_scope&) = delete;
  ~resize_scope() { self.resizing = false; }
};

// Resizes the file of `self` to `new_length` along the growing axis, writing `tail` (the
// bytes of appended rows) right after the old data, and moves the handle to the new mapping.
void resize_to(array_handle& self, std::uint64_t new_length, std::span<const std::byte> tail,
               const char* operation) {
  // Again: converting the arguments (__index__, __array__) runs Python code, which may have
  // closed the handle, or found its file truncated, since the caller first checked it.
  require_growable(self, operation);
  const std::size_t axis = growth_axis(self);
  const auto old_length = static_cast<std::uint64_t>(self.layout.shape[axis]);
  if (new_length == old_length) return;

  std::vector<std::uint64_t> dims(self.layout.shape.begin(), self.layout.shape.end());
  dims[axis] = new_length;
  const auto element_bytes = static_cast<std::uint64_t>(
      PyDataType_ELSIZE(reinterpret_cast<PyArray_Descr*>(self.layout.descr.ptr())));
  if (numpy_layout_problem(dims, element_bytes)) {
    check_numpy_layout(dims, element_bytes, error_context::of(operation, to_path(self.filename).path));
  }
  std::uint64_t new_nbytes = element_bytes;
  for (std::uint64_t dim : dims) new_nbytes *= dim;  // checked just above

  resize_scope scope(self, operation);
  const bool shrinks = new_length < old_length;
  const bool rewrites = self.npy && !npy_header_fits(*self.npy, new_length);
  if (shrinks || rewrites) {
    // Counted before this function takes a reference of its own to the owner.
    const Py_ssize_t alive = arrays_past(self, self.offset + new_nbytes, rewrites);
    if (alive > 0) refuse_live_arrays(self, operation, new_length, alive, rewrites);
  }
  // A strong reference: another thread may close the handle while the GIL is released.
  nb::object owner = self.owner;
  const mapped_file& current = mapping_of(owner);
  mapped_file file;
  std::optional<npy_header> header;
  if (shrinks || rewrites) {
    if (self.npy) {
      mapped_npy npy = resize_npy(current, *self.npy, new_length, tail);
      file = std::move(npy.data);
      header = std::move(npy.header);
    } else {
      file = resize_raw_array(current, new_nbytes, tail);
    }
  } else {
    nb::gil_scoped_release unlocked;
    if (self.npy) {
      mapped_npy npy = resize_npy(current, *self.npy, new_length, tail);
      file = std::move(npy.data);
      header = std::move(npy.header);
    } else {
      file = resize_raw_array(current, new_nbytes, tail);
    }
  }
  // Closed meanwhile: the file has its new size, and the handle stays closed.
  if (!self.owner.is_valid() || !self.owner.is(owner)) return;

  // The old mapping lives on only if arrays hold it (beyond this function and the handle).
  if (Py_REFCNT(owner.ptr()) > 2) {
    if (self.previous_owners.size() >= 16 && self.previous_owners.size() % 16 == 0) {
      std::erase_if(self.previous_owners,
                    [](const nb::weakref& reference) { return reference().is_none(); });
    }
    self.previous_owners.emplace_back(owner);
  }
  self.data = file.data();
  self.nbytes = file.size();
  self.identity = file.identity();
  self.offset = file.offset();
  if (header) self.npy = std::move(header);
  self.layout.shape[axis] = static_cast<npy_intp>(new_length);  // strides do not depend on it
  self.items = 1;
  nb::list shape;
  for (npy_intp dim : self.layout.shape) {
    self.items *= static_cast<std::uint64_t>(dim);
    shape.append(dim);
  }
  self.shape_tuple = nb::tuple(shape);
  self.owner = make_owner(std::move(file));
}

std::uint64_t to_length(nb::handle value, const array_handle& self) {
  nb::object index = nb::steal(PyNumber_Index(value.ptr()));
  if (!index.is_valid()) throw nb::python_error();
  int overflow = 0;
  const long long n = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (n == -1 && PyErr_Occurred()) throw nb::python_error();
  if (overflow < 0 || (overflow == 0 && n < 0)) {
    PyErr_Format(PyExc_ValueError, "cannot resize %R: new_length must be at least 0, not %R",
                 self.filename.ptr(), index.ptr());
    throw nb::python_error();
  }
  if (overflow > 0) {
    PyErr_Format(PyExc_ValueError, "cannot resize %R: new_length %R is too large",
                 self.filename.ptr(), index.ptr());
    throw nb::python_error();
  }
  return static_cast<std::uint64_t>(n);
}

void resize(array_handle& self, nb::handle new_length) {
  require_growable(self, "resize");
  resize_to(self, to_length(new_length, self), {}, "resize");
}

// "(k, 3)" for a C-ordered (n, 3) handle: the shape rows must have.
std::string expected_rows(const array_handle& self) {
  std::string text = "(";
  for (std::size_t i = 0; i < self.layout.shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += i == growth_axis(self) ? "k" : std::to_string(self.layout.shape[i]);
  }
  return text + (self.layout.shape.size() == 1 ? ",)" : ")");
}

void append(array_handle& self, nb::handle rows) {
  require_growable(self, "append to");
  PyArray_Descr* descr = reinterpret_cast<PyArray_Descr*>(self.layout.descr.ptr());
  nb::object array = nb::steal(PyArray_FromAny(rows.ptr(), nullptr, 0, 0, 0, nullptr));
  if (!array.is_valid()) throw nb::python_error();
  auto* source = reinterpret_cast<PyArrayObject*>(array.ptr());
  if (!PyArray_CanCastTypeTo(PyArray_DESCR(source), descr, NPY_SAFE_CASTING)) {
    PyErr_Format(PyExc_TypeError,
                 "cannot append rows of dtype %R to %R of dtype %R without losing information "
                 "(NumPy's 'safe' casting); convert them explicitly, e.g. rows.astype(mm.dtype)",
                 reinterpret_cast<PyObject*>(PyArray_DESCR(source)), self.filename.ptr(),
                 self.layout.descr.ptr());
    throw nb::python_error();
  }
  const std::size_t axis = growth_axis(self);
  const std::size_t ndim = self.layout.shape.size();
  bool fits = static_cast<std::size_t>(PyArray_NDIM(source)) == ndim;
  for (std::size_t i = 0; fits && i < ndim; ++i) {
    fits = i == axis || PyArray_DIM(source, static_cast<int>(i)) == self.layout.shape[i];
  }
  if (!fits) {
    nb::object given = array.attr("shape");
    const std::string hint =
        static_cast<std::size_t>(PyArray_NDIM(source)) + 1 == ndim
            ? std::string("; for one row, pass ") +
                  (axis == 0 ? "row[np.newaxis]" : "row[..., np.newaxis]")
            : std::string();
    PyErr_Format(PyExc_ValueError,
                 "cannot append to %R of shape %R: rows of shape %R do not fit, they must have "
                 "shape %s for some k%s",
                 self.filename.ptr(), self.shape_tuple.ptr(), given.ptr(),
                 expected_rows(self).c_str(), hint.c_str());
    throw nb::python_error();
  }
  const auto count = static_cast<std::uint64_t>(PyArray_DIM(source, static_cast<int>(axis)));
  if (count == 0) return;

  // The rows as the file lays them out: the handle's strides over k rows. An array already
  // in that form is written as it is; any other is cast and copied into that form first.
  std::vector<npy_intp> block_shape = self.layout.shape;
  block_shape[axis] = static_cast<npy_intp>(count);
  const std::vector<npy_intp>& strides = self.layout.strides;
  const bool as_is = PyArray_EquivTypes(PyArray_DESCR(source), descr) &&
                     std::equal(strides.begin(), strides.end(), PyArray_STRIDES(source));
  nb::object block = array;
  if (!as_is) {
    Py_INCREF(descr);  // stolen
    PyObject* fresh = PyArray_NewFromDescr(&PyArray_Type, descr, static_cast<int>(ndim),
                                           block_shape.data(), const_cast<npy_intp*>(strides.data()),
                                           nullptr, NPY_ARRAY_WRITEABLE, nullptr);
    if (fresh == nullptr) throw nb::python_error();
    block = nb::steal(fresh);
    if (PyArray_CopyInto(reinterpret_cast<PyArrayObject*>(fresh), source) < 0) {
      throw nb::python_error();
    }
  }
  auto* bytes = reinterpret_cast<PyArrayObject*>(block.ptr());
  const std::span<const std::byte> tail(static_cast<const std::byte*>(PyArray_DATA(bytes)),
                                        static_cast<std::size_t>(PyArray_NBYTES(bytes)));
  const auto old_length = static_cast<std::uint64_t>(self.layout.shape[axis]);
  if (count > UINT64_MAX - old_length) {
    PyErr_Format(PyExc_ValueError, "cannot append to %R: the length would overflow 64 bits",
                 self.filename.ptr());
    throw nb::python_error();
  }
  resize_to(self, old_length + count, tail, "append to");
}

}  // namespace

void bind_grow_methods(nb::class_<array_handle>& cls) {
  cls.def("resize", &resize, nb::arg("new_length"),
          nb::sig("def resize(self, new_length: typing.SupportsIndex) -> None"), doc::resize)
      .def("append", &append, nb::arg("rows"),
           nb::sig("def append(self, rows: numpy.typing.ArrayLike) -> None"), doc::append);
}

}  // namespace mmap_array::python
