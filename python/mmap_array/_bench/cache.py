"""Cold and warm page cache: evict a file, prove it is gone, or prove it is all there.

A cold measurement is only a cold measurement if the file's pages are really
out of memory when the clock starts. Eviction asks the kernel to drop them
(``fdatasync`` first, because dirty pages cannot be dropped, then
``POSIX_FADV_DONTNEED``), and ``mincore`` over a fresh mapping then counts the
pages still cached. The kernel keeps pages that any process still maps, and
filesystems without a backing device (tmpfs) keep them all: then the file
cannot be made cold, and :class:`EvictionFailed` says so rather than letting a
warm read pass for a cold one.
"""

from __future__ import annotations

import gc
import os

from .._core import MemoryMappedArray, _bench_page_cache_residency
from .harness import Unmeasurable


class EvictionFailed(Unmeasurable):
    """The file's pages stayed in the page cache; cold timings of it would be warm ones."""


def residency(path: str) -> tuple[int, int]:
    """Pages of ``path`` in the page cache, and its size in pages.

    Parameters
    ----------
    path : str

    Returns
    -------
    tuple of int
        ``(resident pages, total pages)``, counted by ``mincore(2)``.

    Raises
    ------
    OSError
        The file cannot be opened or mapped.
    """
    return _bench_page_cache_residency(path)


def _drop(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def make_cold(path: str, *, attempts: int = 3) -> None:
    """Evict every page of ``path`` from the page cache and verify that none is left.

    Call it with no mapping of the file alive in this process: results of
    earlier repetitions must have been dropped.

    Parameters
    ----------
    path : str
        A file on a filesystem with a backing device.
    attempts : int, default 3
        Evictions tried before giving up (a page being written back at the
        first attempt is droppable at the next).

    Raises
    ------
    EvictionFailed
        Pages are still cached after every attempt (tmpfs, or the file is
        mapped and in use elsewhere).
    OSError
        The file cannot be opened.

    Examples
    --------
    >>> make_cold("/var/tmp/data.bin")
    >>> residency("/var/tmp/data.bin")[0]
    0
    """
    # Mappings held only by reference cycles are unmapped by a collection, not by refcounting.
    gc.collect()
    for _ in range(attempts):
        _drop(path)
        resident, total = residency(path)
        if resident == 0:
            return
    raise EvictionFailed(
        f"{resident} of {total} pages of {path} stay in the page cache after fdatasync and "
        f"POSIX_FADV_DONTNEED (a filesystem without a backing device, such as tmpfs, keeps "
        f"them all; so does a file another process keeps mapped)"
    )


def make_warm(path: str, *, reload: bool = False, attempts: int = 3, populate: bool = False) -> tuple[int, int]:
    """Read ``path`` through the page cache so that it is resident; return :func:`residency`.

    How pages entered the page cache changes what a fault on them costs: pages
    left by ``write`` and pages read back after eviction can sit in folios of
    different sizes, and a fresh mapping faults a large folio in at once. With
    ``reload``, the file is evicted first (where the filesystem allows it), so
    every warm measurement starts from the same state: the file read back from
    the device with ``read``, whatever ran before.

    Pages read once sit on the kernel's inactive list, first in line when it
    reclaims memory: reading a 4 GiB file beside a 4 GiB array lost 0.7% of
    it at once on the development machine, with gigabytes free. So the file is
    read again while pages are missing; a second read also promotes them to the
    active list, which protects them.

    Parameters
    ----------
    path : str
    reload : bool, default False
        Evict the file before reading it (skipped where eviction is impossible,
        as on tmpfs, whose pages never leave memory anyway).
    attempts : int, default 3
        Reads of the file at most, until every page is resident.
    populate : bool, default False
        Read the file in with ``MemoryMappedArray.populate()`` instead of
        ``read``: on filesystems with large folios the page cache then holds
        it in 2 MiB folios, which any later mapping of it takes whole.

    Returns
    -------
    tuple of int
        ``(resident pages, total pages)`` after the read: equal unless memory
        is too short to hold the file.
    """
    if reload:
        try:
            make_cold(path, attempts=1)
        except EvictionFailed:
            pass
    chunk = bytearray(1 << 24)
    for _ in range(attempts):
        if populate:
            handle = MemoryMappedArray(path, dtype="u1")
            handle.populate()
            handle.close()
        else:
            with open(path, "rb", buffering=0) as file:
                while file.readinto(chunk):
                    pass
        resident, total = residency(path)
        if resident == total:
            break
    return resident, total
