"""Unpickling handles and containers, which pickle by reference.

A pickled ``MemoryMappedArray`` or ``MappedArrays`` holds the path, the
format, the layout, the mode and the identity of the file as it was mapped
(device, inode, size, modification time), never the data: it is a few hundred
bytes for a file of any size. Unpickling maps the file again, here, through the
public open functions, and refuses with :class:`FileChangedError` a file that
is not the one that was mapped, or no longer as it was, rather than hand out
other data under the same name.

What is compared: device, inode and size always, the modification time too
for read-only (``"r"``) pickles. For ``"r+"`` it is not: writing through a
shared mapping is what ``"r+"`` is shared for, and every such write, in any
process, moves the file's modification time.
"""

from __future__ import annotations

import datetime
import errno
from typing import Any

from ._core import FileChangedError, FileIdentity, MappedArrays, MemoryMappedArray, _file_identity, _open_npy
from ._formats import open_npz
from ._safetensors import open_safetensors


def _format_ns(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return f"{stamp:%Y-%m-%d %H:%M:%S}.{fraction:09d} UTC"


def _differences(pickled: FileIdentity, now: FileIdentity, compare_mtime: bool) -> list[str]:
    changes = []
    if (pickled.device, pickled.inode) != (now.device, now.inode):
        changes.append(
            f"the path now names another file (device {pickled.device}, inode {pickled.inode} "
            f"-> device {now.device}, inode {now.inode}): it was replaced"
        )
    if pickled.size != now.size:
        changes.append(f"its size changed from {pickled.size} to {now.size} bytes")
    if compare_mtime and pickled.mtime_ns != now.mtime_ns:
        changes.append(
            f"it was modified ({_format_ns(pickled.mtime_ns)} -> {_format_ns(now.mtime_ns)})"
        )
    return changes


def _check_identity(filename: str, identity: tuple[int, int, int, int], now: FileIdentity, mode: str) -> None:
    """Raise FileChangedError unless ``now`` is the file ``identity`` describes."""
    changes = _differences(FileIdentity(identity), now, compare_mtime=mode == "r")
    if changes:
        # As every OSError of the package: the message, then the file (OSError appends it).
        raise FileChangedError(
            errno.ESTALE,
            f"cannot unpickle the mapping: the file changed since it was mapped: {'; '.join(changes)}",
            filename,
        )


def _check_mapped_identity(mapping: MemoryMappedArray | MappedArrays, identity: tuple, mode: str) -> None:
    try:
        _check_identity(mapping.filename, identity, mapping.identity, mode)
    except FileChangedError:
        mapping.close()  # not left for the garbage collector: its memory is the wrong file's
        raise


def _reopen_array(
    filename: str,
    format: str,
    dtype: Any,
    shape: tuple[int, ...],
    offset: int,
    order: str,
    mode: str,
    identity: tuple[int, int, int, int],
) -> MemoryMappedArray:
    """Unpickle a MemoryMappedArray: map ``filename`` again as it was mapped."""
    # Checked before mapping as well as after: a file that changed size would otherwise fail
    # as a layout error about the shape, not as the changed file it is.
    _check_identity(filename, identity, _file_identity(filename), mode)
    if format == "npy":
        # The header ends where the data begins, so ``offset`` bytes always hold it.
        handle = _open_npy(filename, mode, max(offset, 10_000))
    elif format == "raw":
        handle = MemoryMappedArray(filename, dtype, mode, shape, offset, order)
    else:
        raise ValueError(f"cannot unpickle the mapping of {filename!r}: unknown format {format!r}")
    # The identity fstat gave when this mapping was made: what is mapped is that file.
    _check_mapped_identity(handle, identity, mode)
    if format == "npy":
        _check_npy_layout(handle, dtype, shape, offset, order)
    return handle


def _check_npy_layout(handle: MemoryMappedArray, dtype: Any, shape: tuple, offset: int, order: str) -> None:
    # With the identity unchanged this holds; an "r+" pickle does not compare modification
    # times, though, and the header is part of the file.
    was = (dtype, tuple(shape), offset, order)
    now = (handle.dtype, handle.shape, handle.offset, handle.order)
    if was != now:
        handle.close()
        raise FileChangedError(
            errno.ESTALE,
            f"cannot unpickle the mapping: its .npy header changed (dtype, shape, offset, order {was} -> {now})",
            handle.filename,
        )


def _reopen_arrays(
    filename: str, format: str, mode: str, identity: tuple[int, int, int, int], max_header_size: int | None
) -> MappedArrays:
    """Unpickle a MappedArrays container: map ``filename`` again as it was mapped."""
    _check_identity(filename, identity, _file_identity(filename), mode)
    if format == "safetensors":
        container = open_safetensors(filename, mode)
    elif format == "npz":
        if max_header_size is None:  # pickles of this version always carry it
            container = open_npz(filename, mode)
        else:
            container = open_npz(filename, mode, max_header_size=max_header_size)
    else:
        raise ValueError(f"cannot unpickle the mapping of {filename!r}: unknown format {format!r}")
    _check_mapped_identity(container, identity, mode)
    return container

