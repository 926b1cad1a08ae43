// numpydoc docstrings of the public Python API implemented in C++.
#pragma once

namespace mmap_array::python::doc {

inline constexpr const char* handle_class = R"doc(A file mapped into memory and viewed as a NumPy array, without copying.

Opening is a handful of system calls whatever the file's size: pages are
read from disk only when the array touches them, so files larger than RAM
work. The file descriptor is closed right after mapping.

Arrays from :meth:`get_array`, ``np.asarray(mm)`` and ``memoryview(mm)``
share the mapped memory and keep it alive: :meth:`close` (or leaving a
``with`` block) stops new views from being made, and the range is unmapped
when the last existing array is gone.

Parameters
----------
filename : str, bytes or os.PathLike
    The file to map.
dtype : data-type, default "float64"
    Any fixed-size NumPy dtype without Python objects: numbers, bool,
    complex, datetimes, fixed-width ``S``/``U`` strings, structured records.
    Byte order is kept as given (``">f8"`` stays big-endian). A subarray
    dtype such as ``("f8", (3,))`` adds its dimensions to the shape.
mode : {"r", "r+", "w+", "c"}, default "r"
    NumPy's memmap modes (or their long names "readonly", "readwrite",
    "write", "copyonwrite"). ``"r"``: read-only, arrays are not writeable.
    ``"r+"``: shared read-write; the file must exist. ``"w+"``: create a new
    zero-filled file (``shape`` required), preallocated so that a full disk
    raises ``OSError(ENOSPC)`` now rather than crashing later; it replaces an
    existing file atomically, so mappings of the old file keep their data.
    ``"c"``: copy-on-write; writes stay in this process, the file never
    changes.
shape : int or tuple of int, optional
    The array's shape. ``None`` means 1-D over every byte after ``offset``
    (which must be a whole number of items). An explicit shape must cover the
    bytes after ``offset`` exactly.
offset : int, default 0
    Byte offset of the first item in the file; any value, not only multiples
    of the page size.
order : {"C", "F"}, default "C"
    Row-major or column-major layout of the file's items.

Raises
------
FileNotFoundError, PermissionError, IsADirectoryError, OSError
    The file cannot be opened or mapped; ``errno`` and ``filename`` are set.
    A FIFO, socket or device raises ``OSError`` with ``errno.ENODEV``.
ValueError
    A bad mode, order, shape or offset, or a file whose size does not fit the
    dtype and shape; the message names the file and the numbers.
TypeError
    A dtype that holds Python objects or has no fixed size.

See Also
--------
write_binary : Write a float64 array to a raw file, atomically.

Examples
--------
>>> import numpy as np, mmap_array
>>> mmap_array.write_binary("data.bin", np.arange(4.0))
>>> mm = mmap_array.MemoryMappedArray("data.bin")
>>> mm.get_array()
array([0., 1., 2., 3.])
>>> mm.size(), mm.dtype, mm.shape
(4, dtype('float64'), (4,))
)doc";

inline constexpr const char* handle_init = "Map ``filename``; see the class docstring.";

inline constexpr const char* get_array = R"doc(Return the mapped data as a NumPy array, without copying.

Returns
-------
numpy.ndarray
    A view of the mapping with the handle's dtype, shape and order. It is
    read-only for mode ``"r"``. It keeps the mapping alive, even after
    :meth:`close`.

Raises
------
ValueError
    The handle is closed.

Examples
--------
>>> arr = mm.get_array()
>>> arr.flags.writeable
False
)doc";

inline constexpr const char* size = R"doc(Return the number of elements of the array.

Returns
-------
int
    The product of :attr:`shape` (for the seed's float64 files, the file size
    divided by 8).

Raises
------
ValueError
    The handle is closed.

Examples
--------
>>> mm.size()
4
)doc";

inline constexpr const char* flush = R"doc(Write changes of a ``"r+"`` or ``"w+"`` mapping to disk.

Runs msync over the mapping, then fsync of the file (and, for a file made by
``"w+"``, of its directory), with the GIL released. Nothing to do for modes
``"r"`` and ``"c"``.

Raises
------
OSError
    The operating system reported a write error (EIO, ENOSPC...). The error
    is reported, never retried into a false success.
ValueError
    The handle is closed.

Examples
--------
>>> mm = mmap_array.MemoryMappedArray("data.bin", mode="r+")
>>> mm.get_array()[0] = 42.0
>>> mm.flush()
)doc";

inline constexpr const char* close = R"doc(Close the handle; arrays already handed out stay valid.

New views are refused afterwards (:meth:`get_array`, :meth:`flush`,
:meth:`size` and the buffer protocol raise ``ValueError``); properties still
answer. The memory is unmapped when the last array of the mapping is gone.
Closing twice is allowed.

