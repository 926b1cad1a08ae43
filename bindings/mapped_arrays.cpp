#include "mapped_arrays.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <string>
#include <utility>

#include "arguments.hpp"
#include "docstrings.hpp"
#include "errors.hpp"
#include "mapping_owner.hpp"
#include "mmap_array/npz.hpp"
#include "mmap_array/safetensors.hpp"
#include "npy_dtype.hpp"
#include "sharing.hpp"
#include "stub_types.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

nb::str decode_name(const std::string& name) {
  // surrogateescape keeps distinct byte strings distinct even when they are not UTF-8.
  return nb::steal<nb::str>(PyUnicode_DecodeUTF8(name.data(), static_cast<Py_ssize_t>(name.size()),
                                                 "surrogateescape"));
}

mode_argument container_mode(std::string_view mode, const char* writer) {
  const mode_argument how = to_mode(mode);
  if (how.create) {
    PyErr_Format(PyExc_ValueError, "mode 'w+' would create an empty file: write one with %s",
                 writer);
    throw nb::python_error();
  }
  return how;
}

void add_entry(mapped_arrays& self, array_entry&& entry) {
  self.index[entry.name] = self.entries.size();
  self.entries.push_back(std::move(entry));
}

nb::object wrap(mapped_arrays&& arrays, mapped_file&& file) {
  arrays.base = file.data();
  arrays.identity = file.identity();
  arrays.owner = make_owner(std::move(file));
  return nb::cast(std::move(arrays), nb::rv_policy::move);
}

// --- safetensors -----------------------------------------------------------------------

nb::object open_safetensors(nb::handle filename, std::string_view mode, nb::dict dtype_table) {
  const mode_argument how = container_mode(mode, "mmap_array.save_safetensors()");
  path_argument path = to_path(filename);
  mapped_safetensors file;
  {
    nb::gil_scoped_release unlocked;
    file = map_safetensors(path.path, how.access);
  }
  mapped_arrays arrays;
  arrays.filename = std::move(path.absolute);
  arrays.path = path.path;
  arrays.format = "safetensors";
  arrays.mode = how.name;
  for (const auto& [key, value] : file.header.metadata) {
    arrays.metadata[decode_name(key)] = decode_name(value);
  }

  for (const safetensors_tensor& tensor : file.header.tensors) {
    const std::string_view type_name = to_string(tensor.dtype);
    nb::str format_dtype(type_name.data(), type_name.size());
    const unsigned bits = bits_of(tensor.dtype);
    array_entry entry;
    entry.name = decode_name(tensor.name);
    entry.offset = tensor.begin;
    entry.file_offset = file.header.data_offset + tensor.begin;
    entry.nbytes = tensor.end - tensor.begin;
    entry.format_dtype = format_dtype;
    const bool packed = bits % 8 != 0;  // NumPy has no sub-byte types: F4/F6 show their bytes
    const npy_intp item_bytes = packed ? 1 : static_cast<npy_intp>(bits / 8);
    std::vector<std::uint64_t> outer;
    nb::object descr;
    if (packed) {
      descr = nb::steal(reinterpret_cast<PyObject*>(PyArray_DescrFromType(NPY_UINT8)));
      outer.push_back(entry.nbytes);
    } else {
      descr = dtype_table[format_dtype];
      if (!PyArray_DescrCheck(descr.ptr()) ||
          PyDataType_ELSIZE(reinterpret_cast<PyArray_Descr*>(descr.ptr())) != bits / 8) {
        PyErr_Format(PyExc_TypeError, "the dtype table maps %R to %R, not a %u-byte dtype",
                     format_dtype.ptr(), descr.ptr(), bits / 8);
        throw nb::python_error();
      }
      check_file_layout(tensor.shape, bits / 8, path.path, "tensor '" + tensor.name + "'");
      outer = tensor.shape;
    }
    entry.layout = make_layout(std::move(descr), outer, item_bytes, {}, false,
                               how.access != access_mode::read_only);
    add_entry(arrays, std::move(entry));
  }
  return wrap(std::move(arrays), std::move(file.data));
}

// --- npz -------------------------------------------------------------------------------

