"""Random gather: rows at random indices of a large file, into a new array, cold and warm.

The file holds rows of one 4 KiB page each; row r holds r * columns + (0, 1,
...), so every gathered row is checked outside the clock. The indices are
distinct and in random order, like a shuffled data loader's batch. Cold
repetitions evict the file first and count the bytes read from the device:
read amplification is that count over the bytes the gather asked for (a
mapping's readahead can read many pages for every page asked for).
"""

from __future__ import annotations

import mmap
import os
from typing import Any

import numpy as np

from ... import MemoryMappedArray
from ..._core import _floor_direct_gather
from .. import cache
from ..context import Context
from ..datasets import RowFile
from ..harness import ANCHOR, FLOOR, OURS, Contestant, self_timed, timed
from ..metric import MetricResult, optional_contestant, run_metric, unmeasurable_metric
from ..scale import format_size
from ..stats import Target
from .common import checksum_of, stdlib_map

# Random 4 KiB reads need a deep queue to approach the device's limit.
_DIRECT_THREADS = 32



def _indices(rows: RowFile, count: int) -> np.ndarray:
    return np.random.default_rng(99).choice(rows.rows, size=count, replace=False)


def _shaped(flat: np.ndarray, rows: RowFile) -> np.ndarray:
    return flat.reshape(rows.rows, rows.columns)


def _preadv_rows(path: str, indices: np.ndarray, row_bytes: int, columns: int) -> np.ndarray:
    out = np.empty((indices.size, columns), np.float64)
    fd = os.open(path, os.O_RDONLY)
    try:
        for j, i in enumerate(indices.tolist()):
            if os.preadv(fd, [out[j]], i * row_bytes) != row_bytes:
                raise OSError(f"short read of row {i} of {path}")
    finally:
        os.close(fd)
    return out


def _anchors(rows: RowFile, indices: np.ndarray, row_bytes: int, check: Any, *, cold: bool, **kw: Any) -> list:
    path = rows.path
    shape = (rows.rows, rows.columns)
    anchors = [
        Contestant("numpy.memmap", "np.memmap(path, np.float64, 'r', shape=(rows, 512))[indices]", ANCHOR,
                   timed(lambda: np.memmap(path, np.float64, mode="r", shape=shape)[indices], check, **kw)),
        Contestant("mmap + frombuffer", "mmap.mmap + np.frombuffer(...).reshape(rows, 512)[indices]", ANCHOR,
                   timed(lambda: _shaped(stdlib_map(path), rows)[indices], check, **kw)),
        optional_contestant(
            "pyarrow.memory_map", "np.frombuffer(pyarrow.memory_map(path).read_buffer())...[indices]", ANCHOR,
            "pyarrow", lambda pa: timed(
                lambda: _shaped(np.frombuffer(pa.memory_map(path, "r").read_buffer(), np.float64), rows)[indices],
                check, **kw),
            note="read_buffer() calls madvise(MADV_WILLNEED) over the whole file" if cold else "",
        ),
        optional_contestant(
            "torch.from_file", "torch.from_file(path, shared=False, ...).view(rows, 512).index_select(0, indices)",
            ANCHOR, "torch", lambda torch: _torch_gather(torch, path, shape, indices, check, **kw),
        ),
    ]
    if cold:
        anchors.append(Contestant(
            "os.preadv per row", "os.preadv of each row into np.empty((n, 512)) (a Python loop)", ANCHOR,
            timed(lambda: _preadv_rows(path, indices, row_bytes, rows.columns), check, **kw),
            note="reads through the page cache, one system call per row",
        ))
    return anchors


def _torch_gather(torch: Any, path: str, shape: tuple[int, int], indices: np.ndarray, check: Any, **kw: Any) -> Any:
    index = torch.from_numpy(indices.astype(np.int64))
    count = shape[0] * shape[1]

    def run() -> np.ndarray:
        mapped = torch.from_file(path, shared=False, size=count, dtype=torch.float64).view(*shape)
        return mapped.index_select(0, index).numpy()

    return timed(run, check, **kw)


def _ours(rows: RowFile, indices: np.ndarray, check: Any, **kw: Any) -> Contestant:
    path, shape = rows.path, (rows.rows, rows.columns)
    return Contestant(
        "ours", "mmap_array.MemoryMappedArray(path, 'float64', shape=(rows, 512)).take(indices)", OURS,
        timed(lambda: MemoryMappedArray(path, np.float64, shape=shape).take(indices), check, **kw),
        note="take's defaults: threads=None (its own choice); each cold batch hinted with MADV_WILLNEED",
    )


def _gather_check(rows: RowFile, indices: np.ndarray) -> tuple[Any, np.ndarray]:
    expected = rows.expected(indices)

    def check(result: np.ndarray) -> None:
        if not np.array_equal(np.asarray(result), expected):
            raise AssertionError("the gather returned wrong rows")

    return check, expected


