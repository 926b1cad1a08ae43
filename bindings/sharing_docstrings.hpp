// numpydoc docstrings of the sharing protocols (sharing.hpp).
#pragma once

namespace mmap_array::python::doc {

inline constexpr const char* identity = R"doc(The mapped file's identity when it was mapped (:class:`FileIdentity`).

``(device, inode, size, mtime_ns)`` as fstat(2) reported them. A pickle
carries it, and unpickling compares it with the file it finds (see
:meth:`__reduce__`). Still answers after :meth:`close`.

Examples
--------
>>> mm.identity.size == os.path.getsize(mm.filename)
True
)doc";

inline constexpr const char* handle_reduce = R"doc(Pickle by reference: the path, layout and mode, never the data.

The pickle holds the absolute path, the format, dtype, shape, offset, order,
mode and :attr:`identity` of the file: a few hundred bytes for a file of any
size. Unpickling (in this or another process, e.g. a ``multiprocessing`` or
Dask worker) maps the same file again; a ``"w+"`` handle comes back as
``"r+"`` (the file exists now; creating it again would wipe it). Writes
through ``"r+"`` handles in any process reach the same file.

Returns
-------
tuple
    ``(mmap_array._sharing._reopen_array, arguments)``, as ``pickle`` expects.

Raises
------
ValueError
    The handle is closed.
TypeError
    The handle is copy-on-write (mode ``"c"``): its changes exist only in
    this process's memory, so no other process could see them.
FileChangedError
    On unpickling: the file was replaced, resized, or (for mode ``"r"``)
    modified since it was mapped. An ``OSError`` naming the file and what
    changed.

Examples
--------
>>> import pickle
>>> mm = mmap_array.open("weights.npy")
>>> len(pickle.dumps(mm)) < 1024
True
>>> clone = pickle.loads(pickle.dumps(mm))
>>> np.array_equal(clone.get_array(), mm.get_array())
True
)doc";

inline constexpr const char* container_reduce = R"doc(Pickle by reference: the path, format and mode, never the data.

Unpickling maps the same file again and checks its identity as
:meth:`MemoryMappedArray.__reduce__` does.

Returns
-------
tuple
    ``(mmap_array._sharing._reopen_arrays, arguments)``, as ``pickle`` expects.

Raises
------
ValueError
    The container is closed.
TypeError
    The container is copy-on-write (mode ``"c"``).
FileChangedError
    On unpickling: the file was replaced, resized or (mode ``"r"``) modified.

Examples
--------
>>> weights = mmap_array.open_safetensors("model.safetensors")
>>> pickle.loads(pickle.dumps(weights)).keys() == weights.keys()
True
)doc";

}  // namespace mmap_array::python::doc
