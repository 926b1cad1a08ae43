"""One entry point for .npy and raw files: ``open``, ``create`` and ``save``.

The file formats themselves (parsing, validation, writing headers) live in the
C++ core; this module chooses between them and checks the caller's arguments.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._core import (
    MappedArrays,
    MemoryMappedArray,
    _create_npy,
    _create_raw,
    _npy_header,
    _open_npy,
    _open_npy_or_raw,
    _open_npz,
)
from ._writers import _write_atomically

PathLike = str | bytes | os.PathLike

_FORMATS = ("auto", "npy", "raw")


def _check_format(format: str, allowed: tuple[str, ...]) -> None:
    if format not in allowed:
        others = " (use open_safetensors or open_npz)" if format in ("safetensors", "npz") else ""
        raise ValueError(f"format must be one of {', '.join(map(repr, allowed))}, not {format!r}{others}")


def _is_npy_path(path: PathLike) -> bool:
    return os.fsdecode(os.fspath(path)).endswith(".npy")


def open(
    path: PathLike,
    mode: str = "r",
    *,
    dtype: Any = None,
    shape: Any = None,
    offset: int = 0,
    order: str | None = None,
    format: str = "auto",
    max_header_size: int = 10_000,
) -> MemoryMappedArray:
    """Map an .npy or raw file as a :class:`MemoryMappedArray`, without copying.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file.
    mode : {"r", "r+", "w+", "c"}, default "r"
        As for :class:`MemoryMappedArray`. ``"w+"`` creates a new file: an .npy
        file if ``format="npy"`` (or ``format="auto"`` and the name ends in
        ``.npy``), else a raw one; it needs ``dtype`` and ``shape``.
    dtype : data-type, optional
        Required for raw files; an .npy file's header gives its own, so it
        must not be passed for one.
    shape, offset, order
        For raw files, as for :class:`MemoryMappedArray` (``order`` defaults
        to ``"C"``); not allowed for .npy files.
    format : {"auto", "npy", "raw"}, default "auto"
        ``"auto"`` recognises .npy files by their magic bytes and treats any
        other file as raw (which then needs ``dtype``). ``"raw"`` skips the
        check (one system call less).
    max_header_size : int, default 10000
        Largest .npy header accepted, in bytes (NumPy's own cap).

    Returns
    -------
    MemoryMappedArray
        With ``format`` ``"npy"`` or ``"raw"``.

    Raises
    ------
    FormatError
        The .npy file is malformed (a ``ValueError``).
    ValueError
        A raw file without ``dtype``; ``dtype``/``shape``/``offset``/``order``
        given for an .npy file; a bad mode, format or layout.
    OSError
        The file cannot be opened or mapped.

    Examples
    --------
    >>> np.save("weights.npy", np.eye(3))
    >>> mm = mmap_array.open("weights.npy")
    >>> mm.format, mm.shape
    ('npy', (3, 3))
    """
    if format != "auto":  # the usual call checks nothing more
        _check_format(format, _FORMATS)
    if mode in ("w+", "write"):
        if dtype is None or shape is None:
            raise ValueError("mode 'w+' creates a new file and needs dtype and shape")
        if format == "npy" or (format == "auto" and _is_npy_path(path)):
            _refuse_layout_for_npy(path, None, None, offset, order)
            return _create_npy(path, _object_free_dtype(dtype), shape, False, "w+")
        return MemoryMappedArray(path, dtype, mode, shape, offset, order or "C")
    if format == "raw":
        return _open_raw(path, mode, dtype, shape, offset, order)
    if format == "npy":
        _refuse_layout_for_npy(path, dtype, shape, offset, order)
        return _open_npy(path, mode, max_header_size)
    # One open tells them apart: .npy if the file starts with the whole magic (as
    # _detect_format says), raw otherwise.
    handle = _open_npy_or_raw(path, mode, dtype, shape, offset, order or "C", max_header_size)
    # Layout arguments are for raw files; the usual .npy open passes none and checks nothing.
    if (dtype is not None or shape is not None or order is not None or offset != 0) and handle.format == "npy":
        _refuse_layout_for_npy(path, dtype, shape, offset, order)
    return handle


def _open_raw(path: PathLike, mode: str, dtype: Any, shape: Any, offset: int, order: str | None) -> MemoryMappedArray:
    if dtype is None:
        raise ValueError(
            f"{os.fsdecode(os.fspath(path))!r} is mapped as a raw file (it has no .npy header), "
            f"which needs dtype, e.g. dtype='float64'"
        )
    return MemoryMappedArray(path, dtype, mode, shape, offset, order or "C")


def _refuse_layout_for_npy(path: PathLike, dtype: Any, shape: Any, offset: int, order: str | None) -> None:
    if dtype is None and shape is None and order is None and offset == 0:
        return  # the common call, on every open of an .npy file: nothing to build
    given = [name for name, value in (("dtype", dtype), ("shape", shape), ("order", order)) if value is not None]
    if offset != 0:
        given.append("offset")
    if given:
        raise ValueError(
            f"{os.fsdecode(os.fspath(path))!r}: an .npy file's header gives its layout; "
            f"{', '.join(given)} must not be passed (use format='raw' to map its bytes)"
        )


# Below this a file's whole writeback takes a few milliseconds: a thread would not pay.
_WRITE_BEHIND_MIN_BYTES = 16 << 20


def _object_free_dtype(dtype: Any) -> np.dtype:
    resolved = np.dtype(dtype)
    if resolved.hasobject:
        raise TypeError(f"dtype {resolved} holds Python objects, which cannot live in a mapped file")
    if resolved.itemsize == 0:
        raise TypeError(f"dtype {resolved} has no fixed size; give a length, e.g. 'S16' or 'U8'")
    return resolved


def create(
    path: PathLike,
    shape: Any,
    dtype: Any = "float64",
    *,
    format: str = "npy",
    fill: Any = None,
    write_behind: bool = True,
) -> MemoryMappedArray:
    """Create a new file for an array and map it read-write (mode ``"r+"``).

    Like ``np.lib.format.open_memmap(path, mode="w+")``: the file is
    zero-filled and preallocated, so a full disk raises ``OSError(ENOSPC)``
    here rather than crashing later, and it replaces an existing file
    atomically (mappings of the old file keep their bytes). A file of 2 MiB
    or more is advised ``"hugepage"``, so filling it from start to end takes
    a page fault per 2 MiB where the filesystem has large folios; before
    writing it sparsely, call ``advise("nohugepage")`` (see
    :meth:`MemoryMappedArray.advise`).

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file to create or replace.
    shape : int or tuple of int
        The array's shape.
    dtype : data-type, default "float64"
        Any fixed-size dtype without Python objects.
    format : {"npy", "raw"}, default "npy"
        An .npy file (header, then data aligned to 64 bytes, with room in the
        header for the first axis to grow) or a raw one.
    fill : scalar or array_like, optional
        Written into every element (which touches every page); by default the
        array is all zeros.
    write_behind : bool, default True
        For a file of 16 MiB or more, a background thread sends the pages to
        the disk in 8 MiB batches while you fill the array, so ``flush()`` has
        little left to write (create 80 MB, fill and flush: 34-36 ms instead
        of 44 ms). It holds a descriptor, ends at ``flush()``, when the
        mapping goes, at exit, or once nothing was written for 50 ms (5 s
        before the first write), and runs only on
        Linux 6.5 or later (``cachestat``). A page still being written when
        its batch leaves is written again later; turn it off for a file you
        will rewrite at random many times before flushing.

    Returns
    -------
    MemoryMappedArray
        Mapped ``"r+"``; call ``flush()`` to make writes durable.

    Raises
    ------
    OSError
        The file cannot be created (``ENOSPC`` on a full disk).
    TypeError
        A dtype holding Python objects or without a fixed size.
    ValueError
        A bad shape or format.

    Examples
    --------
    >>> mm = mmap_array.create("grid.npy", (1000, 3), "float32")
    >>> mm.get_array()[0] = [1, 2, 3]
    >>> mm.flush()
    >>> np.load("grid.npy")[0]
    array([1., 2., 3.], dtype=float32)
    """
    _check_format(format, ("npy", "raw"))
    resolved = _object_free_dtype(dtype)
    if format == "npy":
        handle = _create_npy(path, resolved, shape, False, "r+")
    else:
        handle = _create_raw(path, resolved, shape)
    if write_behind and handle.nbytes >= _WRITE_BEHIND_MIN_BYTES:
        handle._write_behind()
    if fill is not None:
        handle.get_array()[...] = fill
    return handle


def save(path: PathLike, arr: Any, *, format: str = "npy", fsync: bool = False) -> None:
    """Write an array to a file atomically.

    The bytes go to a temporary file in the same directory, which replaces
    ``path`` only once complete: readers, and mappings of the old file, see
    the whole old file or the whole new one, and a failure leaves ``path``
    untouched.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file to create or replace (a symlink is followed).
    arr : array_like
        Any array without Python objects, any size, C- or Fortran-ordered.
    format : {"npy", "raw"}, default "npy"
        ``"npy"`` writes a header NumPy reads (``np.load``), keeping Fortran
        order as Fortran order; ``"raw"`` writes just the items in C order,
        like ``ndarray.tofile``.
    fsync : bool, default False
        Also sync the file and its directory, so the new contents survive a
        power loss, not only a crash of the process.

    Raises
    ------
    TypeError
        ``arr`` holds Python objects.
    OSError
        The file cannot be written; ``path`` is unchanged.

    Examples
    --------
    >>> mmap_array.save("x.npy", np.arange(5))
    >>> np.load("x.npy")
    array([0, 1, 2, 3, 4])
    """
    _check_format(format, ("npy", "raw"))
    array = np.asarray(arr)
    _object_free_dtype(array.dtype)
    if format == "raw":
        _write_atomically(path, [], [(array, array.dtype, "C")], fsync=fsync)
        return
    fortran = bool(array.flags.f_contiguous and not array.flags.c_contiguous)
    header = _npy_header(array.dtype, array.shape, fortran)
    _write_atomically(path, [header], [(array, array.dtype, "F" if fortran else "C")], fsync=fsync)


def open_npz(path: PathLike, mode: str = "r", *, max_header_size: int = 10_000) -> MappedArrays:
    """Map the arrays of an .npz archive (``np.savez``) without copying any.

    ``np.load(path, mmap_mode="r")`` ignores ``mmap_mode`` for .npz files and
    reads every array into memory; here each stored member is mapped in
    place, at its offset inside the zip file. Archives beyond 4 GiB (ZIP64)
    work. The members' CRC-32 checksums are not verified (that would read
    every byte).

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The archive.
    mode : {"r", "c", "r+"}, default "r"
        As for :func:`open_safetensors`.
    max_header_size : int, default 10000
        Largest .npy header accepted per member, in bytes.

    Returns
    -------
    MappedArrays
        Named like ``np.load(path).files``: member names without ``.npy``.

    Raises
    ------
    FormatError
        A malformed archive or member header; asking for a compressed member
        (``np.savez_compressed``), which cannot be mapped.
    OSError
        The file cannot be opened or mapped.

    Examples
    --------
    >>> np.savez("bundle.npz", x=np.arange(3), y=np.eye(2))
    >>> with mmap_array.open_npz("bundle.npz") as bundle:
    ...     print(sorted(bundle.keys()), bundle["x"])
    ['x', 'y'] [0 1 2]
    """
    return _open_npz(path, mode, max_header_size)
