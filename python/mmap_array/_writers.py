"""Writers: every file the package writes goes through ``_core._AtomicWriter``.

The bytes go to a temporary file beside the target, which is renamed over it
only when complete, so readers and live mappings of the old file never see a
half-written file, and a failure leaves the target as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._core import _AtomicWriter

# Casting buffer for arrays that need a dtype conversion or are not contiguous:
# large enough that the per-write overhead vanishes, small enough not to
# double the memory of a big array.
_CHUNK_BYTES = 16 * 1024 * 1024

_FLOAT64 = np.dtype(np.float64)


def write_binary(filename: str | bytes | os.PathLike[Any], arr: Any) -> None:
    """Write an array to a raw binary file of native float64 values.

    The seed tutorial's file format: the values in C order, 8 bytes each,
    no header. The file is replaced atomically: the data goes to a temporary
    file in the same directory, renamed over ``filename`` only when all of it
    is written, so a failure (full disk, size limit, interrupt) leaves the old
    file intact and no partial file behind. Arrays of any size are written
    completely.

    Parameters
    ----------
    filename : str, bytes or os.PathLike
        The file to create or replace. A symlink is followed, and an existing
        file's permission bits are kept.
    arr : array_like
        The values. Converted to float64 only where NumPy's ``"safe"``
        casting allows (bool, integers, floats up to 64 bits); anything else
        is refused rather than silently changed.

    Raises
    ------
    TypeError
        ``arr`` cannot be cast to float64 safely (complex, strings, objects,
        structured records...).
    OSError
        The file cannot be written (``errno`` and ``filename`` set); the
        target is unchanged.

    See Also
    --------
    MemoryMappedArray : Map such a file back as an array.

    Examples
    --------
    >>> import numpy as np, mmap_array
    >>> mmap_array.write_binary("data.bin", np.arange(3.0))
    >>> mmap_array.MemoryMappedArray("data.bin").get_array()
    array([0., 1., 2.])
    """
    array = np.asarray(arr)
    if not np.can_cast(array.dtype, _FLOAT64, casting="safe"):
        raise TypeError(
            f"cannot write {array.dtype} data to {os.fsdecode(filename)!r} as float64 "
            f"without losing information; convert it explicitly, "
            f"e.g. arr.astype(np.float64)"
        )
    _write_raw(filename, array, _FLOAT64)


def _write_raw(
    filename: str | bytes | os.PathLike[Any],
    array: np.ndarray,
    dtype: np.dtype,
    *,
    fsync: bool = False,
) -> None:
    """Atomically replace ``filename`` with ``array``'s items as ``dtype``, in C order."""
    _write_atomically(filename, [], [(array, dtype, "C")], fsync=fsync)


def _write_atomically(
    filename: str | bytes | os.PathLike[Any],
    prefixes: list[bytes],
    arrays: list[tuple[np.ndarray, np.dtype, str]],
    *,
    fsync: bool = False,
) -> None:
    """Atomically replace ``filename`` with ``prefixes`` then each (array, dtype, order)."""
    total = sum(len(prefix) for prefix in prefixes) + sum(
        array.size * dtype.itemsize for array, dtype, _ in arrays
    )
    with _AtomicWriter(filename, fsync) as writer:
        # Reserving the whole size first makes a full disk fail before a byte is copied,
        # and makes the copy itself faster: ext4 then writes into blocks it already has
        # instead of reserving delayed-allocation space page by page (80 MB: 12 ms instead
        # of 16 ms on the development machine; numpy's tofile does the same).
        writer.preallocate(total)
        for prefix in prefixes:
            writer.write(prefix)
        for array, dtype, order in arrays:
            for block in _blocks(array, dtype, order):
                writer.write(block)
        writer.commit()


def _blocks(array: np.ndarray, dtype: np.dtype, order: str = "C") -> Iterator[np.ndarray]:
    """Yield C-contiguous blocks that concatenate to ``array``'s items as ``dtype`` in ``order``.

    An array already in that form is yielded whole, without a copy (a Fortran-ordered
    one as its transpose, which is C-contiguous over the same bytes); others are cast
    through a bounded buffer, so no second copy of the whole array is made.
    """
    if array.dtype == dtype:
        if order == "C" and array.flags.c_contiguous:
            yield array
            return
        if order == "F" and array.flags.f_contiguous:
            yield array.T
            return
    if array.size == 0:
        return
    iterator = np.nditer(  # type: ignore[call-overload]  # NumPy's stubs lack the "contig" flag
        array,
        flags=["external_loop", "buffered", "zerosize_ok"],
        # "contig" makes the iterator buffer strided data too, not only data it must cast.
        op_flags=[["readonly", "contig"]],
        op_dtypes=[dtype],
        order=order,
        casting="safe",
        buffersize=max(1, _CHUNK_BYTES // max(1, dtype.itemsize)),
    )
    yield from iterator
