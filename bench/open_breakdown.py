"""Open latency with warm and with swept CPU caches, against the syscall floor.

    python bench/open_breakdown.py [--mb 80] [--repeat 2000] [--dir /var/tmp/...]

An open is a few microseconds of system calls and a few thousand instructions of
Python and C++ around them, spread over many pages of code and data. How long it
takes depends on whether those pages are still in the CPU caches and TLB. The
bench interleaves contestants, some of which sweep the caches (NumPy's and
pyarrow's opens, copies), so its open metrics sit between the two cases timed
here, in shuffled, interleaved rounds:

* ``back to back``: a repetition right after another of the same contestant;
* ``after a sweep``: a repetition right after a sum over a 32 MB array, as
  after a pass over data.

Contestants: ``MemoryMappedArray(raw).get_array()``, ``mmap_array.open(npy)
.get_array()``, ``np.memmap``, ``np.load(mmap_mode="r")``, and the floor (open +
fstat + mmap + close of the raw file, timed inside C++).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import mmap_array
from mmap_array._core import _floor_open_map

SWEEP = np.ones(4 << 20)  # 32 MB: larger than the last-level cache


def timed(run: Callable[[], object]) -> Callable[[], float]:
    def measure() -> float:
        start = time.perf_counter_ns()
        result = run()
        seconds = (time.perf_counter_ns() - start) / 1e9
        del result  # unmapped after the clock
        return seconds

    return measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--dir", default="/var/tmp/mmap_array-open")
    args = parser.parse_args()

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    values = np.arange(args.mb * 1_000_000 // 8, dtype=np.float64)  # 80 MB by default, as in the bench
    raw, npy = folder / "values.f64", folder / "values.npy"
    values.tofile(raw)
    np.save(npy, values)
    raw_name, npy_name = str(raw), str(npy)
    ways: dict[str, Callable[[], float]] = {
        "ours, raw": timed(lambda: mmap_array.MemoryMappedArray(raw_name).get_array()),
        "ours, .npy": timed(lambda: mmap_array.open(npy_name).get_array()),
        "numpy.memmap": timed(lambda: np.memmap(raw_name, np.float64, mode="r")),
        "np.load(mmap_mode=r)": timed(lambda: np.load(npy_name, mmap_mode="r")),
        "syscall floor": lambda: _floor_open_map(raw_name) / 1e9,
    }
    for way in ("ours, raw", "ours, .npy"):  # the arrays are whole and right (outside the clock)
        opened = {"ours, raw": lambda: mmap_array.MemoryMappedArray(raw_name).get_array(),
                  "ours, .npy": lambda: mmap_array.open(npy_name).get_array()}[way]()
        if opened.shape != values.shape or opened[-1] != values[-1]:
            raise SystemExit(f"{way}: another array than the one written")
        del opened
    conditions = ("back to back", "after a sweep")
    times = {(c, w): [] for c in conditions for w in ways}
    order = list(ways)
    shuffler = random.Random(0)
    for round_number in range(args.repeat + 3):
        shuffler.shuffle(order)
        for way in order:
            ways[way]()  # its own code and data now cached: the next repetition is back to back
            warm = ways[way]()
            SWEEP.sum()
            swept = ways[way]()
            if round_number >= 3:  # the first rounds warm up
                times["back to back", way].append(warm)
                times["after a sweep", way].append(swept)
    print(f"open to an array of a {args.mb} MB file, medians of {args.repeat}")
    for condition in conditions:
        median = {way: statistics.median(times[condition, way]) for way in ways}
        print(f"\n{condition}:")
        for way, seconds in median.items():
            print(f"  {way:<24} {seconds * 1e6:7.2f} µs")
        print(f"  ours raw / floor {median['ours, raw'] / median['syscall floor']:.2f}x, "
              f"ours raw / numpy.memmap {median['ours, raw'] / median['numpy.memmap']:.3f}x, "
              f"ours .npy / np.load {median['ours, .npy'] / median['np.load(mmap_mode=r)']:.3f}x")
    raw.unlink()
    npy.unlink()


if __name__ == "__main__":
    main()
