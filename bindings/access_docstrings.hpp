// numpydoc docstrings of the access controls (access_methods.cpp), in the style
// of docstrings.hpp.
#pragma once

namespace mmap_array::python::doc {

inline constexpr const char* advise = R"doc(Tell the kernel how the array (or rows ``start:stop``) will be used.

Parameters
----------
advice : {"normal", "sequential", "random", "willneed", "dontneed", "hugepage", "nohugepage"}
    ``"normal"``: the default read-around on each page fault.
    ``"sequential"``: read ahead aggressively; pages may be dropped soon
    after use. ``"random"``: no read-around; each fault reads only its own
    page. ``"willneed"``: start reading the range now (queued before this
    returns; :meth:`prefetch` returns at once). ``"dontneed"``: drop this
    process's page mappings; file pages stay cached and come back on the
    next touch, but a ``"c"`` (copy-on-write) mapping loses its changes.
    ``"hugepage"``: back the range with transparent huge pages where the
    kernel and filesystem can (see :meth:`page_info`). ``"nohugepage"``:
    small pages only. Files made by :func:`create` (and mode ``"w+"``) are
    advised ``"hugepage"``, since they are usually filled from start to end;
    before writing one sparsely, advise ``"nohugepage"``, or each 4 KiB
    written dirties (and is written back as) a whole 2 MiB page.
start, stop : int, optional
    A range of rows along axis 0, as in ``arr[start:stop]`` (negative values
    count from the end); the default is every row. The byte range is widened
    outward to whole pages.

Raises
------
ValueError
    An unknown advice (the message lists the valid ones); ``start``/``stop``
    outside the rows or reversed; a range of rows of a Fortran-ordered array
    (not contiguous in the file); a closed handle.
OSError
    The kernel refused: ``errno.EINVAL`` means it does not support this
    advice (e.g. ``"hugepage"`` on a kernel without transparent huge pages).
FileTruncatedError
    The file shrank under the mapping.

Examples
--------
>>> mm = mmap_array.MemoryMappedArray("data.bin")
>>> mm.advise("random")            # e.g. before gathering scattered rows
>>> mm.advise("sequential", 0, 1000)
)doc";

inline constexpr const char* prefetch = R"doc(Start reading the array (or rows ``start:stop``) into memory, and return at once.

Up to 2 MiB: the kernel is asked to read the pages (``MADV_WILLNEED``),
queued before this returns. A larger range is read by a background thread,
from start to end, as :meth:`populate` with one thread would: in large reads
and, where the filesystem has them, huge pages, mapping the pages as it goes,
so a pass over the array right after this (or while it runs) takes no page
faults for the pages it has reached, whether they came from the disk or were
cached already. The thread keeps the mapping alive until it is done and stops
early if the interpreter exits. Errors end it quietly: it is a hint, and the
array reports them itself when the pages are read. Use :meth:`residency` to
watch progress, or :meth:`populate` to wait.

Parameters
----------
start, stop : int, optional
    A range of rows along axis 0 (as in :meth:`advise`); default: all.

Raises
------
ValueError
    ``start``/``stop`` out of range, or a closed handle.
OSError
    The kernel refused to queue the reads of a small range.
FileTruncatedError
    The file shrank under the mapping.

Examples
--------
>>> mm.prefetch()                  # returns at once; the disk starts reading
>>> mm.residency()                 # some time later
1.0
)doc";

inline constexpr const char* populate = R"doc(Read the array (or rows ``start:stop``) into memory now, in parallel.

Faults every page in (``MADV_POPULATE_READ``; on Linux before 5.14, by
reading one byte of each page), with the GIL released, and returns when all
are mapped: later accesses take no page fault. Each of ``threads`` threads
reads one contiguous part from start to end, a sequential stream the
kernel's read-ahead serves well. On read-only and copy-on-write handles a
range of 2 MiB or more is first advised ``"hugepage"``, so that filesystems
with large folios (ext4 and XFS on recent kernels) read it in 2 MiB units,
and this and later mappings of it take huge page table entries: faster to
read and to pass over. The range keeps that advice: pages of it evicted
later are read back 2 to 4 MiB at a time (``advise("nohugepage")`` undoes
it, e.g. before random access to a file larger than memory). Writable
handles keep small pages, since a dirtied huge page may be written back
whole.

Parameters
----------
start, stop : int, optional
    A range of rows along axis 0 (as in :meth:`advise`); default: all.
threads : int, optional
    Threads to use, 1 to 1024; default: the number of CPUs. Never more than
    one per 32 MiB of the range.
write : bool, default False
    Fault the pages in writable (``MADV_POPULATE_WRITE``), so later writes
    take no fault either. Only for ``"r+"``/``"w+"`` mappings, and it marks
    every page dirty: the next flush or writeback writes the whole range.

