// numpydoc docstrings of MemoryMappedArray.resize and .append.
#pragma once

namespace mmap_array::python::doc {

inline constexpr const char* resize = R"doc(Grow or shrink the file to ``new_length`` rows, in place.

The growing axis is the first (``len(mm)``) for C order, and the last for
Fortran order: the one whose entries are contiguous at the end of the data
(the axis NumPy's ``.npy`` format reserves header room for). Works on
``"r+"`` (and ``"w+"``) handles of raw and ``.npy`` files.

Growing preallocates the new bytes (``posix_fallocate``), so a full disk is
``OSError(ENOSPC)`` here, with the file as it was, never a bus error later;
new rows read as zeros. The handle then maps the new extent, and
:attr:`shape`, ``len(mm)``, :meth:`size`, :attr:`nbytes`, :attr:`identity`,
pickles, :meth:`to_dask` and ``__array_interface__`` follow. Arrays taken
before stay valid views of the old extent: they keep their own mapping of
the same file, share its page cache, and see (and make) the same writes.

Shrinking is refused with ``BufferError`` while any array, view, memoryview
or DLPack tensor of an extent that would be cut off is alive, because its
pages would vanish under it; nothing is changed then. Other handles and
other processes mapping the cut-off tail are not known: they see
:class:`FileTruncatedError` (this process) or ``SIGBUS`` (others), as for
any truncation.

For an ``.npy`` file the data grows first and the header is rewritten last
(shrinking: the header first, the data cut after), so after a crash at any
point the header describes bytes the file holds, and any extra bytes after
the array are ignored by :func:`mmap_array.open` and ``np.load``. The
header is rewritten in place when the new shape fits in its padding (files
from ``np.save`` and this package reserve room for 21 digits); otherwise
the whole file is rewritten to a temporary beside it and renamed over it (a
new inode), which is refused with ``BufferError`` while arrays of the old
file are alive, since they would silently stop being views of the file.

Neither call fsyncs: :meth:`flush` makes data, length and header durable.

Parameters
----------
new_length : int
    The new number of entries along the growing axis, at least 0.

Raises
------
BufferError
    Shrinking (or rewriting an ``.npy`` file without header room) while
    arrays of the affected extent are alive; the message says how many.
ValueError
    The handle is closed, mapped ``"r"`` or ``"c"``, or 0-d; ``new_length``
    is negative or makes an array NumPy cannot hold.
TypeError
    ``new_length`` is not an integer.
FileChangedError
    The file was replaced, deleted, resized or had its ``.npy`` header
    rewritten since this handle mapped it; nothing is changed.
FileTruncatedError
    The file shrank under the mapping.
OSError
    The operating system refused (``ENOSPC`` for a full disk); the file's
    length and header are as they were.
RuntimeError
    Another thread is resizing this handle (growth runs with the GIL
    released; other threads meanwhile see the old extent).

See Also
--------
append : Grow by the given rows.
flush : Make the change durable.

Examples
--------
>>> mm = mmap_array.create("log.npy", (0, 3), "f4")
>>> mm.resize(1000)
>>> mm.shape
(1000, 3)
>>> np.load("log.npy").shape
(1000, 3)
)doc";

inline constexpr const char* append = R"doc(Append rows to the file: one grow and one copy.

The rows go after the last one along the growing axis (the first for C
order, the last for Fortran order), as if by ``resize(len + k)`` and an
assignment, but the bytes are written before the ``.npy`` header is
updated. See :meth:`resize` for what happens to the file, the handle and
arrays taken before (they stay valid).

Parameters
----------
rows : array_like
    ``k`` rows: an array of the handle's shape with any length ``k`` along
    the growing axis, e.g. ``(k, 3)`` for a ``(n, 3)`` file (for one row,
    ``row[np.newaxis]``). Its dtype must cast to the handle's without losing
    information (NumPy's ``"safe"`` casting: ``int32`` to ``float64`` yes,
    ``float64`` to ``float32`` no). ``k == 0`` changes nothing.

Raises
------
ValueError
    ``rows`` has the wrong shape (the message names the file and both
    shapes); the handle is closed, mapped ``"r"`` or ``"c"``, or 0-d.
TypeError
    ``rows``' dtype cannot be cast safely to the handle's.
BufferError, FileChangedError, FileTruncatedError, OSError, RuntimeError
    As for :meth:`resize`; nothing is appended then.

Examples
--------
>>> mm = mmap_array.create("log.npy", (0, 3), "f8")
>>> mm.append(np.ones((2, 3)))
>>> mm.append([[7.0, 8.0, 9.0]])
>>> np.load("log.npy")
array([[1., 1., 1.],
       [1., 1., 1.],
       [7., 8., 9.]])
)doc";

}  // namespace mmap_array::python::doc
