"""How much of a cold open + first pass is reading the file, and how much is the pass.

    python bench/cold_pass_breakdown.py [--mb 80] [--repeat 15] [--dir /var/tmp/...]

The bench's cold-pass target asks for 0.67x ``numpy.memmap``'s open + sum. This
times, in shuffled, interleaved rounds, each repetition on a file evicted from
the page cache (and checked cold with ``mincore``):

* ``numpy.memmap + sum``: the anchor;
* ``populate()``: reading the file into the page cache and mapping it, with no
  sum at all: the floor of any way that goes through the page cache;
* ``populate() + sum``, ``advise('sequential') + populate() + sum`` (the
  target's contestant) and ``prefetch() + sum`` (reads overlap the sum).

Prints medians and each one's ratio to the anchor. If ``populate()`` alone is
near 0.67x, no way of reading through the page cache can meet the target.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import mmap_array
from mmap_array._bench.cache import make_cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--dir", default="/var/tmp/mmap_array-cold-pass")
    args = parser.parse_args()

    path = Path(args.dir) / "values.f64"
    path.parent.mkdir(parents=True, exist_ok=True)
    values = np.random.default_rng(0).random(args.mb * 1_000_000 // 8)
    values.tofile(path)
    expected = float(np.sum(values))
    del values
    name = str(path)

    def populated() -> mmap_array.MemoryMappedArray:
        handle = mmap_array.MemoryMappedArray(name)
        handle.populate()
        return handle

    def advised_populated_sum() -> float:
        handle = mmap_array.MemoryMappedArray(name)
        handle.advise("sequential")
        handle.populate()
        return float(np.sum(handle.get_array()))

    def prefetched_sum() -> float:
        handle = mmap_array.MemoryMappedArray(name)
        handle.prefetch()
        return float(np.sum(handle.get_array()))

    ways: dict[str, Callable[[], object]] = {
        "numpy.memmap + sum": lambda: float(np.sum(np.memmap(name, np.float64, mode="r"))),
        "populate() (no sum)": populated,
        "populate() + sum": lambda: float(np.sum(populated().get_array())),
        "advise + populate() + sum": advised_populated_sum,
        "prefetch() + sum": prefetched_sum,
    }
    times: dict[str, list[float]] = {way: [] for way in ways}
    order = list(ways)
    shuffler = random.Random(0)
    for _ in range(args.repeat):
        shuffler.shuffle(order)
        for way in order:
            make_cold(name)  # collects garbage first: no mapping of the file is left
            start = time.perf_counter()
            result = ways[way]()
            times[way].append(time.perf_counter() - start)
            # Checked outside the clock: every sum is right, and populate() left every page mapped.
            done = result.residency() == 1.0 if isinstance(result, mmap_array.MemoryMappedArray) else result == expected
            if not done:
                raise SystemExit(f"{way}: wrong result ({result!r})")
            del result
            gc.collect()
    median = {way: statistics.median(values) for way, values in times.items()}
    anchor = median["numpy.memmap + sum"]
    print(f"cold open + first pass of a {args.mb} MB float64 file, medians of {args.repeat}")
    for way, seconds in median.items():
        low, _, high = statistics.quantiles(times[way], n=4) if args.repeat > 1 else (seconds,) * 3
        print(f"  {way:<28} {seconds * 1e3:6.1f} ms (middle half {low * 1e3:5.1f}-{high * 1e3:5.1f})"
              f"  {seconds / anchor:5.2f}x numpy.memmap")
    path.unlink()


if __name__ == "__main__":
    main()
