"""Cold-cache gathers and passes: mmap_array's take and populate against numpy.memmap.

    python bench/take_cold.py [--gib 2] [--rows 20000] [--repeat 3] [--dir /var/tmp/...]

Writes (once) a file of 4 KiB rows (512 uint64 each) on a disk-backed file
system, then times, with the file evicted from the page cache before every run
(posix_fadvise DONTNEED, checked with MemoryMappedArray.residency):

* gather: ``mm.take(idx)`` against ``np.memmap(...)[idx]`` for random rows;
* pass: ``mm.populate(); arr.sum()`` and ``mm.prefetch(); arr.sum()`` against
  ``np.memmap(...).sum()``;

and the same gathers warm, to show what the read-ahead hints cost when the
rows are already in memory. Prints medians and ratios (numpy.memmap / ours).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

import mmap_array
from mmap_array._bench.cache import EvictionFailed, make_cold

ROW = 4096
COLUMNS = ROW // 8


def write_file(path: Path, gib: float) -> int:
    rows = int(gib * (1 << 30)) // ROW
    if path.exists() and path.stat().st_size == rows * ROW:
        return rows
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        for start in range(0, rows, 8192):
            count = min(8192, rows - start)
            f.write(rng.integers(0, 2**63, size=(count, COLUMNS), dtype=np.uint64).tobytes())
    return rows


def evict(path: Path) -> None:
    try:
        make_cold(str(path))  # the bench's own eviction, proven with mincore
    except EvictionFailed as error:
        raise SystemExit(f"{path}: {error}; use a disk-backed --dir") from None


def timed(run, path: Path, repeat: int, cold: bool) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(repeat):
        if cold:
            evict(path)
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=2.0, help="file size in GiB (default 2)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows to gather (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median; default 3)")
    parser.add_argument("--dir", default="/var/tmp/mmap_array-bench", help="a disk-backed directory")
    args = parser.parse_args()

    path = Path(args.dir) / "rows.bin"
    rows = write_file(path, args.gib)
    shape = (rows, COLUMNS)
    idx = np.random.default_rng(1).integers(0, rows, size=args.rows)
    print(f"{path}: {rows:,} rows of {ROW} bytes ({rows * ROW / 2**30:.2f} GiB); gathering {args.rows:,}; "
          f"read_ahead_kb={read_ahead_kb(path)}; {os.cpu_count()} CPUs; median of {args.repeat}")

    def ours_take():
        return mmap_array.MemoryMappedArray(path, dtype=np.uint64, shape=shape).take(idx)

    def numpy_take():
        return np.memmap(path, dtype=np.uint64, mode="r", shape=shape)[idx]

    def ours_populate_pass():
        mm = mmap_array.MemoryMappedArray(path, dtype=np.uint64, shape=shape)
        mm.populate()
        return int(mm.get_array().sum())

    def ours_prefetch_pass():
        mm = mmap_array.MemoryMappedArray(path, dtype=np.uint64, shape=shape)
        mm.prefetch()
        return int(mm.get_array().sum())

    def numpy_pass():
        return int(np.memmap(path, dtype=np.uint64, mode="r", shape=shape).sum())

    lines = []
    for label, ours, theirs, cold in [
        ("take, cold", ours_take, numpy_take, True),
        ("take, warm", ours_take, numpy_take, False),
        ("populate + sum, cold", ours_populate_pass, numpy_pass, True),
        ("prefetch + sum, cold", ours_prefetch_pass, numpy_pass, True),
    ]:
        t_theirs, expected = timed(theirs, path, args.repeat, cold)
        t_ours, got = timed(ours, path, args.repeat, cold)
        same = np.array_equal(got, expected) if isinstance(got, np.ndarray) else got == expected
        if not same:
            raise SystemExit(f"{label}: results differ")
        lines.append((label, t_ours, t_theirs))
    print(f"{'':24}{'mmap_array':>12}{'numpy.memmap':>14}{'ratio':>9}")
    for label, t_ours, t_theirs in lines:
        print(f"{label:24}{t_ours:11.3f}s{t_theirs:13.3f}s{t_theirs / t_ours:8.1f}x")


def read_ahead_kb(path: Path) -> str:
    """The read_ahead_kb of the block device holding ``path``, for the record."""
    dev = os.stat(path).st_dev
    base = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    for candidate in (base / "queue" / "read_ahead_kb", base.parent / "queue" / "read_ahead_kb"):
        try:
            return candidate.resolve().read_text().strip()
        except OSError:
            continue
    return "unknown"


if __name__ == "__main__":
    main()
