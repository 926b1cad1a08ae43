#include "errors.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "mmap_array/error.hpp"
#include "mmap_array/fault_guard.hpp"

namespace nb = nanobind;

namespace mmap_array::python {
namespace {

PyObject* format_error_type = nullptr;     // mmap_array.FormatError, owned by the module
PyObject* truncated_error_type = nullptr;  // mmap_array.FileTruncatedError
PyObject* changed_error_type = nullptr;    // mmap_array.FileChangedError

constexpr const char* truncated_error_doc =
    "A mapped file shrank under a live mapping (another process truncated it or rewrote\n"
    "it in place), or a write to a sparse file found the disk full.\n\n"
    "A subclass of OSError (errno EFAULT, filename set). The vanished pages read as zeros\n"
    "from then on, writes to them are lost, and every later call on the handle raises it.";

constexpr const char* changed_error_doc =
    "The file behind a mapping is not the one that was mapped, or no longer as it was.\n\n"
    "Raised when unpickling a MemoryMappedArray or MappedArrays whose file was replaced\n"
    "(another device or inode), resized, or, for read-only pickles, modified since it was\n"
    "mapped; and when a read-only handle is exported through DLPack after its file was\n"
    "replaced or resized; and when resize() or append() finds the file replaced, deleted,\n"
    "resized or its .npy header rewritten by someone else. A subclass of OSError with\n"
    "errno ESTALE and filename set; the message says what changed.\n\n"
    "Examples\n"
    "--------\n"
    ">>> blob = pickle.dumps(mmap_array.open(\"data.npy\"))\n"
    ">>> mmap_array.save(\"data.npy\", np.zeros(3))   # replaces the file\n"
    ">>> pickle.loads(blob)\n"
    "Traceback (most recent call last):\n"
    "...\n"
    "mmap_array.FileChangedError: [Errno 116] cannot unpickle the mapping: the file changed\n"
    "since it was mapped: the path now names another file (...): it was replaced: '/.../data.npy'";

constexpr const char* format_error_doc =
    "The bytes of a file are wrong: bad magic, a malformed or oversized header, sizes\n"
    "that do not add up, arrays that overlap or leave gaps.\n\n"
    "A subclass of ValueError. Attributes: ``filename`` (the file, as given) and\n"
    "``reason`` (the kind of malformation, e.g. ``'bad_magic'``, ``'truncated'``,\n"
    "``'overlap'``).";

// The Python-visible name of each format_errc, for FormatError.reason.
const char* reason_name(int code) {
  switch (static_cast<format_errc>(code)) {
    case format_errc::bad_magic: return "bad_magic";
    case format_errc::unsupported_version: return "unsupported_version";
    case format_errc::truncated: return "truncated";
    case format_errc::header_too_large: return "header_too_large";
    case format_errc::bad_syntax: return "bad_syntax";
    case format_errc::bad_keys: return "bad_keys";
    case format_errc::bad_value: return "bad_value";
    case format_errc::bad_dtype: return "bad_dtype";
    case format_errc::object_dtype: return "object_dtype";
    case format_errc::size_overflow: return "size_overflow";
    case format_errc::out_of_bounds: return "out_of_bounds";
    case format_errc::gap: return "gap";
    case format_errc::overlap: return "overlap";
    case format_errc::trailing_bytes: return "trailing_bytes";
    case format_errc::bad_archive: return "bad_archive";
    case format_errc::compressed_member: return "compressed_member";
    case format_errc::encrypted_member: return "encrypted_member";
  }
  return "unknown";
}

// Sets a Python exception of `type` from a UTF-8-ish message; paths in messages may hold
// bytes that are not UTF-8, which are replaced rather than failing to raise.
void set_error(PyObject* type, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, static_cast<Py_ssize_t>(std::strlen(message)),
                                        "replace");
  if (text == nullptr) return;
  PyErr_SetObject(type, text);
  Py_DECREF(text);
}

// OSError(errno, "cannot <operation>: <cause>", filename): calling OSError itself lets
// Python pick FileNotFoundError, PermissionError, IsADirectoryError... from the errno.
// `type` overrides the class (FileTruncatedError).
void set_os_error(const os_error& e, PyObject* type = PyExc_OSError) {
  const std::string text = "cannot " + e.operation() + ": " + e.cause();
  const std::string& path = e.path().native();
  nb::object filename = nb::steal(
      PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size())));
  nb::object strerror = nb::steal(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
  if (!filename.is_valid() || !strerror.is_valid()) return;
  nb::object exc = nb::steal(PyObject_CallFunction(type, "iOO", e.errno_value(),
                                                   strerror.ptr(), filename.ptr()));
  if (!exc.is_valid()) return;
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

// FormatError(message) with .filename and .reason set.
void set_format_error(const format_error& e) {
  nb::object message = nb::steal(PyUnicode_DecodeUTF8(
      e.what(), static_cast<Py_ssize_t>(std::strlen(e.what())), "replace"));
  const std::string& path = e.path().native();
  nb::object filename = nb::steal(
      PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size())));
  if (!message.is_valid() || !filename.is_valid()) return;
  nb::object exc = nb::steal(PyObject_CallOneArg(format_error_type, message.ptr()));
  if (!exc.is_valid()) return;
  if (PyObject_SetAttrString(exc.ptr(), "filename", filename.ptr()) != 0 ||
      PyObject_SetAttrString(exc.ptr(), "reason",
                             nb::str(reason_name(e.code().value())).ptr()) != 0) {
    return;
  }
  PyErr_SetObject(format_error_type, exc.ptr());
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const file_truncated_error& e) {
    set_os_error(e, truncated_error_type);
  } catch (const file_changed_error& e) {
    set_os_error(e, changed_error_type);
  } catch (const os_error& e) {
    set_os_error(e);
  } catch (const format_error& e) {
    set_format_error(e);
  } catch (const layout_error& e) {  // the request does not fit; an index past the end
    set_error(e.code() == errc::index_out_of_range ? PyExc_IndexError : PyExc_ValueError,
              e.what());
  } catch (const error& e) {  // state_error: the object is closed
    set_error(PyExc_ValueError, e.what());
  }
}

}  // namespace

