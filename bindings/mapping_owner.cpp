#include "mapping_owner.hpp"

#include <structmember.h>  // PyMemberDef, T_PYSSIZET (Python 3.11)

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <utility>

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

struct owner_object {
  PyObject_HEAD
  PyObject* weak_references;  // a resized handle finds the arrays left on its old mappings
  mapped_file file;
  std::shared_ptr<std::atomic<bool>> write_behind_stop;  // set when the write-behind must end
};

PyTypeObject* owner_type = nullptr;  // set once by bind_mapping_owner, alive with the module

void owner_dealloc(PyObject* self) {
  auto* owner = reinterpret_cast<owner_object*>(self);
  if (owner->weak_references != nullptr) PyObject_ClearWeakRefs(self);
  stop_write_behind(self);
  owner->write_behind_stop.~shared_ptr();
  owner->file.~mapped_file();  // unmaps
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);  // instances of a heap type hold a reference to it
}

PyObject* owner_repr(PyObject* self) {
  const mapped_file& f = reinterpret_cast<owner_object*>(self)->file;
  const std::string text = "<mmap_array._Mapping '" + f.path().string() + "' " +
                           std::to_string(f.size()) + " bytes at offset " +
                           std::to_string(f.offset()) + ">";
  return PyUnicode_DecodeFSDefaultAndSize(text.data(), static_cast<Py_ssize_t>(text.size()));
}

PyMemberDef owner_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(owner_object, weak_references), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

PyType_Slot owner_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(owner_dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(owner_repr)},
    {Py_tp_members, owner_members},
    {Py_tp_doc, const_cast<char*>("Owner of one memory mapping; the base of every exported array.")},
    {0, nullptr}};

// No Py_TPFLAGS_HAVE_GC: an owner holds no Python references, so it is never in a cycle.
PyType_Spec owner_spec = {"mmap_array._core._Mapping", sizeof(owner_object), 0,
                          Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, owner_slots};

}  // namespace

void bind_mapping_owner(nb::module_& m) {
  nb::object type = nb::steal(PyType_FromSpec(&owner_spec));
  if (!type.is_valid()) throw nb::python_error();
  owner_type = reinterpret_cast<PyTypeObject*>(type.ptr());
  m.attr("_Mapping") = type;  // the module's reference keeps the type alive
}

nb::object make_owner(mapped_file&& file) {
  PyObject* self = owner_type->tp_alloc(owner_type, 0);  // zeroed; holds a type reference
  if (self == nullptr) throw nb::python_error();
  new (&reinterpret_cast<owner_object*>(self)->file) mapped_file(std::move(file));
  new (&reinterpret_cast<owner_object*>(self)->write_behind_stop) std::shared_ptr<std::atomic<bool>>();
  return nb::steal(self);
}

mapped_file& owned_file(nb::handle owner) noexcept {
  return reinterpret_cast<owner_object*>(owner.ptr())->file;
}

std::shared_ptr<std::atomic<bool>> write_behind_flag(nb::handle owner) {
  auto& flag = reinterpret_cast<owner_object*>(owner.ptr())->write_behind_stop;
  if (!flag) flag = std::make_shared<std::atomic<bool>>(false);
  return flag;
}

void stop_write_behind(nb::handle owner) noexcept {
  const auto& flag = reinterpret_cast<owner_object*>(owner.ptr())->write_behind_stop;
  if (flag) flag->store(true, std::memory_order_relaxed);
}

}  // namespace mmap_array::python