def cold_gather(ctx: Context) -> MetricResult:
    """Gather random rows from a file evicted before every repetition."""
    scale = ctx.scale
    rows = ctx.rows()
    indices = _indices(rows, scale.gather_rows)
    check, expected = _gather_check(rows, indices)
    offsets = (indices.astype(np.uint64) * np.uint64(scale.row_bytes))
    expected_checksum = checksum_of(expected)
    evict: dict[str, Any] = {"before": lambda: cache.make_cold(rows.path), "count_reads": True}

    def floor() -> float:
        ns, _, checksum = _floor_direct_gather(rows.path, offsets, scale.row_bytes, _DIRECT_THREADS)
        if checksum != expected_checksum:
            raise AssertionError("the O_DIRECT gather returned wrong rows")
        return ns / 1e9

    contestants = [
        _ours(rows, indices, check, **evict),
        *_anchors(rows, indices, scale.row_bytes, check, cold=True, **evict),
        Contestant("O_DIRECT gather", f"C++ O_DIRECT pread of each row, {_DIRECT_THREADS} in flight, checksummed",
                   FLOOR, self_timed(floor, **evict), note="the device's limit for this gather"),
    ]
    targets = [Target("ours", 0.25, "numpy.memmap", "at least 4x faster than fancy indexing on numpy.memmap")]
    title = f"{scale.gather_rows:,} random {scale.row_bytes // 1024} KiB rows, cold"
    what = (f"Evict the {format_size(rows.rows * scale.row_bytes)} file (verified with mincore), then gather "
            f"{scale.gather_rows:,} distinct rows in random order into a new array; read amplification is "
            "bytes read from the device (/proc/self/io) per byte gathered.")
    problem = ctx.cold_problem()
    if problem is not None:
        return unmeasurable_metric("cold_gather", title, what, contestants, targets, problem)
    return run_metric("cold_gather", title, what, contestants, targets, scale.gather_reps, warmup=0,
                      requested_bytes=indices.size * scale.row_bytes)


def _touch_every_page(array: np.ndarray) -> None:
    """Fault in every page of a mapped array by reading one byte of each."""
    flat = array.reshape(-1).view(np.uint8)
    flat[:: mmap.PAGESIZE].sum(dtype=np.uint64)


def _memory_short(nbytes: int) -> str | None:
    """Why the file and an in-RAM copy of it cannot both fit in memory, or None."""
    with open("/proc/meminfo") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    available = int(fields["MemAvailable"].split()[0]) * 1024
    # The page cache holds the file, the in-RAM reference holds it again, and the rest of
    # the system still needs room.
    if available < 2.5 * nbytes:
        return (f"the warm gather holds the file twice ({2 * nbytes / 2**30:.1f} GiB: page cache and an "
                f"in-RAM copy); only {available / 2**30:.1f} GiB of memory is available")
    return None


def warm_gather(ctx: Context) -> MetricResult:
    """Gather the same rows with the whole file in the page cache, against an in-RAM array."""
    scale = ctx.scale
    rows = ctx.rows()
    indices = _indices(rows, scale.gather_rows)
    check, _ = _gather_check(rows, indices)
    title = f"the same gather, warm ({scale.gather_rows:,} rows)"
    what = ("The same rows with every page of the file in the page cache (read back with read() after "
            "eviction), each repetition opening the file "
            "as the cold gather does; the reference gathers them from the whole file held in an ordinary "
            "array (np.fromfile). The two *kept open* rows reuse one mapping whose pages were all touched "
            "before timing: a long-running loader's steady state, with no page faults left.")
    targets = [Target("ours", 1.1, "in-RAM array", "at most 1.1x fancy indexing on an in-RAM array")]
    short = _memory_short(rows.rows * scale.row_bytes)
    ours = _ours(rows, indices, check)
    if short is not None:
        in_ram = Contestant("in-RAM array", "in_ram[indices] (fancy indexing)", ANCHOR, None, unavailable=short)
        return unmeasurable_metric("warm_gather", title, what, [ours, in_ram], targets, short)
    # Held in a dict the result does not keep, so that clearing it frees the in-RAM copy even
    # though the contestants' closures live on in the result.
    shape = (rows.rows, rows.columns)
    held: dict[str, Any] = {"in_ram": _shaped(np.fromfile(rows.path, np.float64), rows)}
    resident, total = cache.make_warm(rows.path, reload=True)
    held["handle"] = MemoryMappedArray(rows.path, np.float64, shape=shape)
    held["handle"].populate()
    held["memmap"] = np.memmap(rows.path, np.float64, mode="r", shape=shape)
    _touch_every_page(held["memmap"])
    # Anything reclaimed while the copies above were made is read back now.
    resident, total = cache.make_warm(rows.path)
    contestants = [
        ours,
        Contestant("in-RAM array", "in_ram[indices] (fancy indexing)", ANCHOR,
                   timed(lambda: held["in_ram"][indices], check)),
        Contestant("np.take", "np.take(in_ram, indices, axis=0)", ANCHOR,
                   timed(lambda: np.take(held["in_ram"], indices, axis=0), check)),
        *_anchors(rows, indices, scale.row_bytes, check, cold=False),
        Contestant("ours, kept open", "mm.take(indices) on a handle opened and populated before timing", OURS,
                   timed(lambda: held["handle"].take(indices), check), note="for reference: the steady state"),
        Contestant("numpy.memmap, kept open", "memmap[indices] on a memmap opened and read before timing",
                   ANCHOR, timed(lambda: held["memmap"][indices], check)),
    ]
    try:
        if resident != total:
            return unmeasurable_metric(
                "warm_gather", title, what, contestants, targets,
                f"only {resident} of {total} pages of the file stayed in the page cache (memory is short)",
            )
        result = run_metric("warm_gather", title, what, contestants, targets, scale.pass_reps, warmup=1)
        # Pages reclaimed during the repetitions would have been read from the device: say how many.
        left, _ = cache.residency(rows.path)
        result.what += f" After the last repetition, {left / total:.2%} of the file's pages were still cached."
        return result
    finally:
        held["handle"].close()
        held.clear()