Raises
------
ValueError
    ``start``/``stop`` or ``threads`` out of range, ``write=True`` on a
    mapping that is not shared read-write, or a closed handle.
FileTruncatedError
    Pages of the file vanished (it shrank under the mapping, or a write to a
    sparse page found the disk full); the handle refuses every later call.
OSError
    The kernel failed to read the pages (``errno`` set, e.g. ``EIO``).

Examples
--------
>>> mm.populate()                  # e.g. before timing a pass over the data
>>> mm.residency()
1.0
)doc";

inline constexpr const char* residency = R"doc(Return the fraction of the array's pages (or rows ``start:stop``) in memory.

Counts the pages of the range present in the page cache (``mincore``).
Linux reports the page cache only to a process that may write the file (or
owns it); otherwise it counts only pages this process has mapped.

Parameters
----------
start, stop : int, optional
    A range of rows along axis 0 (as in :meth:`advise`); default: all.

Returns
-------
float
    From 0.0 (nothing in memory) to 1.0 (everything, and for an empty range).

Raises
------
ValueError
    ``start``/``stop`` out of range, or a closed handle.
OSError
    ``mincore`` failed.

Examples
--------
>>> mm.populate(); mm.residency()
1.0
)doc";

inline constexpr const char* residency_map = R"doc(Return the residency of each of ``bins`` equal parts of the array (or rows ``start:stop``).

Parameters
----------
bins : int, default 64
    The number of equal byte ranges to report, at least 1. A page
    straddling two ranges counts in both; a range without bytes is 1.0.
start, stop : int, optional
    A range of rows along axis 0 (as in :meth:`advise`); default: all.

Returns
-------
numpy.ndarray
    ``bins`` float64 fractions from 0.0 to 1.0, in file order.

Raises
------
ValueError
    ``bins`` below 1, ``start``/``stop`` out of range, or a closed handle.
OSError
    ``mincore`` failed.

Examples
--------
>>> mm = mmap_array.MemoryMappedArray("data.bin")   # 1,000,000 float64, not cached
>>> mm.advise("random")             # no read-around past what is asked for
>>> mm.populate(0, 500_000)
>>> mm.residency_map(4)
array([1., 1., 0., 0.])
)doc";

inline constexpr const char* take = R"doc(Gather rows (or items along ``axis``) into a new array, like ``np.take``.

Equal to ``np.take(mm.get_array(), indices, axis=axis)`` in value, shape
and dtype, for any dtype, order and axis: the result's shape is
``shape[:axis] + indices.shape + shape[axis + 1:]``, C-ordered. The copy runs
with the GIL released, on ``threads`` threads; for rows not in memory, the
kernel is asked to read every row of a batch at once before the batch is
copied, so many reads are in flight instead of one page fault at a time.
Rows of 2 KiB or more that are in memory but not yet mapped by this process
are read with ``pread`` when a page fault would map only a few pages (a file
cached in small pieces), on ext4, XFS, btrfs, F2FS and tmpfs, whose reads
see the mapping's pages; they are faulted in when a fault maps 2 MiB at
once. Rows of a ``"c"`` handle are always copied from the mapping, which
holds its changes.

Parameters
----------
indices : array_like of int
    Positions along ``axis``; negative ones count from the end, repeats are
    allowed, any shape (a scalar drops the axis).
axis : int, default 0
    The axis to gather along; negative counts from the last.
out : numpy.ndarray, optional
    Where to put the result: a writeable array of exactly the result's
    shape and dtype. It is returned.
threads : int, optional
    Threads to copy with, 1 to 1024; default: the number of CPUs, at most
    one per 8 MiB of output.

Returns
-------
numpy.ndarray
    The gathered rows (``out`` if given; a NumPy scalar for a scalar index
    into a 1-D array, as ``np.take`` returns).

Raises
------
IndexError
    An index outside ``-n .. n - 1``; the message names the index, the axis
    and its size. Nothing is written to ``out``.
numpy.exceptions.AxisError
    ``axis`` outside the array's dimensions (a ``ValueError`` and an
    ``IndexError``).
TypeError
    Indices that are not integers; boolean indices are refused, since
    ``np.take`` reads them as 0 and 1 while ``arr[mask]`` reads a mask: use
    ``np.flatnonzero(mask)``.
ValueError
    ``out`` of the wrong shape or dtype, or read-only; ``threads`` out of
    range; a closed handle.
FileTruncatedError
    The file shrank before or during the gather.

Examples
--------
>>> mm = mmap_array.open("embeddings.npy")       # e.g. (1_000_000, 256) float32
>>> batch = mm.take([17, 4, 99_999, -1])         # shape (4, 256)
>>> cols = mm.take([0, 1], axis=1)               # shape (1_000_000, 2)
)doc";