Examples
--------
>>> with mmap_array.MemoryMappedArray("data.bin") as mm:
...     arr = mm.get_array()
>>> mm.closed, float(arr[1])
(True, 1.0)
)doc";

inline constexpr const char* array_protocol = R"doc(NumPy's ``__array__`` protocol: ``np.asarray(mm)`` without a copy.

Parameters
----------
dtype : data-type, optional
    Convert to this dtype (a copy unless it is the handle's dtype).
copy : bool, optional
    ``True`` always copies; ``False`` raises ``ValueError`` if a copy would
    be needed; ``None`` copies only when needed.

Returns
-------
numpy.ndarray
)doc";

inline constexpr const char* container_class = R"doc(Named arrays of one file, mapped once and handed out without copying.

Returned by :func:`mmap_array.open_safetensors` and :func:`mmap_array.open_npz`.
It reads like a dict of NumPy arrays: ``keys()``, ``c[name]``, ``in``,
``len()``, iteration, ``get()``, ``values()``, ``items()``. Every array is a
view of the one mapping and keeps it alive: :meth:`close` (or leaving a
``with`` block) refuses new arrays, and the memory is unmapped when the last
array handed out is gone.

Arrays are read-only for mode ``"r"``, writable copy-on-write for ``"c"``
(the file never changes) and shared read-write for ``"r+"``.

Attributes
----------
filename : str
    Absolute path of the file.
format : {"safetensors", "npz"}
mode : {"r", "r+", "c"}
closed : bool
metadata : dict of str to str
    safetensors' ``__metadata__`` (empty for .npz), a new dict each time.

Examples
--------
>>> with mmap_array.open_safetensors("model.safetensors") as weights:
...     embedding = weights["embed.weight"]
...     print(weights.metadata.get("format"))
pt
)doc";

inline constexpr const char* container_getitem = R"doc(Return the array named ``name``, without copying.

Parameters
----------
name : str

Returns
-------
numpy.ndarray

Raises
------
KeyError
    No array has that name.
FormatError
    The array cannot be mapped (a compressed .npz member).
ValueError
    The container is closed.

Examples
--------
>>> weights = mmap_array.open_safetensors("model.safetensors")
>>> weights["embed.weight"].shape
(32000, 4096)
)doc";

inline constexpr const char* container_get =
    "Return the array named ``name``, or ``default`` if there is none.";
inline constexpr const char* container_keys = "The arrays' names, in the file's order (list).";
inline constexpr const char* container_values = "Every array, in the file's order (list).";
inline constexpr const char* container_items = "(name, array) pairs, in the file's order (list).";
inline constexpr const char* container_info = R"doc(Describe every array without mapping any.

Returns
-------
list of dict
    One dict per array with ``name``, ``dtype`` (the NumPy dtype it maps
    to), ``shape``, ``offset`` (byte offset in the file), ``nbytes`` and
    ``file_dtype`` (the file's own name for the type, e.g. ``"BF16"``).
    For a compressed .npz member, which cannot be mapped, every field but
    the name is None.
)doc";
inline constexpr const char* container_flush = R"doc(Write changes made through an ``"r+"`` container to disk.

Runs msync over the file's mapping, then fsync of the file, with the GIL
released. Nothing to do for modes ``"r"`` and ``"c"``.

Raises
------
OSError
    The operating system reported a write error (EIO, ENOSPC...); it is
    reported, never retried into a false success.
FileTruncatedError
    The file shrank under the mapping: writes to the lost pages are gone.
ValueError
    The container is closed.

Examples
--------
>>> weights = mmap_array.open_safetensors("model.safetensors", mode="r+")
>>> weights["bias"][:] = 0.0
>>> weights.flush()
)doc";
inline constexpr const char* container_close =
    "Refuse new arrays; those handed out stay valid until they are gone.";
inline constexpr const char* container_metadata =
    "The file's metadata (safetensors' ``__metadata__``), as a new dict of str to str.";

inline constexpr const char* filename = "Absolute path of the mapped file (str).";
inline constexpr const char* dtype = "The array's element dtype (numpy.dtype).";
inline constexpr const char* shape = "The array's shape (tuple of int).";
inline constexpr const char* ndim = "Number of dimensions (int).";
inline constexpr const char* mode = "The mapping mode: 'r', 'r+', 'w+' or 'c'.";
inline constexpr const char* format = "The file's format: 'raw' (headerless) or 'npy'.";
inline constexpr const char* order = "Layout of the items in the file: 'C' or 'F'.";
inline constexpr const char* offset = "Byte offset of the array in the file (int).";
inline constexpr const char* nbytes = "Bytes of the file the array covers (int).";
inline constexpr const char* closed = "True once close() was called (bool).";

}  // namespace mmap_array::python::doc