nb::object open_npz(nb::handle filename, std::string_view mode, std::uint64_t max_header_size) {
  const mode_argument how = container_mode(mode, "numpy.savez()");
  path_argument path = to_path(filename);
  mapped_npz file;
  {
    nb::gil_scoped_release unlocked;
    file = map_npz(path.path, how.access, npy_limits{max_header_size});
  }
  mapped_arrays arrays;
  arrays.filename = std::move(path.absolute);
  arrays.path = path.path;
  arrays.format = "npz";
  arrays.mode = how.name;
  arrays.max_header_size = max_header_size;
  for (const npz_member& member : file.members) {
    array_entry entry;
    entry.name = decode_name(member.name);
    if (member.compressed) {
      entry.unavailable = "member '" + member.name +
                          "' is compressed, so it cannot be mapped; np.load() can read it";
      entry.format_dtype = nb::none();
      entry.layout.descr = nb::none();
      add_entry(arrays, std::move(entry));
      continue;
    }
    entry.offset = member.data_offset;
    entry.file_offset = member.data_offset;
    entry.nbytes = member.header.data_size;
    check_file_layout(member.header.shape, member.header.dtype.itemsize, path.path,
                      "member '" + member.name + "'");
    entry.format_dtype = nb::str(format_npy_descr(member.header.dtype).c_str());
    entry.layout = make_layout(numpy_descr(member.header.dtype, path.path), member.header.shape,
                               static_cast<npy_intp>(member.header.dtype.itemsize), {},
                               member.header.fortran_order, how.access != access_mode::read_only);
    add_entry(arrays, std::move(entry));
  }
  return wrap(std::move(arrays), std::move(file.file));
}

// --- the container ---------------------------------------------------------------------

const array_entry* find(const mapped_arrays& self, nb::handle name) {
  PyObject* position = PyDict_GetItemWithError(self.index.ptr(), name.ptr());  // borrowed
  if (position == nullptr) {
    if (PyErr_Occurred()) throw nb::python_error();
    return nullptr;
  }
  return &self.entries[PyLong_AsSize_t(position)];
}

void flush(const mapped_arrays& self) {
  if (!self.owner.is_valid()) raise_closed("flush", self.filename);
  if (owner_truncated(self.owner)) raise_truncated("flush", self.filename);
  // A strong reference keeps the mapping alive if another thread closes the container while
  // this one waits for the disk without the GIL.
  nb::object owner = self.owner;
  mapped_file& file = owned_file(owner);
  nb::gil_scoped_release unlocked;
  file.flush();
}

nb::object get_item(const mapped_arrays& self, nb::handle name) {
  if (!self.owner.is_valid()) raise_closed("get an array of", self.filename);
  if (owner_truncated(self.owner)) raise_truncated("get an array of", self.filename);
  const array_entry* entry = find(self, name);
  if (entry == nullptr) {
    PyErr_SetObject(PyExc_KeyError, name.ptr());
    throw nb::python_error();
  }
  if (!entry->unavailable.empty()) {
    throw format_error(format_errc::compressed_member, "map", self.path, entry->unavailable);
  }
  return export_array(self.base == nullptr ? nullptr : self.base + entry->offset, entry->layout,
                      self.owner);
}

nb::list keys(const mapped_arrays& self) {
  nb::list names;
  for (const array_entry& entry : self.entries) names.append(entry.name);
  return names;
}

nb::list info(const mapped_arrays& self) {
  nb::list rows;
  for (const array_entry& entry : self.entries) {
    nb::dict row;
    row["name"] = entry.name;
    row["dtype"] = entry.layout.descr;
    nb::list dims;
    for (npy_intp dim : entry.layout.shape) dims.append(dim);
    row["shape"] = entry.unavailable.empty() ? nb::object(nb::tuple(dims)) : nb::none();
    row["offset"] = entry.unavailable.empty() ? nb::cast(entry.file_offset) : nb::none();
    row["nbytes"] = entry.unavailable.empty() ? nb::cast(entry.nbytes) : nb::none();
    row["file_dtype"] = entry.format_dtype;
    rows.append(row);
  }
  return rows;
}

std::string repr(const mapped_arrays& self) {
  return "<MappedArrays " + nb::cast<std::string>(nb::repr(self.filename)) + " format='" +
         self.format + "' arrays=" + std::to_string(self.entries.size()) + " mode='" + self.mode +
         "'" + (self.owner.is_valid() ? ">" : " closed>");
}

}  // namespace

