"""Open + first full pass: open the file and sum every float64 in it, warm and cold.

The sum touches every byte, so a lazy open cannot pass for a load: the pass is
where a mapping pays for its page faults (warm) or its reads from the device
(cold). Each result is checked against the sum of the values written.

Cold repetitions first evict the file from the page cache and verify with
``mincore`` that no page is left (see ``cache.make_cold``); where that is
impossible the metric is reported as not measurable, never with warm numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import MemoryMappedArray
from ..._core import _floor_direct_read, _floor_sum
from .. import cache
from ..context import Context
from ..harness import ANCHOR, FLOOR, OURS, Contestant, self_timed, timed
from ..metric import MetricResult, optional_contestant, run_metric, unmeasurable_metric
from ..stats import Target
from .common import checksum_of, megabytes, stdlib_map, sum_check

# Device floor: this many O_DIRECT preads of this size in flight (4 MiB: the largest request
# many block devices take whole, max_sectors_kb; larger ones are split anyway).
_DIRECT_THREADS = 8
_DIRECT_BLOCK = 4 << 20



def _sum(array: Any) -> float:
    return float(np.sum(array))


def _advised_populated_sum(path: str) -> float:
    mm = MemoryMappedArray(path)
    mm.advise("sequential")
    mm.populate()
    return _sum(mm.get_array())


def _populated_sum(path: str) -> float:
    mm = MemoryMappedArray(path)
    mm.populate()
    return _sum(mm.get_array())


def _prefetched_sum(path: str) -> float:
    mm = MemoryMappedArray(path)
    mm.prefetch()
    return _sum(mm.get_array())


def _open_and_sum_contestants(path: str, n: int, check: Any, **kw: Any) -> list[Contestant]:
    """The anchors both passes share: every other way to open the file, then the same sum."""
    return [
        Contestant("numpy.memmap", "np.memmap(path, np.float64, mode='r'), sum", ANCHOR,
                   timed(lambda: _sum(np.memmap(path, np.float64, mode="r")), check, **kw)),
        Contestant("np.fromfile", "np.fromfile(path, np.float64), sum", ANCHOR,
                   timed(lambda: _sum(np.fromfile(path, np.float64)), check, **kw)),
        Contestant("mmap + frombuffer", "mmap.mmap + np.frombuffer, sum", ANCHOR,
                   timed(lambda: _sum(stdlib_map(path)), check, **kw)),
        optional_contestant(
            "pyarrow.memory_map", "pyarrow.memory_map(path).read_buffer() + np.frombuffer, sum", ANCHOR, "pyarrow",
            lambda pa: timed(
                lambda: _sum(np.frombuffer(pa.memory_map(path, "r").read_buffer(), np.float64)), check, **kw),
            note="read_buffer() calls madvise(MADV_WILLNEED) on the range",
        ),
        optional_contestant(
            "torch.from_file", "torch.from_file(path, shared=False, ...).numpy(), sum", ANCHOR, "torch",
            lambda torch: timed(
                lambda: _sum(torch.from_file(path, shared=False, size=n, dtype=torch.float64).numpy()), check, **kw),
        ),
    ]


def warm_pass(ctx: Context) -> MetricResult:
    """Open + sum with the file read into the page cache by ``read``, against an in-RAM array."""
    return _warm_pass(ctx, populated=False)


def warm_pass_populated(ctx: Context) -> MetricResult:
    """As :func:`warm_pass`, with the file read into the page cache by ``populate()``."""
    return _warm_pass(ctx, populated=True)


def _warm_pass(ctx: Context, *, populated: bool) -> MetricResult:
    """Open + sum with the file in the page cache, against the same sum over an in-RAM array.

    How the file entered the page cache decides what mapping it costs: read back with
    ``read`` it sits in folios of many sizes, mapped by 4 KiB page-table entries; read in by
    ``populate()`` (huge-page advice first), it sits in 2 MiB folios where the filesystem
    has large folios, which every mapping then takes whole.
    """
    data = ctx.raw()
    path, values = data.path, data.values
    key = "warm_pass_populated" if populated else "warm_pass"
    resident, total = cache.make_warm(path, reload=True, populate=populated)
    check = sum_check(data.total)
    words = values.view(np.uint64)
    expected_checksum = checksum_of(values)

    def floor() -> float:
        ns, _, checksum = _floor_sum(words)
        if checksum != expected_checksum:
            raise AssertionError("the memory-bandwidth pass read wrong bytes")
        return ns / 1e9

    contestants = [
        Contestant("ours", "mmap_array.MemoryMappedArray(path).get_array(), sum", OURS,
                   timed(lambda: _sum(MemoryMappedArray(path).get_array()), check)),
        Contestant("ours, prefetch", "mm = MemoryMappedArray(path); mm.prefetch(); sum", OURS,
                   timed(lambda: _prefetched_sum(path), check),
                   note="for reference: a background thread maps the pages ahead of the sum"),
        Contestant("in-RAM array", "the same sum over the values already in memory (np.ndarray)", ANCHOR,
                   timed(lambda: _sum(values), check)),
        *_open_and_sum_contestants(path, values.size, check),
        Contestant("memory bandwidth", "C++ sum of the in-RAM array's 64-bit words (8 accumulators)", FLOOR,
                   self_timed(floor)),
    ]
    targets = [Target("ours", 1.05, "in-RAM array", "at most 1.05x the same pass over an in-RAM array")]
    filled_by = "populate()" if populated else "read()"
    title = f"open + first full pass, warm page cache filled by {filled_by} ({megabytes(values.nbytes)})"
    what = ("Open the raw float64 file and sum every value (np.sum), every page already in the page cache "
            f"(read back with {'MemoryMappedArray.populate()' if populated else 'read()'} after eviction); "
            "the reference sums the same values held in an ordinary array.")
    if resident != total:
        return unmeasurable_metric(key, title, what, contestants, targets,
                                   f"only {resident} of {total} pages stayed in the page cache (memory is short)")
    result = run_metric(key, title, what, contestants, targets, ctx.scale.pass_reps, warmup=1)
    # Pages reclaimed during the repetitions would have been read from the device: say how many.
    left, _ = cache.residency(path)
    result.what += f" After the last repetition, {left / total:.2%} of the file's pages were still cached."
    return result


def cold_pass(ctx: Context) -> MetricResult:
    """Open + sum with the file evicted before every repetition, against the device's limit."""
    data = ctx.raw()
    path, values = data.path, data.values
    check = sum_check(data.total)
    expected_checksum = checksum_of(values)
    evict: dict[str, Any] = {"before": lambda: cache.make_cold(path), "count_reads": True}

    def floor() -> float:
        ns, nbytes, checksum = _floor_direct_read(path, _DIRECT_THREADS, _DIRECT_BLOCK)
        if nbytes != values.nbytes or checksum != expected_checksum:
            raise AssertionError("the O_DIRECT read returned wrong bytes")
        return ns / 1e9

    contestants = [
        Contestant("ours", "mm = MemoryMappedArray(path); mm.advise('sequential'); mm.populate(); sum", OURS,
                   timed(lambda: _advised_populated_sum(path), check, **evict),
                   note="the target's contestant, chosen before measuring: advice, then every page read in "
                        "parallel (populate's default threads: one per CPU)"),
        Contestant("ours, populate", "mm.populate() (no advice), sum", OURS,
                   timed(lambda: _populated_sum(path), check, **evict), note="for reference"),
        Contestant("ours, prefetch", "mm.prefetch(), sum (reads overlap the sum)", OURS,
                   timed(lambda: _prefetched_sum(path), check, **evict), note="for reference"),
        Contestant("ours, no advice", "MemoryMappedArray(path).get_array(), sum (no advise/populate)", OURS,
                   timed(lambda: _sum(MemoryMappedArray(path).get_array()), check, **evict),
                   note="for reference: the plain mapping"),
        *_open_and_sum_contestants(path, values.size, check, **evict),
        Contestant("O_DIRECT read", f"C++ O_DIRECT preads of {_DIRECT_BLOCK >> 20} MiB, {_DIRECT_THREADS} in flight, "
                   "checksummed", FLOOR, self_timed(floor, **evict),
                   note="the device's limit: no page cache, no page faults"),
    ]
    targets = [
        Target("ours", 0.67, "numpy.memmap", "at most 0.67x numpy.memmap"),
        Target("ours", 1.0, "np.fromfile", "at most 1.0x np.fromfile"),
    ]
    title = f"open + first full pass, cold, with advise/populate ({megabytes(values.nbytes)})"
    what = ("Evict the file (verified with mincore), then open it and sum every value; read amplification "
            "is bytes read from the device (/proc/self/io) per byte of the file.")
    problem = ctx.cold_problem()
    if problem is not None:
        return unmeasurable_metric("cold_pass", title, what, contestants, targets, problem)
    return run_metric("cold_pass", title, what, contestants, targets, ctx.scale.cold_reps, warmup=0,
                      requested_bytes=values.nbytes)