inline constexpr const char* page_info = R"doc(Report what backs the mapping: page sizes and the kernel's own counters.

Returns
-------
dict
    ``page_size`` (bytes), ``huge_page_size`` (the transparent huge page
    size; 0 without THP support), ``thp_enabled`` (the setting of
    ``/sys/kernel/mm/transparent_hugepage/enabled``: ``"always"``,
    ``"madvise"``, ``"never"``, or None), ``pmd_aligned`` (the mapping's
    addresses agree with its file offsets modulo the huge page size, which
    huge page mappings need), ``hugepage_advised`` (``advise("hugepage")``
    is in force on all of it), ``vmas`` (kernel memory areas it spans;
    advice on part of it splits it) and ``smaps``: every byte counter of
    ``/proc/self/smaps`` for those areas (``Size``, ``Rss``, ``Pss``,
    ``Shared_Clean``, ``Private_Dirty``, ``AnonHugePages``,
    ``FilePmdMapped``...), summed, in bytes.

Raises
------
ValueError
    A closed handle.
OSError
    ``/proc/self/smaps`` cannot be read (e.g. no ``/proc``).

Examples
--------
>>> mm.populate(); info = mm.page_info()
>>> info["smaps"]["Rss"] == info["smaps"]["Size"]
True
>>> info["smaps"]["FilePmdMapped"] > 0           # huge pages, where available
True
)doc";

inline constexpr const char* container_advise = R"doc(Tell the kernel how the file's arrays (or the one named ``name``) will be used.

As :meth:`MemoryMappedArray.advise`, over the whole mapped file or one
array's bytes.

Parameters
----------
advice : {"normal", "sequential", "random", "willneed", "dontneed", "hugepage", "nohugepage"}
name : str, optional
    One array; default: the whole mapping.

Raises
------
KeyError
    No array is called ``name``.
FormatError
    ``name`` is a compressed ``.npz`` member, which is not mapped.
ValueError, OSError, FileTruncatedError
    As :meth:`MemoryMappedArray.advise`.

Examples
--------
>>> with mmap_array.open_safetensors("model.safetensors") as weights:
...     weights.advise("sequential")
)doc";

inline constexpr const char* container_prefetch = R"doc(Start reading the file's arrays (or the one named ``name``) and return at once.

As :meth:`MemoryMappedArray.prefetch`.

Parameters
----------
name : str, optional
    One array; default: the whole mapping.

Raises
------
KeyError, FormatError, ValueError, OSError, FileTruncatedError
    As :meth:`advise`.

Examples
--------
>>> weights.prefetch("embed.weight")
)doc";

inline constexpr const char* container_populate = R"doc(Read the file's arrays (or the one named ``name``) into memory now, in parallel.

As :meth:`MemoryMappedArray.populate` (always for reading: container
mappings are read-only or copy-on-write).

Parameters
----------
name : str, optional
    One array; default: the whole mapping.
threads : int, optional
    Threads to use, 1 to 1024; default: the number of CPUs.

Raises
------
KeyError, FormatError, ValueError, OSError, FileTruncatedError
    As :meth:`advise`.

Examples
--------
>>> weights.populate()
>>> weights.residency()
1.0
)doc";

inline constexpr const char* container_residency = R"doc(Return the fraction of the file's arrays (or of ``name``) in memory.

As :meth:`MemoryMappedArray.residency`.

Parameters
----------
name : str, optional
    One array; default: the whole mapping.

Returns
-------
float
    From 0.0 to 1.0.

Raises
------
KeyError, FormatError, ValueError, OSError
    As :meth:`advise`.

Examples
--------
>>> weights.residency("embed.weight")
0.0
)doc";

inline constexpr const char* container_residency_map = R"doc(Return the residency of ``bins`` equal parts of the mapping (or of ``name``).

As :meth:`MemoryMappedArray.residency_map`.

Parameters
----------
bins : int, default 64
name : str, optional
    One array; default: the whole mapping.

Returns
-------
numpy.ndarray
    ``bins`` float64 fractions.

Raises
------
KeyError, FormatError, ValueError, OSError
    As :meth:`advise`.

Examples
--------
>>> weights.residency_map(8)
array([0., 0., 0., 0., 0., 0., 0., 0.])
)doc";

inline constexpr const char* container_page_info = R"doc(Report what backs the container's mapping.

As :meth:`MemoryMappedArray.page_info`, for the one mapping all arrays share.

Returns
-------
dict

Raises
------
ValueError, OSError
    As :meth:`MemoryMappedArray.page_info`.

Examples
--------
>>> weights.page_info()["smaps"]["Rss"]
0
)doc";

}  // namespace mmap_array::python::doc