void bind_mapped_arrays(nb::module_& m) {
  nb::class_<mapped_arrays> cls(m, "MappedArrays", nb::is_weak_referenceable(),
                                doc::container_class);
  cls.def("__getitem__", &get_item, nb::arg("name"),
          nb::sig("def __getitem__(self, name: str) -> " MMAP_ARRAY_ARRAY_T),
          doc::container_getitem)
      .def(
          "get",
          [](const mapped_arrays& self, nb::handle name, nb::handle fallback) -> nb::object {
            if (self.owner.is_valid() && find(self, name) == nullptr) return nb::borrow(fallback);
            return get_item(self, name);
          },
          nb::arg("name"), nb::arg("default") = nb::none(),
          nb::sig("def get(self, name: str, default: typing.Any = None) -> typing.Any"),
          doc::container_get)
      .def("keys", &keys, nb::sig("def keys(self) -> list[str]"), doc::container_keys)
      .def(
          "values",
          [](const mapped_arrays& self) {
            nb::list values;
            for (const array_entry& entry : self.entries) values.append(get_item(self, entry.name));
            return values;
          },
          nb::sig("def values(self) -> list[" MMAP_ARRAY_ARRAY_T "]"), doc::container_values)
      .def(
          "items",
          [](const mapped_arrays& self) {
            nb::list items;
            for (const array_entry& entry : self.entries) {
              items.append(nb::make_tuple(entry.name, get_item(self, entry.name)));
            }
            return items;
          },
          nb::sig("def items(self) -> list[tuple[str, " MMAP_ARRAY_ARRAY_T "]]"),
          doc::container_items)
      .def("info", &info, nb::sig("def info(self) -> list[dict[str, typing.Any]]"),
           doc::container_info)
      .def(
          "__iter__", [](const mapped_arrays& self) { return nb::iter(keys(self)); },
          nb::sig("def __iter__(self) -> collections.abc.Iterator[str]"))
      .def("__len__", [](const mapped_arrays& self) { return self.entries.size(); })
      .def(
          "__contains__",
          [](const mapped_arrays& self, nb::handle name) { return find(self, name) != nullptr; },
          nb::sig("def __contains__(self, name: object, /) -> bool"))
      .def("flush", &flush, doc::container_flush)
      .def("close", [](mapped_arrays& self) { self.owner.reset(); }, doc::container_close)
      .def(
          "__enter__", [](nb::handle self) { return nb::borrow(self); },
          nb::sig("def __enter__(self) -> MappedArrays"))
      .def(
          "__exit__", [](mapped_arrays& self, nb::args) { self.owner.reset(); },
          nb::sig("def __exit__(self, *args: object) -> None"))
      .def("__repr__", &repr)
      .def_prop_ro("metadata", [](const mapped_arrays& self) { return self.metadata.attr("copy")(); },
                   nb::sig("def metadata(self) -> dict[str, str]"), doc::container_metadata)
      .def_prop_ro("filename", [](const mapped_arrays& self) { return self.filename; },
                   nb::sig("def filename(self) -> str"), doc::filename)
      .def_prop_ro("format", [](const mapped_arrays& self) { return self.format; },
                   "The file's format: 'safetensors' or 'npz'.")
      .def_prop_ro("mode", [](const mapped_arrays& self) { return self.mode; }, doc::mode)
      .def_prop_ro("closed", [](const mapped_arrays& self) { return !self.owner.is_valid(); },
                   doc::closed);
  bind_container_pickling(cls);
  bind_container_access_methods(cls);

  m.def("_open_safetensors", &open_safetensors, nb::arg("filename"), nb::arg("mode"),
        nb::arg("dtype_table"),
        nb::sig("def _open_safetensors(filename: " MMAP_ARRAY_PATH_T
                ", mode: str, dtype_table: dict[str, numpy.dtype[typing.Any]]) -> MappedArrays"),
        "Map a safetensors file; dtype_table maps its dtype names.");
  m.def("_open_npz", &open_npz, nb::arg("filename"), nb::arg("mode"),
        nb::arg("max_header_size") = 10'000,
        nb::sig("def _open_npz(filename: " MMAP_ARRAY_PATH_T
                ", mode: str, max_header_size: int = 10000) -> MappedArrays"),
        "Map the stored members of an .npz archive.");
}

}  // namespace mmap_array::python
