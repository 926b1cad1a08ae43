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

inline constexpr const char* handle_len = R"doc(The length of the first dimension, as ``len(ndarray)``.

Answers after :meth:`close`, as :attr:`shape` does.

Returns
-------
int

Raises
------
TypeError
    The array has no dimensions (shape ``()``).

Examples
--------
>>> len(mmap_array.create("m.npy", (5, 3)))
5
)doc";

inline constexpr const char* handle_iter = R"doc(Iterate over the first dimension, as ``iter(ndarray)``.

Returns
-------
iterator
    Of views (rows) for arrays of two or more dimensions, of NumPy scalars
    for 1-D arrays.

Raises
------
ValueError
    The handle is closed.
TypeError
    The array has no dimensions.

Examples
--------
>>> [float(x) for x in mmap_array.MemoryMappedArray("data.bin")]
[0.0, 1.0, 2.0, 3.0]
)doc";

inline constexpr const char* handle_getitem = R"doc(Index the mapped array as NumPy would: ``mm[key]``.

Parameters
----------
key : int, slice, Ellipsis, None, array_like or tuple of these
    Any NumPy index.

Returns
-------
numpy.ndarray or NumPy scalar
    For basic indices (integers, slices, ``...``, ``None``) a view of the
    mapping, without copying, that keeps the mapping alive even after
    :meth:`close` (a scalar when every dimension is indexed by an integer);
    for advanced indices (integer arrays, boolean masks) a copy. Views are
    read-only for mode ``"r"``.

Raises
------
ValueError
    The handle is closed.
IndexError
    The index is out of bounds or invalid, as NumPy reports it.

Examples
--------
>>> mm = mmap_array.MemoryMappedArray("data.bin")
>>> mm[1:3]
array([1., 2.])
>>> np.shares_memory(mm[1:3], mm.get_array())
True
>>> mm[[0, 3]]          # a copy, as in NumPy
array([0., 3.])
)doc";

inline constexpr const char* handle_setitem = R"doc(Assign into the mapped array as NumPy would: ``mm[key] = value``.

For mode ``"r+"`` (and ``"w+"``) the values reach the file (durably after
:meth:`flush`); for ``"c"`` they stay in this process.

Parameters
----------
key : int, slice, Ellipsis, None, array_like or tuple of these
    Any NumPy index.
value : array_like
    Broadcast to the indexed shape and cast to the dtype as NumPy does.

Raises
------
ValueError
    The handle is closed, or mapped read-only (mode ``"r"``); or NumPy
    cannot broadcast or cast the value.
IndexError
    The index is out of bounds or invalid.

Examples
--------
>>> mm = mmap_array.MemoryMappedArray("data.bin", mode="r+")
>>> mm[0] = 42.0
>>> mm.flush()
)doc";

inline constexpr const char* array_interface = R"doc(NumPy's array interface (version 3), for consumers that use it.

The ``"data"`` entry is a flat ``uint8`` array over the mapped bytes rather
than a bare address: an array built from the interface takes it as its
base, so it keeps the mapping alive even after :meth:`close`. For a
read-only mapping that buffer is read-only, and so is the consumer's array.

Returns
-------
dict
    ``version``, ``shape``, ``typestr``, ``descr``, ``strides`` and
    ``data``, as NumPy describes the array of :meth:`get_array`.

Raises
------
ValueError
    The handle is closed.
AttributeError
    The dtype is structured with padding between fields or fields out of
    offset order, which NumPy cannot read back from the interface's
    ``descr`` as the same dtype; NumPy then uses the buffer protocol or
    ``__array__`` instead, and ``np.asarray(mm)`` stays exact.

Examples
--------
>>> mm.__array_interface__["typestr"]
'<f8'
)doc";

inline constexpr const char* dlpack = R"doc(Export the mapped array through DLPack, without copying.

Delegated to NumPy's ``ndarray.__dlpack__`` on an exported array: the
capsule holds that array, which holds the mapping, so a tensor made from it
(``torch.from_dlpack(mm)``) stays valid after :meth:`close`. Writes through
a tensor of an ``"r+"`` mapping reach the file (durably after
:meth:`flush`). A read-only mapping is exported with DLPack 1.0's read-only
flag to consumers that accept versioned capsules.

Parameters
----------
stream : None
    CPU memory has no stream; anything else is refused by NumPy.
max_version : tuple of (int, int), optional
    The newest DLPack version the consumer understands; ``None`` means an
    old consumer, which gets an unversioned (pre-1.0) capsule.
dl_device : tuple of (int, int), optional
    Must be the CPU, ``(1, 0)``, if given.
copy : bool, optional
    ``True`` exports a copy; ``False`` and ``None`` never copy.

Returns
-------
PyCapsule
    A ``"dltensor_versioned"`` capsule if ``max_version >= (1, 0)``, else a
    ``"dltensor"`` one.

Raises
------
ValueError
    The handle is closed.
BufferError
    The mapping is read-only and the consumer asked for an unversioned
    capsule without ``copy=True`` (the message says to open the file with
    mode ``"c"`` or ``"r+"``, or to copy); or NumPy cannot export the dtype
    (structured, strings, big-endian...). The message names the file.
TypeError
    ``max_version`` is not None or a pair of ints.

Examples
--------
>>> import torch
>>> mm = mmap_array.open("weights.npy", mode="r+")
>>> t = torch.from_dlpack(mm)
>>> t[0, 0] = 7.0
>>> mm.flush()                       # the 7.0 is in the file
)doc";

inline constexpr const char* dlpack_device = R"doc(The DLPack device of the mapped memory: the CPU.

Returns
-------
tuple of (int, int)
    ``(1, 0)``: ``kDLCPU``, device 0.

Raises
------
ValueError
    The handle is closed.

Examples
--------
>>> mm.__dlpack_device__()
(1, 0)
)doc";

inline constexpr const char* dask_tokenize = R"doc(A deterministic token for Dask: equal for handles of the same data.

Handles of the same file in the same state (path, format, dtype, shape,
offset, order, mode and :attr:`identity`) get the same token, so Dask gives
their arrays the same names. A copy-on-write handle may hold private changes,
so its token is its own.

Returns
-------
tuple

Examples
--------
>>> from dask.base import tokenize
>>> tokenize(mmap_array.open("weights.npy")) == tokenize(mmap_array.open("weights.npy"))
True
)doc";

inline constexpr const char* to_dask = R"doc(A Dask array of the mapped file whose tasks carry this handle by reference.

Each task holds the handle itself, which pickles to a few hundred bytes (see
:meth:`__reduce__`): on a distributed cluster every worker maps the file
itself and slices its chunks out of the mapping; no chunk's bytes are sent
from the client or the scheduler. With the local schedulers the chunks are
views of this mapping. Needs Dask (``pip install 'dask[array]'``).

Parameters
----------
chunks : int, tuple, dict or "auto", default "auto"
    As for ``dask.array.from_array``; ``"auto"`` picks chunks of about
    Dask's ``array.chunk-size`` (128 MiB by default).
name : str, optional
    The name (key prefix) of the array; by default derived from
    :meth:`__dask_tokenize__`.

Returns
-------
dask.array.Array

Raises
------
ValueError
    The handle is closed.
ImportError
    Dask is not installed.
TypeError
    (When a distributed scheduler pickles the tasks.) The handle is
    copy-on-write, which cannot be shared with other processes.

Examples
--------
>>> mm = mmap_array.open("big.npy")
>>> x = mm.to_dask(chunks=1_000_000)
>>> float(x.mean().compute()) == float(mm.get_array().mean())
True
)doc";

}  // namespace mmap_array::python::doc
