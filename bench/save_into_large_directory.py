"""Saving a small array into directories of growing size: ours against tofile and np.save.

    python bench/save_into_large_directory.py [--entries 0,1000,10000,50000] [--repeat 101]
                                              [--dir /var/tmp/...]

Every save of mmap_array replaces its file atomically, and a successful one removes the
temporaries that writers killed mid-save left beside it. Finding those means listing the
directory, whose cost grows with its entries; this shows what a save costs as the
directory fills (a dataset written as many small files), interleaved in shuffled rounds:

* ``mmap_array.write_binary`` and ``mmap_array.save`` of a 1 KB array;
* ``ndarray.tofile`` and ``np.save`` of the same array (in place, not atomic).

Prints medians per directory size and ours / NumPy's.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import mmap_array


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", default="0,1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=101)
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args()

    Path(args.dir).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="mmap_array-save-dir-", dir=args.dir))
    values = np.arange(128, dtype=np.float64)  # 1 KB
    ways: dict[str, Callable[[], None]] = {
        "mmap_array.write_binary": lambda: mmap_array.write_binary(folder / "ours.bin", values),
        "ndarray.tofile": lambda: values.tofile(folder / "numpy.bin"),
        "mmap_array.save": lambda: mmap_array.save(folder / "ours.npy", values),
        "np.save": lambda: np.save(folder / "numpy.npy", values),
    }
    made = 0
    try:
        print(f"saves of a 1 KB array into a directory of N other files, medians of {args.repeat}")
        for entries in (int(text) for text in args.entries.split(",")):
            while made < entries:
                (folder / f"other-{made:07d}").touch()
                made += 1
            times: dict[str, list[float]] = {way: [] for way in ways}
            order = list(ways)
            shuffler = random.Random(entries)
            for _ in range(args.repeat):
                shuffler.shuffle(order)
                for way in order:
                    start = time.perf_counter()
                    ways[way]()
                    times[way].append(time.perf_counter() - start)
            if not np.array_equal(np.fromfile(folder / "ours.bin"), values) or not np.array_equal(
                    np.load(folder / "ours.npy"), values):
                raise SystemExit("a save wrote other values")
            median = {way: statistics.median(values) for way, values in times.items()}
            print(f"\nN = {entries:,}:")
            for way, seconds in median.items():
                print(f"  {way:<24} {seconds * 1e6:8.1f} µs")
            print(f"  write_binary / tofile {median['mmap_array.write_binary'] / median['ndarray.tofile']:.2f}x, "
                  f"save / np.save {median['mmap_array.save'] / median['np.save']:.2f}x")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