void register_errors(nb::module_& m) {
  format_error_type = PyErr_NewExceptionWithDoc("mmap_array.FormatError", format_error_doc,
                                                PyExc_ValueError, nullptr);
  if (format_error_type == nullptr) throw nb::python_error();
  m.attr("FormatError") = nb::borrow(format_error_type);
  truncated_error_type = PyErr_NewExceptionWithDoc("mmap_array.FileTruncatedError",
                                                   truncated_error_doc, PyExc_OSError, nullptr);
  if (truncated_error_type == nullptr) throw nb::python_error();
  m.attr("FileTruncatedError") = nb::borrow(truncated_error_type);
  changed_error_type = PyErr_NewExceptionWithDoc("mmap_array.FileChangedError",
                                                 changed_error_doc, PyExc_OSError, nullptr);
  if (changed_error_type == nullptr) throw nb::python_error();
  m.attr("FileChangedError") = nb::borrow(changed_error_type);
  nb::register_exception_translator(translate);
}

nb::handle file_truncated_error_type() { return truncated_error_type; }

void raise_truncated(std::string_view operation, nb::handle filename) {
  const std::string text = "cannot " + std::string(operation) +
                           ": pages of the file vanished under the mapping (it shrank, or a sparse page found the disk full); they read as zeros";
  nb::object exc = nb::steal(PyObject_CallFunction(truncated_error_type, "isO", EFAULT,
                                                   text.c_str(), filename.ptr()));
  if (exc.is_valid()) PyErr_SetObject(truncated_error_type, exc.ptr());
  throw nb::python_error();
}

void raise_file_changed(std::string_view operation, nb::handle filename,
                        std::string_view what_changed) {
  // As every OSError of the package: "cannot <operation>: <cause>", the file in `filename`.
  const std::string text = "cannot " + std::string(operation) + ": " + std::string(what_changed);
  nb::object exc = nb::steal(PyObject_CallFunction(changed_error_type, "isO", ESTALE,
                                                   text.c_str(), filename.ptr()));
  if (exc.is_valid()) PyErr_SetObject(changed_error_type, exc.ptr());
  throw nb::python_error();
}

void raise_closed(std::string_view operation, nb::handle filename) {
  const std::string text = "cannot " + std::string(operation) + " %R: the mapping is closed";
  PyErr_Format(PyExc_ValueError, text.c_str(), filename.ptr());
  throw nb::python_error();
}

}  // namespace mmap_array::python
